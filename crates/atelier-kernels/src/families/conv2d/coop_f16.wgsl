// coop_f16.wgsl: variant `coop_f16`, the implicit-GEMM convolution on the GPU's matrix units
// (tensor cores) through wgpu's experimental cooperative matrices: f16 inputs, f32
// accumulation. Forward and backward-data (which is also conv_transpose2d's forward);
// backward-weight stays in fp32 (`coop.rs` says why). Joined after conv_gather.wgsl (Params,
// tile numbering, image bounds, stride phases); the same GEMMs, layouts, split-K slices and
// bounds as the igemm template (igemm.wgsl), with simpler staging: read that file for the
// geometry, this one for the matrix units.
//
//   entry point          GEMM out[M][N]                    reduction j
//   coop_forward         N*P*Q x K                         (c, r, s)       x@1 weight@2 bias@3 y@4
//   coop_backward_data   per stride phase N*⌈H/sh⌉*⌈W/sw⌉ x C, (k, tr, ts)  gy@1 weight@2 bias@3 gx@4
//
// A workgroup computes a 64x64 tile of out as 4x4 fragments of 16x16 (`coop_mat16x16`). It
// has four subgroups of SG invocations (SG: the adapter's one subgroup size, set by the
// launcher); subgroup `strip` = lid / SG owns the fragments of rows 16*strip .. +15, four
// f32 accumulators. Per step of BK = 16 along the reduction every invocation gathers its
// share of the A (64 x 16) and B (16 x 64) tiles from global f32 memory, rounds them to f16
// into workgroup memory, and each subgroup multiplies one A fragment by four B fragments.
// At the end the accumulators go through workgroup memory (as f32) so the stores follow the
// output's layout, with the same bounds and split-K slices as igemm.

enable f16;
enable wgpu_cooperative_matrix;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
// the adapter's subgroup size (the launcher checks that it has one fixed size)
override SG: u32 = 32u;
override THREADS: u32 = 4u * SG;
// input channels (not `C`: that is the accumulator role of coop_mat16x16<f32, C>)
override CIN: u32 = 1u;
override R: u32 = 1u;
override S: u32 = 1u;
override SH: u32 = 1u;
override SW: u32 = 1u;
override PH: u32 = 0u;
override PW: u32 = 0u;
override DH: u32 = 1u;
override DW: u32 = 1u;
override CRS: u32 = CIN * R * S;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;

// A as [m][kk] (row-major, stride BK), B as [kk][n] (row-major, stride BN), the output tile
// as [m][n] (row-major, stride BN)
var<workgroup> a_tile: array<f16, BM * BK>;
var<workgroup> b_tile: array<f16, BK * BN>;
var<workgroup> c_tile: array<f32, BM * BN>;

fn tiles_of(gemm_m: u32, gemm_n: u32) -> u32 {
    return ((gemm_m + BM - 1u) / BM) * ((gemm_n + BN - 1u) / BN);
}

// ---- forward: A[m][j] = x[n, c, p*SH - PH + r*DH, q*SW - PW + s*DW], B[j][col] = weight[col][j]

fn forward_a(m: u32, j: u32, j_end: u32, gemm_m: u32) -> f32 {
    if m >= gemm_m || j >= j_end {
        return 0.0;
    }
    let q = m % prm.q;
    let p = (m / prm.q) % prm.p;
    let n = m / (prm.q * prm.p);
    let c = j / (R * S);
    let r = (j / S) % R;
    let s = j % S;
    let ih = i32(p * SH + r * DH) - i32(PH);
    let iw = i32(q * SW + s * DW) - i32(PW);
    if !in_image(ih, iw) {
        return 0.0;
    }
    return x[((n * CIN + c) * prm.h + u32(ih)) * prm.w + u32(iw)];
}

fn forward_b(col: u32, j: u32, j_end: u32) -> f32 {
    if col < prm.k && j < j_end {
        return weight[col * CRS + j];
    }
    return 0.0;
}

fn forward_store(m: u32, col: u32, v: f32, gemm_m: u32, out: u32) {
    if m >= gemm_m || col >= prm.k {
        return;
    }
    let pq = prm.p * prm.q;
    var e = v;
    if prm.has_bias != 0u {
        e += bias[col];
    }
    y[out + ((m / pq) * prm.k + col) * pq + m % pq] = e;
}

@compute @workgroup_size(THREADS)
fn coop_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let strip = lid / SG;
    let gemm_m = prm.n * prm.p * prm.q;
    let tiles = tiles_of(gemm_m, prm.k);
    let t = workgroup_index(wid, nwg);
    let split = t / tiles;
    // a spare workgroup of a folded grid multiplies and stores nothing (no early return: the
    // cooperative-matrix operations must stay in uniform control flow, and naga counts a
    // return that depends on the workgroup as non-uniform)
    let live = split < prm.splits;
    let origin = tile_origin(t % tiles, gemm_m);
    let j_begin = select(CRS, split * prm.split_len, live);
    let j_end = min(j_begin + prm.split_len, CRS);

    // the accumulators of this subgroup's four fragments, named (never an array, so nothing
    // is indexed dynamically); zero
    var acc0 = coop_mat16x16<f32, C>();
    var acc1 = coop_mat16x16<f32, C>();
    var acc2 = coop_mat16x16<f32, C>();
    var acc3 = coop_mat16x16<f32, C>();
    for (var j0 = j_begin; j0 < j_end; j0 += BK) {
        for (var e = lid; e < BM * BK; e += THREADS) {
            a_tile[e] = f16(forward_a(origin.x + e / BK, j0 + e % BK, j_end, gemm_m));
        }
        for (var e = lid; e < BK * BN; e += THREADS) {
            b_tile[e] = f16(forward_b(origin.y + e % BN, j0 + e / BN, j_end));
        }
        workgroupBarrier();
        // this subgroup's 16 rows of A times the four 16-column fragments of B
        let a = coopLoadT<coop_mat16x16<f16, A>>(&a_tile[strip * 16u * BK], BK);
        acc0 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[0u], BN), acc0);
        acc1 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[16u], BN), acc1);
        acc2 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[32u], BN), acc2);
        acc3 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[48u], BN), acc3);
        workgroupBarrier();
    }
    let c_row = strip * 16u * BN;
    coopStoreT(acc0, &c_tile[c_row], BN);
    coopStoreT(acc1, &c_tile[c_row + 16u], BN);
    coopStoreT(acc2, &c_tile[c_row + 32u], BN);
    coopStoreT(acc3, &c_tile[c_row + 48u], BN);
    workgroupBarrier();
    let out = select(0u, split * prm.len, prm.splits > 1u);
    // m fastest: consecutive invocations write consecutive pixels of one channel
    for (var e = lid; live && e < BM * BN; e += THREADS) {
        let row = e % BM;
        let col = e / BM;
        forward_store(origin.x + row, origin.y + col, c_tile[row * BN + col], gemm_m, out);
    }
}

// ---- backward-data, per stride phase (see conv_gather.wgsl's `Phase`):
// A[m][j] = gy[n, k, p0 - tr*p_step, q0 - ts*q_step], B[j][col] = weight[k, col, r(tr), s(ts)]

// Where input pixel m of the phase is: (image, first output row p0, first output column q0).
struct PhasePixel {
    n: u32,
    p0: i32,
    q0: i32,
}

fn phase_pixel(m: u32, ph: Phase, pw: Phase) -> PhasePixel {
    let iw = pw.first_row + (m % pw.rows) * SW;
    let ih = ph.first_row + ((m / pw.rows) % ph.rows) * SH;
    return PhasePixel(m / (pw.rows * ph.rows), first_output(ih, ph, SH, PH, DH),
                      first_output(iw, pw, SW, PW, DW));
}

fn backward_data_a(m: u32, j: u32, j_end: u32, gemm_m: u32, ph: Phase, pw: Phase,
                   ny: u32, nz: u32) -> f32 {
    if m >= gemm_m || j >= j_end {
        return 0.0;
    }
    let px = phase_pixel(m, ph, pw);
    let k = j / (ny * nz);
    let tr = (j / nz) % ny;
    let ts = j % nz;
    let p = px.p0 - i32(tr * (ph.tap_step * DH / SH));
    let q = px.q0 - i32(ts * (pw.tap_step * DW / SW));
    if p >= 0 && p < i32(prm.p) && q >= 0 && q < i32(prm.q) {
        return gy[((px.n * prm.k + k) * prm.p + u32(p)) * prm.q + u32(q)];
    }
    return 0.0;
}

fn backward_data_b(col: u32, j: u32, j_end: u32, ph: Phase, pw: Phase, ny: u32, nz: u32) -> f32 {
    if col >= CIN || j >= j_end {
        return 0.0;
    }
    let k = j / (ny * nz);
    let r = ph.first_tap + ((j / nz) % ny) * ph.tap_step;
    let s = pw.first_tap + (j % nz) * pw.tap_step;
    return weight[((k * CIN + col) * R + r) * S + s];
}

fn backward_data_store(m: u32, col: u32, v: f32, gemm_m: u32, ph: Phase, pw: Phase, out: u32) {
    if m >= gemm_m || col >= CIN {
        return;
    }
    let iw = pw.first_row + (m % pw.rows) * SW;
    let ih = ph.first_row + ((m / pw.rows) % ph.rows) * SH;
    let n = m / (pw.rows * ph.rows);
    var e = v;
    if prm.has_bias != 0u {
        e += bias[col];
    }
    gx[out + ((n * CIN + col) * prm.h + ih) * prm.w + iw] = e;
}

@compute @workgroup_size(THREADS)
fn coop_backward_data(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let strip = lid / SG;
    let rows_h = (prm.h + SH - 1u) / SH;
    let rows_w = (prm.w + SW - 1u) / SW;
    let gemm_m_max = prm.n * rows_h * rows_w;
    let tiles = tiles_of(gemm_m_max, CIN);
    // workgroups: tile fastest, then phase, then slice of the reduction
    let t = workgroup_index(wid, nwg);
    let phases = SH * SW;
    let phase = (t / tiles) % phases;
    let split = t / (tiles * phases);
    // no early returns (see coop_forward): a spare workgroup, or a phase without input rows
    // (stride > H or W), multiplies and stores nothing
    let live = split < prm.splits;
    let origin = tile_origin(t % tiles, gemm_m_max);
    let ph = phase_of(phase / SW, prm.h, R, SH, PH, DH);
    let pw = phase_of(phase % SW, prm.w, S, SW, PW, DW);
    let gemm_m = prm.n * ph.rows * pw.rows;
    let gemm_k = select(0u, prm.k * ph.taps * pw.taps, live && gemm_m > 0u);
    let j_begin = min(split * prm.split_len, gemm_k);
    let j_end = min(j_begin + prm.split_len, gemm_k);
    // (k, tr, ts) with tr < ph.taps, ts < pw.taps (at least 1: a phase without taps sums
    // nothing and stores its bias)
    let ny = max(ph.taps, 1u);
    let nz = max(pw.taps, 1u);

    // the accumulators of this subgroup's four fragments, named (never an array, so nothing
    // is indexed dynamically); zero
    var acc0 = coop_mat16x16<f32, C>();
    var acc1 = coop_mat16x16<f32, C>();
    var acc2 = coop_mat16x16<f32, C>();
    var acc3 = coop_mat16x16<f32, C>();
    for (var j0 = j_begin; j0 < j_end; j0 += BK) {
        for (var e = lid; e < BM * BK; e += THREADS) {
            let v = backward_data_a(origin.x + e / BK, j0 + e % BK, j_end, gemm_m, ph, pw, ny, nz);
            a_tile[e] = f16(v);
        }
        for (var e = lid; e < BK * BN; e += THREADS) {
            b_tile[e] = f16(backward_data_b(origin.y + e % BN, j0 + e / BN, j_end, ph, pw, ny, nz));
        }
        workgroupBarrier();
        // this subgroup's 16 rows of A times the four 16-column fragments of B
        let a = coopLoadT<coop_mat16x16<f16, A>>(&a_tile[strip * 16u * BK], BK);
        acc0 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[0u], BN), acc0);
        acc1 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[16u], BN), acc1);
        acc2 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[32u], BN), acc2);
        acc3 = coopMultiplyAdd(a, coopLoadT<coop_mat16x16<f16, B>>(&b_tile[48u], BN), acc3);
        workgroupBarrier();
    }
    let c_row = strip * 16u * BN;
    coopStoreT(acc0, &c_tile[c_row], BN);
    coopStoreT(acc1, &c_tile[c_row + 16u], BN);
    coopStoreT(acc2, &c_tile[c_row + 32u], BN);
    coopStoreT(acc3, &c_tile[c_row + 48u], BN);
    workgroupBarrier();
    let out = select(0u, split * prm.len, prm.splits > 1u);
    for (var e = lid; live && e < BM * BN; e += THREADS) {
        let row = e % BM;
        let col = e / BM;
        backward_data_store(origin.x + row, origin.y + col, c_tile[row * BN + col], gemm_m, ph,
                            pw, out);
    }
}
