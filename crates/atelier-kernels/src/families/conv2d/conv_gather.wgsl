// conv_gather.wgsl: what the implicit-GEMM convolutions share (implicit_gemm.wgsl, the igemm
// template, skinny.wgsl and coop_f16.wgsl are each joined after this file): the Params
// uniform, the tile numbering, the image bounds test, backward-data's stride phases and the
// division-free walk of a reduction index. The including file declares BM (and BN) and its
// bindings 1..4.

struct Params {
    n: u32, c: u32, h: u32, w: u32,
    k: u32, r: u32, s: u32, p: u32,
    q: u32, stride_h: u32, stride_w: u32, pad_h: u32,
    pad_w: u32, dil_h: u32, dil_w: u32, has_bias: u32,
    // split-K: split_len reduction elements per slice, `splits` slices, `len` elements of the
    // output (the slices' stride in the partial sums)
    split_len: u32, splits: u32, len: u32, _pad: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;

fn workgroup_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}

// First row and column of tile `t` (numbered M-fastest) of an M x N output.
fn tile_origin(t: u32, gemm_m: u32) -> vec2<u32> {
    let tiles_m = (gemm_m + BM - 1u) / BM;
    return vec2<u32>((t % tiles_m) * BM, (t / tiles_m) * BN);
}

fn in_image(ih: i32, iw: i32) -> bool {
    return ih >= 0 && ih < i32(prm.h) && iw >= 0 && iw < i32(prm.w);
}

// Stride phases of backward-data. Along one axis, input row ih is reached only by the taps r
// with (ih + pad - r*dil) divisible by the stride, that is r*dil ≡ ih + pad (mod stride): the
// input rows of one phase (ih + pad ≡ phase) share the same taps, an arithmetic progression
// r = first_tap + t*tap_step. Splitting the rows by phase turns the sparse reduction over
// all (k, r, s) (most of it skipped when stride > 1) into a dense one per phase, as short as
// the taps that really land: a 4x4 kernel at stride 2 reduces over K*2*2, not K*4*4.
struct Phase {
    first_row: u32, // first input row of this phase
    rows: u32,      // input rows in it
    first_tap: u32, // first tap r that lands on them
    taps: u32,      // how many do
    tap_step: u32,  // the distance between two of them
}

fn phase_of(phase: u32, len: u32, taps: u32, stride: u32, pad: u32, dil: u32) -> Phase {
    var ph: Phase;
    ph.first_row = (phase + stride - pad % stride) % stride;
    ph.rows = select(0u, (len - ph.first_row + stride - 1u) / stride, ph.first_row < len);
    // the taps solve r*dil = phase (mod stride); they repeat every stride / gcd(dil, stride)
    ph.tap_step = stride;
    for (var d = 1u; d < stride; d++) {
        if (d * dil) % stride == 0u {
            ph.tap_step = d;
            break;
        }
    }
    ph.first_tap = taps;
    for (var r = 0u; r < min(taps, ph.tap_step); r++) {
        if (r * dil) % stride == phase {
            ph.first_tap = r;
            break;
        }
    }
    ph.taps = select(0u, (taps - 1u - ph.first_tap) / ph.tap_step + 1u, ph.first_tap < taps);
    return ph;
}

// The output row that tap `first_tap` reads input row `i` from, when the tap has one (the
// tap t of the phase reads row o - t * tap_step * dil / stride); may be negative.
fn first_output(i: u32, ph: Phase, stride: u32, pad: u32, dil: u32) -> i32 {
    let scaled = i32(i + pad) - i32(ph.first_tap * dil);
    // exact: scaled is a multiple of the stride; a negative one reaches no output at all
    return select(-1 - i32(1u << 30u), scaled / i32(stride), scaled >= 0);
}

// The reduction index j walked as a mixed-radix (hi, mid, lo): (c, r, s), (k, tr, ts) or
// (n, p, q). The K loops of igemm and skinny step it with `walk_add` and never divide.
// The mixed-radix index (hi, mid, lo) with digits mid < ny and lo < nz, plus a step d given
// the same way (d.y < ny, d.z < nz): additions and one carry per digit, no division.
fn walk_add(t: vec3<u32>, d: vec3<u32>, ny: u32, nz: u32) -> vec3<u32> {
    var o = t + d;
    if o.z >= nz {
        o.z -= nz;
        o.y += 1u;
    }
    if o.y >= ny {
        o.y -= ny;
        o.x += 1u;
    }
    return o;
}

// j as (hi, mid, lo): outside the K loops only (it divides).
fn walk_of(j: u32, ny: u32, nz: u32) -> vec3<u32> {
    return vec3<u32>(j / (ny * nz), (j / nz) % ny, j % nz);
}
