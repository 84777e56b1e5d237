// skinny.wgsl: conv2d's two variants for skinny matrix products (`skinny.rs` has the design),
// joined after conv_gather.wgsl (Params, workgroup numbering, image bounds, stride phases,
// the walk of the reduction index).
//
//   entry point            GEMM out[M][N]                                reduction j
//   skinny_forward         N*P*Q x K, K <= 4                             (c, r, s)
//     x@1 weight@2 bias@3 y@4
//   skinny_backward_data   per stride phase N*⌈H/sh⌉*⌈W/sw⌉ x C, C <= 4  (k, tr, ts)
//     gy@1 weight@2 bias@3 gx@4
//   split_dot_forward      one element of y per workgroup and slice      (c, r, s)
//     x@1 weight@2 bias@3 y@4
//
// Both split their reduction like the igemm variants: workgroup t computes tile t % tiles (after
// the phase, for backward-data) of slice t / tiles and, when there are several slices, writes
// its partial sums in the output's layout at slice * len; igemm_sum_splits (igemm.wgsl) adds
// them.
//
// The geometry is override constants and the reduction index j is walked (adds and carries):
// no division or modulo in a K loop (spirv_check.rs checks it).

override C: u32 = 1u;
override R: u32 = 1u;
override S: u32 = 1u;
override SH: u32 = 1u;
override SW: u32 = 1u;
override PH: u32 = 0u;
override PW: u32 = 0u;
override DH: u32 = 1u;
override DW: u32 = 1u;
override CRS: u32 = C * R * S;

const THREADS: u32 = 256u;
// skinny_n: rows per invocation (strided by THREADS, so neighbouring invocations read
// neighbouring pixels), rows and columns per workgroup (conv_gather.wgsl's tile numbering)
const RM: u32 = 4u;
const BM: u32 = THREADS * RM;
const BN: u32 = 4u;
// reduction elements staged per step: one weight element per invocation
const BK: u32 = THREADS / BN;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;

// skinny_n: BK rows of the weight operand, its (at most 4) columns as one vec4
var<workgroup> b_tile: array<vec4<f32>, BK>;
// split_dot: each invocation's share of the dot product, summed as a tree
var<workgroup> shares: array<f32, THREADS>;


// One row of A (an output pixel of forward, an input pixel of a backward-data phase): where
// its gathers start, and whether it exists.
struct Row {
    ok: bool,
    base: u32,
    h0: i32,
    w0: i32,
}

// ---- forward: A[m][j] = x[n, c, p*SH - PH + r*DH, q*SW - PW + s*DW], B[j][col] = weight[col][j]

fn forward_row(m: u32, gemm_m: u32) -> Row {
    let q = m % prm.q;
    let p = (m / prm.q) % prm.p;
    let n = m / (prm.q * prm.p);
    return Row(m < gemm_m, n * C * prm.h * prm.w, i32(p * SH) - i32(PH), i32(q * SW) - i32(PW));
}

fn forward_a(row: Row, crs: vec3<u32>) -> f32 {
    let ih = row.h0 + i32(crs.y * DH);
    let iw = row.w0 + i32(crs.z * DW);
    if row.ok && in_image(ih, iw) {
        return x[row.base + (crs.x * prm.h + u32(ih)) * prm.w + u32(iw)];
    }
    return 0.0;
}

fn forward_store(m: u32, v: vec4<f32>, gemm_m: u32, out: u32) {
    if m >= gemm_m {
        return;
    }
    let pq = prm.p * prm.q;
    let at = out + (m / pq) * prm.k * pq + m % pq;
    for (var i = 0u; i < min(prm.k, 4u); i++) {
        var e = v[i];
        if prm.has_bias != 0u {
            e += bias[i];
        }
        y[at + i * pq] = e;
    }
}

@compute @workgroup_size(THREADS)
fn skinny_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let gemm_m = prm.n * prm.p * prm.q;
    let tiles = (gemm_m + BM - 1u) / BM;
    let t = workgroup_index(wid, nwg);
    let split = t / tiles;
    if split >= prm.splits {
        return; // a spare workgroup of a folded grid
    }
    let m0 = (t % tiles) * BM + lid;
    let j_begin = split * prm.split_len;
    let j_end = min(j_begin + prm.split_len, CRS);
    let row0 = forward_row(m0, gemm_m);
    let row1 = forward_row(m0 + THREADS, gemm_m);
    let row2 = forward_row(m0 + 2u * THREADS, gemm_m);
    let row3 = forward_row(m0 + 3u * THREADS, gemm_m);
    // staging: this invocation stages weight[b_col][j0 + b_kk] (contiguous along j)
    let b_kk = lid >> 2u;
    let b_col = lid & 3u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    // (c, r, s) of the reduction element being multiplied, one step per element
    var crs = walk_of(j_begin, R, S);
    let one = vec3<u32>(0u, 0u, 1u);
    for (var j0 = j_begin; j0 < j_end; j0 += BK) {
        var b = 0.0;
        if b_col < prm.k && j0 + b_kk < j_end {
            b = weight[b_col * CRS + j0 + b_kk];
        }
        b_tile[b_kk][b_col] = b;
        workgroupBarrier();
        let len = min(BK, j_end - j0);
        for (var kk = 0u; kk < len; kk++) {
            let bv = b_tile[kk];
            acc0 = fma(vec4<f32>(forward_a(row0, crs)), bv, acc0);
            acc1 = fma(vec4<f32>(forward_a(row1, crs)), bv, acc1);
            acc2 = fma(vec4<f32>(forward_a(row2, crs)), bv, acc2);
            acc3 = fma(vec4<f32>(forward_a(row3, crs)), bv, acc3);
            crs = walk_add(crs, one, R, S);
        }
        workgroupBarrier();
    }
    let out = select(0u, split * prm.len, prm.splits > 1u);
    forward_store(m0, acc0, gemm_m, out);
    forward_store(m0 + THREADS, acc1, gemm_m, out);
    forward_store(m0 + 2u * THREADS, acc2, gemm_m, out);
    forward_store(m0 + 3u * THREADS, acc3, gemm_m, out);
}

// ---- backward-data, per stride phase (see conv_gather.wgsl's `Phase`):
// A[m][j] = gy[n, k, p0 - tr*p_step, q0 - ts*q_step], B[j][col] = weight[k, col, r(tr), s(ts)]

fn backward_data_row(m: u32, gemm_m: u32, ph: Phase, pw: Phase) -> Row {
    let iw = pw.first_row + (m % pw.rows) * SW;
    let ih = ph.first_row + ((m / pw.rows) % ph.rows) * SH;
    let n = m / (pw.rows * ph.rows);
    let p0 = first_output(ih, ph, SH, PH, DH);
    let q0 = first_output(iw, pw, SW, PW, DW);
    return Row(m < gemm_m, n * prm.k * prm.p * prm.q, p0, q0);
}

// ktt: (k, tr, ts); steps: how far apart in gy two taps of the phase read
fn backward_data_a(row: Row, steps: vec2<i32>, ktt: vec3<u32>) -> f32 {
    let p = row.h0 - i32(ktt.y) * steps.x;
    let q = row.w0 - i32(ktt.z) * steps.y;
    if row.ok && p >= 0 && p < i32(prm.p) && q >= 0 && q < i32(prm.q) {
        return gy[row.base + (ktt.x * prm.p + u32(p)) * prm.q + u32(q)];
    }
    return 0.0;
}

fn backward_data_store(m: u32, v: vec4<f32>, gemm_m: u32, ph: Phase, pw: Phase, out: u32) {
    if m >= gemm_m {
        return;
    }
    let iw = pw.first_row + (m % pw.rows) * SW;
    let ih = ph.first_row + ((m / pw.rows) % ph.rows) * SH;
    let n = m / (pw.rows * ph.rows);
    let hw = prm.h * prm.w;
    let at = out + n * C * hw + ih * prm.w + iw;
    for (var i = 0u; i < min(C, 4u); i++) {
        var e = v[i];
        if prm.has_bias != 0u {
            e += bias[i];
        }
        gx[at + i * hw] = e;
    }
}

@compute @workgroup_size(THREADS)
fn skinny_backward_data(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let gemm_m_max = prm.n * ((prm.h + SH - 1u) / SH) * ((prm.w + SW - 1u) / SW);
    let tiles = (gemm_m_max + BM - 1u) / BM;
    // workgroups: tile fastest, then phase, then slice of the reduction
    let t = workgroup_index(wid, nwg);
    let phases = SH * SW;
    let phase = (t / tiles) % phases;
    let split = t / (tiles * phases);
    if split >= prm.splits {
        return;
    }
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
    let steps = vec2<i32>(i32(ph.tap_step * DH / SH), i32(pw.tap_step * DW / SW));
    let m0 = (t % tiles) * BM + lid;
    let row0 = backward_data_row(m0, gemm_m, ph, pw);
    let row1 = backward_data_row(m0 + THREADS, gemm_m, ph, pw);
    let row2 = backward_data_row(m0 + 2u * THREADS, gemm_m, ph, pw);
    let row3 = backward_data_row(m0 + 3u * THREADS, gemm_m, ph, pw);
    // staging: this invocation stages weight[k, b_col, r, s] at (k, tr, ts) = b_walk
    let b_kk = lid >> 2u;
    let b_col = lid & 3u;
    var b_walk = walk_of(j_begin + b_kk, ny, nz);
    let bk_step = walk_of(BK, ny, nz);
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var ktt = walk_of(j_begin, ny, nz);
    let one = vec3<u32>(0u, 0u, 1u);
    for (var j0 = j_begin; j0 < j_end; j0 += BK) {
        var b = 0.0;
        if b_col < C && j0 + b_kk < j_end {
            let r = ph.first_tap + b_walk.y * ph.tap_step;
            let s = pw.first_tap + b_walk.z * pw.tap_step;
            b = weight[((b_walk.x * C + b_col) * R + r) * S + s];
        }
        b_tile[b_kk][b_col] = b;
        b_walk = walk_add(b_walk, bk_step, ny, nz);
        workgroupBarrier();
        let len = min(BK, j_end - j0);
        for (var kk = 0u; kk < len; kk++) {
            let bv = b_tile[kk];
            acc0 = fma(vec4<f32>(backward_data_a(row0, steps, ktt)), bv, acc0);
            acc1 = fma(vec4<f32>(backward_data_a(row1, steps, ktt)), bv, acc1);
            acc2 = fma(vec4<f32>(backward_data_a(row2, steps, ktt)), bv, acc2);
            acc3 = fma(vec4<f32>(backward_data_a(row3, steps, ktt)), bv, acc3);
            ktt = walk_add(ktt, one, ny, nz);
        }
        workgroupBarrier();
    }
    let out = select(0u, split * prm.len, prm.splits > 1u);
    backward_data_store(m0, acc0, gemm_m, ph, pw, out);
    backward_data_store(m0 + THREADS, acc1, gemm_m, ph, pw, out);
    backward_data_store(m0 + 2u * THREADS, acc2, gemm_m, ph, pw, out);
    backward_data_store(m0 + 3u * THREADS, acc3, gemm_m, ph, pw, out);
}

// ---- split_dot: forward, one element of y (n, col, p, q) per workgroup and slice; the 256
// invocations take every 256th reduction element of the slice, then sum their shares as a tree

@compute @workgroup_size(THREADS)
fn split_dot_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let outputs = prm.n * prm.k * prm.p * prm.q;
    let t = workgroup_index(wid, nwg);
    let split = t / outputs;
    if split >= prm.splits {
        return;
    }
    let e = t % outputs;
    let pq = prm.p * prm.q;
    let col = (e / pq) % prm.k;
    let m = (e / (prm.k * pq)) * pq + e % pq;
    let row = forward_row(m, prm.n * pq);
    let j_begin = split * prm.split_len;
    let j_end = min(j_begin + prm.split_len, CRS);
    var crs = walk_of(j_begin + lid, R, S);
    let step = walk_of(THREADS, R, S);
    var acc = 0.0;
    for (var j = j_begin + lid; j < j_end; j += THREADS) {
        acc = fma(forward_a(row, crs), weight[col * CRS + j], acc);
        crs = walk_add(crs, step, R, S);
    }
    shares[lid] = acc;
    workgroupBarrier();
    for (var width = THREADS / 2u; width > 0u; width >>= 1u) {
        if lid < width {
            shares[lid] += shares[lid + width];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        var v = shares[0];
        if prm.has_bias != 0u {
            v += bias[col];
        }
        y[select(0u, split * prm.len, prm.splits > 1u) + e] = v;
    }
}
