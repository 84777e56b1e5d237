// igemm.wgsl: the TEMPLATE of the `igemm*` variants, an implicit-GEMM convolution core laid
// out like CUTLASS's SIMT sgemm. `igemm.rs` fills the holes (NAMES in double braces: the tile sizes and the
// unrolled code) once per variant; read `igemm.rs` for the design and this file for the
// arithmetic. Same layouts as implicit_gemm.wgsl; joined after conv_gather.wgsl (Params, tile
// numbering, stride phases), like it.
//
//   entry point        GEMM out[M][N]          reduction j     A (m-major)     B
//   igemm_forward      N*P*Q x K               (c, r, s)       im2col(x)       weight^T (k-major)
//     x@1 weight@2 bias@3 y@4
//   igemm_backward_data  per stride phase: N*⌈H/sh⌉*⌈W/sw⌉ x C, j = (k, tr, ts) over the taps
//     gy@1 weight@2 bias@3 gx@4                             gy gathered     weight (m-major)
//   igemm_backward_weight  K x C*R*S           (n, p, q)       gy (k-major)    im2col(x) (k-major)
//     x@1 gy@2 gw@3
//   igemm_sum_splits   out[i] = sum over splits of partials[s][i] (+ bias[(i / plane) % channels])
//     partials@1 bias@2 out@3
//
// Every direction may split its reduction (split-K): workgroup t computes tile t % tiles of
// slice t / tiles (after the phase, for backward-data) and, when there are several slices,
// writes its partial sums in the output's layout at slice * len; igemm_sum_splits adds them.
//
// 256 invocations; invocation (tx, ty) = (lid % 16, lid / 16) owns FM x FN fragments of 4x4
// outputs: rows f*64 + 4*tx + 0..3 and columns g*64 + 4*ty + 0..3 (strided fragments, so a
// warp's vec4 reads of a staged row are consecutive). Workgroup memory holds two stages of
// the A and B tiles, [stage][kk][BM] and [stage][kk][BN] in vec4s, with the vec4 index XORed
// by (kk & 7): the swizzle that keeps both the stores (along m, or along kk) and the vec4 loads
// free of bank conflicts without padding.
//
// The epilogue (generated: igemm.rs, `epilogue`) writes each 64x64 fragment of the
// accumulators into the idle staging tiles and reads it back in the order the output is
// contiguous in (pixels for forward and backward-data, (c, r, s) for backward-weight), so a
// warp's global stores are consecutive addresses; `*_at` and `*_put` below place each value.
//
// The conv geometry (C, R, S, strides, padding, dilation) is override constants: per shape a
// pipeline, in which the compiler sees every divisor. In the K loop the reduction index j is
// never divided: each staged element's (c, r, s), (k, tr, ts) or (n, p, q) is walked from
// the previous one by `walk_add` (adds with one carry per digit).

{{CONSTANTS}}
override C: u32 = 1u;
override R: u32 = 1u;
override S: u32 = 1u;
override SH: u32 = 1u;
override SW: u32 = 1u;
override PH: u32 = 0u;
override PW: u32 = 0u;
override DH: u32 = 1u;
override DW: u32 = 1u;
override RS: u32 = R * S;
override CRS: u32 = C * R * S;

const BK: u32 = 16u;
const THREADS: u32 = 256u;
// A (B) staging along m (n): invocation lid stages column lid % BM of rows
// lid / BM + A_ROWS * i
const A_ROWS: u32 = THREADS / BM;
const B_ROWS: u32 = THREADS / BN;
// an output row past the GEMM (the epilogue skips it)
const NO_ROW: u32 = 0xffffffffu;

// Params, prm, workgroup_index, tile_origin, in_image, Phase, walk_add, walk_of:
// conv_gather.wgsl

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
@group(0) @binding(2) var<storage, read> gy_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> gw: array<f32>;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> sum_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> sum_out: array<f32>;

var<workgroup> a_tile: array<vec4<f32>, 2u * BK * BM / 4u>;
var<workgroup> b_tile: array<vec4<f32>, 2u * BK * BN / 4u>;

// Element (kk, col) of stage `stage` of a tile `width` wide, as (vec4 index, lane).
fn swizzled(stage: u32, kk: u32, col: u32, width: u32) -> vec2<u32> {
    let row = (stage * BK + kk) * (width >> 2u);
    return vec2<u32>(row + ((col >> 2u) ^ (kk & 7u)), col & 3u);
}

fn put_a(stage: u32, kk: u32, col: u32, v: f32) {
    let at = swizzled(stage, kk, col, BM);
    a_tile[at.x][at.y] = v;
}

fn put_b(stage: u32, kk: u32, col: u32, v: f32) {
    let at = swizzled(stage, kk, col, BN);
    b_tile[at.x][at.y] = v;
}


fn tiles_of(gemm_m: u32, gemm_n: u32) -> u32 {
    return ((gemm_m + BM - 1u) / BM) * ((gemm_n + BN - 1u) / BN);
}

// ---- forward: A[m][j] = x[n, c, p*SH - PH + r*DH, q*SW - PW + s*DW], B[j][col] = weight[col][j]

fn forward_a(ok: bool, x_base: u32, h0: i32, w0: i32, crs: vec3<u32>) -> f32 {
    let ih = h0 + i32(crs.y * DH);
    let iw = w0 + i32(crs.z * DW);
    if ok && in_image(ih, iw) {
        return x[x_base + (crs.x * prm.h + u32(ih)) * prm.w + u32(iw)];
    }
    return 0.0;
}

fn forward_b(col: u32, j: u32, j_end: u32) -> f32 {
    if col < prm.k && j < j_end {
        return weight[col * CRS + j];
    }
    return 0.0;
}

// Where output pixel m of the GEMM starts in y (channel 0, at the slice `out`), or NO_ROW.
fn forward_at(m: u32, gemm_m: u32, out: u32) -> u32 {
    if m >= gemm_m {
        return NO_ROW;
    }
    let pq = prm.p * prm.q;
    return out + (m / pq) * prm.k * pq + m % pq;
}

fn forward_put(at: u32, col: u32, v: f32) {
    if at != NO_ROW && col < prm.k {
        var e = v;
        if prm.has_bias != 0u {
            e += bias[col];
        }
        y[at + col * prm.p * prm.q] = e;
    }
}

@compute @workgroup_size(THREADS)
fn igemm_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let tx = lid & 15u;
    let ty = lid >> 4u;
    let gemm_m = prm.n * prm.p * prm.q;
    let tiles = tiles_of(gemm_m, prm.k);
    let t = workgroup_index(wid, nwg);
    let split = t / tiles;
    if split >= prm.splits {
        return; // a spare workgroup of a folded grid
    }
    let origin = tile_origin(t % tiles, gemm_m);
    let j_begin = split * prm.split_len;
    let j_end = min(j_begin + prm.split_len, CRS);

    // A: this invocation stages output pixel a_m (fixed) at rows a_kk + A_ROWS * i
    let a_col = lid % BM;
    let a_kk = lid / BM;
    let a_m = origin.x + a_col;
    let a_q = a_m % prm.q;
    let a_p = (a_m / prm.q) % prm.p;
    let a_n = a_m / (prm.q * prm.p);
    let h0 = i32(a_p * SH) - i32(PH);
    let w0 = i32(a_q * SW) - i32(PW);
    let x_base = a_n * C * prm.h * prm.w;
    let a_ok = a_m < gemm_m;
    // (c, r, s) of this invocation's first staged row, and the steps to the next row and tile
    var a_walk = walk_of(j_begin + a_kk, R, S);
    let a_row_step = walk_of(A_ROWS, R, S);
    let bk_step = walk_of(BK, R, S);
    // B: rows b_kk and b_kk + 8 (reduction), columns b_col + 32 * t (output channels)
    let b_kk = lid & 7u;
    let b_put = lid >> 3u;
    let b_col = origin.y + b_put;

{{FORWARD_DECLARE}}
    var j0 = j_begin;
    let steps = (j_end - j_begin + BK - 1u) / BK;
    var stage = 0u;
{{FORWARD_LOAD}}
{{FORWARD_PUT}}
    workgroupBarrier();
    for (var step = 0u; step < steps; step++) {
        // fetch the next tile into registers while this one is multiplied
        j0 += BK;
        a_walk = walk_add(a_walk, bk_step, R, S);
{{FORWARD_LOAD}}
{{MULTIPLY}}
        stage ^= 1u;
{{FORWARD_PUT}}
        workgroupBarrier();
    }
    let out = select(0u, split * prm.len, prm.splits > 1u);
{{EPILOGUE_ALONG_M:forward_at(ROW, gemm_m, out)|forward_put(AT, COL, VALUE)}}
}

// ---- backward-data, per stride phase (see conv_gather.wgsl's `Phase`):
// A[m][j] = gy[n, k, p0 - tr*p_step, q0 - ts*q_step], B[j][col] = weight[k, col, r(tr), s(ts)]

fn backward_data_a(ok: bool, gy_base: u32, p0: i32, q0: i32, steps: vec2<i32>, ktt: vec3<u32>) -> f32 {
    let p = p0 - i32(ktt.y) * steps.x;
    let q = q0 - i32(ktt.z) * steps.y;
    if ok && p >= 0 && p < i32(prm.p) && q >= 0 && q < i32(prm.q) {
        return gy[gy_base + (ktt.x * prm.p + u32(p)) * prm.q + u32(q)];
    }
    return 0.0;
}

fn backward_data_b(ok: bool, col: u32, taps: vec4<u32>, ktt: vec3<u32>) -> f32 {
    // taps: (first_tap_h, tap_step_h, first_tap_w, tap_step_w)
    if ok && col < C {
        let r = taps.x + ktt.y * taps.y;
        let s = taps.z + ktt.z * taps.w;
        return weight[((ktt.x * C + col) * R + r) * S + s];
    }
    return 0.0;
}

// Where input pixel m of the phase's GEMM starts in gx (channel 0, at the slice `out`), or
// NO_ROW.
fn backward_data_at(m: u32, gemm_m: u32, ph: Phase, pw: Phase, out: u32) -> u32 {
    if m >= gemm_m {
        return NO_ROW;
    }
    let iw = pw.first_row + (m % pw.rows) * SW;
    let ih = ph.first_row + ((m / pw.rows) % ph.rows) * SH;
    let n = m / (pw.rows * ph.rows);
    return out + n * C * prm.h * prm.w + ih * prm.w + iw;
}

fn backward_data_put(at: u32, col: u32, v: f32) {
    if at != NO_ROW && col < C {
        var e = v;
        if prm.has_bias != 0u {
            e += bias[col];
        }
        gx[at + col * prm.h * prm.w] = e;
    }
}

@compute @workgroup_size(THREADS)
fn igemm_backward_data(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let tx = lid & 15u;
    let ty = lid >> 4u;
    let rows_h = (prm.h + SH - 1u) / SH;
    let rows_w = (prm.w + SW - 1u) / SW;
    let gemm_m_max = prm.n * rows_h * rows_w;
    let tiles = tiles_of(gemm_m_max, C);
    // workgroups: tile fastest, then phase, then slice of the reduction
    let t = workgroup_index(wid, nwg);
    let phases = SH * SW;
    let phase = (t / tiles) % phases;
    let split = t / (tiles * phases);
    if split >= prm.splits {
        return;
    }
    let origin = tile_origin(t % tiles, gemm_m_max);
    let ph = phase_of(phase / SW, prm.h, R, SH, PH, DH);
    let pw = phase_of(phase % SW, prm.w, S, SW, PW, DW);
    let gemm_m = prm.n * ph.rows * pw.rows;
    if gemm_m == 0u {
        return; // a phase with no input rows (stride > H or W)
    }
    let gemm_k = prm.k * ph.taps * pw.taps;
    let j_begin = min(split * prm.split_len, gemm_k);
    let j_end = min(j_begin + prm.split_len, gemm_k);
    // the walk's radices: (k, tr, ts) with tr < ph.taps, ts < pw.taps (at least 1, so a phase
    // without taps walks nothing and stores its bias)
    let ny = max(ph.taps, 1u);
    let nz = max(pw.taps, 1u);
    let out_steps = vec2<i32>(i32(ph.tap_step * DH / SH), i32(pw.tap_step * DW / SW));
    let taps = vec4<u32>(ph.first_tap, ph.tap_step, pw.first_tap, pw.tap_step);

    // A: this invocation stages input pixel a_m (fixed) of the phase
    let a_col = lid % BM;
    let a_kk = lid / BM;
    let a_m = origin.x + a_col;
    let a_iw = pw.first_row + (a_m % pw.rows) * SW;
    let a_ih = ph.first_row + ((a_m / pw.rows) % ph.rows) * SH;
    let a_n = a_m / (pw.rows * ph.rows);
    let p0 = first_output(a_ih, ph, SH, PH, DH);
    let q0 = first_output(a_iw, pw, SW, PW, DW);
    let gy_base = a_n * prm.k * prm.p * prm.q;
    let a_ok = a_m < gemm_m;
    var a_walk = walk_of(j_begin + a_kk, ny, nz);
    let a_row_step = walk_of(A_ROWS, ny, nz);
    // B: this invocation stages input channel b_col (fixed)
    let b_put = lid % BN;
    let b_col = origin.y + b_put;
    let b_kk = lid / BN;
    var b_walk = walk_of(j_begin + b_kk, ny, nz);
    let b_row_step = walk_of(B_ROWS, ny, nz);
    let bk_step = walk_of(BK, ny, nz);

{{BACKWARD_DATA_DECLARE}}
    var j0 = j_begin;
    let steps = (j_end - j_begin + BK - 1u) / BK;
    var stage = 0u;
{{BACKWARD_DATA_LOAD}}
{{BACKWARD_DATA_PUT}}
    workgroupBarrier();
    for (var step = 0u; step < steps; step++) {
        j0 += BK;
        a_walk = walk_add(a_walk, bk_step, ny, nz);
        b_walk = walk_add(b_walk, bk_step, ny, nz);
{{BACKWARD_DATA_LOAD}}
{{MULTIPLY}}
        stage ^= 1u;
{{BACKWARD_DATA_PUT}}
        workgroupBarrier();
    }
    let out = select(0u, split * prm.len, prm.splits > 1u);
{{EPILOGUE_ALONG_M:backward_data_at(ROW, gemm_m, ph, pw, out)|backward_data_put(AT, COL, VALUE)}}
}

// ---- backward-weight: A[row][j] = gy[n, row, p, q], B[j][col] = x[n, c, tap(p, r), tap(q, s)]

fn backward_weight_a(row: u32, ok: bool, npq: vec3<u32>) -> f32 {
    if ok && row < prm.k {
        return gy_w[((npq.x * prm.k + row) * prm.p + npq.y) * prm.q + npq.z];
    }
    return 0.0;
}

// tap: (c * H * W, r * DH, s * DW) of column col, or c past C
fn backward_weight_b(tap: vec3<u32>, ok: bool, npq: vec3<u32>) -> f32 {
    let ih = i32(npq.y * SH + tap.y) - i32(PH);
    let iw = i32(npq.z * SW + tap.z) - i32(PW);
    if ok && tap.x < C * prm.h * prm.w && in_image(ih, iw) {
        return x[npq.x * C * prm.h * prm.w + tap.x + u32(ih) * prm.w + u32(iw)];
    }
    return 0.0;
}

fn weight_tap(col: u32) -> vec3<u32> {
    let crs = walk_of(col, R, S);
    return vec3<u32>(crs.x * prm.h * prm.w, crs.y * DH, crs.z * DW);
}

// Where output channel `row` of gw starts (at the slice `out`), or NO_ROW.
fn backward_weight_at(row: u32, out: u32) -> u32 {
    return select(NO_ROW, out + row * CRS, row < prm.k);
}

fn backward_weight_put(at: u32, col: u32, v: f32) {
    if at != NO_ROW && col < CRS {
        gw[at + col] = v;
    }
}

@compute @workgroup_size(THREADS)
fn igemm_backward_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let tx = lid & 15u;
    let ty = lid >> 4u;
    let gemm_k = prm.n * prm.p * prm.q;
    let tiles = tiles_of(prm.k, CRS);
    let t = workgroup_index(wid, nwg);
    let split = t / tiles;
    if split >= prm.splits {
        return;
    }
    let origin = tile_origin(t % tiles, prm.k);
    let j_begin = split * prm.split_len;
    let j_end = min(j_begin + prm.split_len, gemm_k);

    // A and B both run along j = (n, p, q): this invocation stages rows b_kk and b_kk + 8,
    // columns (lid >> 3) + 32 * i of each tile
    let b_kk = lid & 7u;
    var walk_0 = walk_of(j_begin + b_kk, prm.p, prm.q);
    let half_step = walk_of(8u, prm.p, prm.q);
    let bk_step = walk_of(BK, prm.p, prm.q);
    let b_put = lid >> 3u;
    let a_row = origin.x + b_put;
    let b_col = origin.y + b_put;
{{WEIGHT_TAPS}}

{{BACKWARD_WEIGHT_DECLARE}}
    var j0 = j_begin;
    let steps = (j_end - j_begin + BK - 1u) / BK;
    var stage = 0u;
{{BACKWARD_WEIGHT_LOAD}}
{{BACKWARD_WEIGHT_PUT}}
    workgroupBarrier();
    for (var step = 0u; step < steps; step++) {
        j0 += BK;
        walk_0 = walk_add(walk_0, bk_step, prm.p, prm.q);
{{BACKWARD_WEIGHT_LOAD}}
{{MULTIPLY}}
        stage ^= 1u;
{{BACKWARD_WEIGHT_PUT}}
        workgroupBarrier();
    }
    let out = select(0u, split * prm.len, prm.splits > 1u);
{{EPILOGUE_ALONG_N:backward_weight_at(ROW, out)|backward_weight_put(AT, COL, VALUE)}}
}

// ---- the sum of split-K slices: len = elements of the output, plane and channels (in p
// and k) locate the bias channel of element i

@compute @workgroup_size(THREADS)
fn igemm_sum_splits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid3: vec3<u32>) {
    let i = workgroup_index(wid, nwg) * THREADS + lid3.x;
    if i >= prm.len {
        return;
    }
    var acc = 0.0;
    for (var s = 0u; s < prm.splits; s++) {
        acc += partials[s * prm.len + i];
    }
    if prm.has_bias != 0u {
        acc += sum_bias[(i / prm.p) % prm.k];
    }
    sum_out[i] = acc;
}
