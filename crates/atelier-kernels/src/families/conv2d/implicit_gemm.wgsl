// implicit_gemm.wgsl: 2-D convolution as a matrix product, without materialising
// im2col. Same layouts, Params and bindings as direct.wgsl (the direct variant).
//
// Each direction is a GEMM  out[M][N] = sum_j A[M][j] * B[j][N]  whose operands are read
// straight from the tensors (the im2col matrix exists only as index arithmetic):
//
//   entry point                      M          N          reduction j   A            B
//   forward_implicit_gemm            N*P*Q      K          C*R*S         im2col(x)    weight^T
//     x@1, weight@2, bias@3, y@4     (output pixel, output channel)
//   backward_data_implicit_gemm      N*H*W      C          K*R*S         gy gathered  weight
//     gy@1, weight@2, bias@3, gx@4   (input pixel, input channel), one GEMM per stride phase:
//                                    the input pixels with the same (h + pad_h) mod stride_h
//                                    and (w + pad_w) mod stride_w, which share the taps
//                                    (r, s) that land on them; each phase's reduction runs
//                                    over K and those taps only (K*R*S / (stride_h*stride_w)
//                                    when the strides divide the kernel). See `Phase`.
//   backward_weight_implicit_gemm    K          C*R*S      N*P*Q         gy           im2col(x)
//     x@1, gy@2, gw@3                (output channel, weight element); split-K: the grid's
//                                    workgroups are tiles x `splits` and each sums one slice
//                                    of the reduction into gw_partial[split] (the launcher
//                                    adds the slices with `sum_splits` when there are several)
//   sum_splits                       gw[i] = sum_s gw_partial[s][i]     gw_partial@1, gw@2
//
// One workgroup computes a BM x BN tile of `out`. Per step of BK along the reduction, every
// invocation stages a few elements of the A and B tiles in workgroup memory (zero outside
// the matrices, so any size works), then accumulates a TM x TN register block (TN/4 vec4s
// per row) from vec4 reads of the staged tiles. Global loads stay scalar: the im2col gathers
// and rows of arbitrary length are not 16-byte aligned. THREADS = (BM/TM) * (BN/TN) invocations;
// workgroup memory BK * (BM + BN) * 4 bytes. The launcher keeps THREADS a multiple of BM and of BK
// (each invocation then stages a fixed row of A, or a fixed reduction index, and decodes its
// coordinates once).
//
// TM and TN are constants (they size the accumulator array), so each register block is its
// own shader: this file is compiled together with one that declares them,
//   implicit_gemm_4x4.wgsl  TM = TN = 4, launched with BM = BN = 64, BK = 16
//                                  (variant implicit_gemm: 256 invocations, 8 KiB)
//   implicit_gemm_8x8.wgsl  TM = TN = 8, launched with BM = BN = 128, BK = 8
//                                  (variant implicit_gemm_8x8: 256 invocations, 8 KiB; four
//                                  times the multiply-adds per staged element, for GPUs)
// BM, BN and BK are override constants, set by the launcher (`GemmTiles`).
//
// Tiles are numbered M-fastest, so neighbouring workgroups share a B tile; grids above the
// per-dimension limit are folded into y and z.

override BM: u32 = 64;
override BN: u32 = 64;
override BK: u32 = 16;
override THREADS: u32 = (BM / TM) * (BN / TN);
// vec4s of a register block's row, and of the block
const TN4: u32 = TN / 4u;
const ACC: u32 = TM * TN / 4u;

// Params, prm, workgroup_index, tile_origin, in_image, Phase: conv_gather.wgsl

// forward_implicit_gemm
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// backward_data_implicit_gemm (weight@2 and bias@3 as above)
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
// backward_weight_implicit_gemm (x@1 as above)
@group(0) @binding(2) var<storage, read> gy_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> gw_partial: array<f32>;
// sum_splits: reads the slices backward_weight wrote to gw_partial, writes the gradient
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> gw: array<f32>;

// a_tile[kk][mm] and b_tile[kk][nn], four consecutive mm (nn) per vec4
var<workgroup> a_tile: array<vec4<f32>, BK * BM / 4u>;
var<workgroup> b_tile: array<vec4<f32>, BK * BN / 4u>;

fn set_a(kk: u32, mm: u32, v: f32) {
    let e = kk * BM + mm;
    a_tile[e / 4u][e % 4u] = v;
}

fn set_b(kk: u32, nn: u32, v: f32) {
    let e = kk * BN + nn;
    b_tile[e / 4u][e % 4u] = v;
}

// The register block of invocation `lid`: rows TM*tx .. TM*tx + TM-1 of the tile, columns
// TN*ty .. TN*ty + TN-1. acc[i * TN4 + v][c] holds (row TM*tx + i, column TN*ty + 4*v + c).
fn block_row(lid: u32) -> u32 {
    return (lid % (BM / TM)) * TM;
}

fn block_col(lid: u32) -> u32 {
    return (lid / (BM / TM)) * TN;
}

// acc[(i, j)] += A[row TM*tx + i][kk] * B[kk][column TN*ty + j], over the staged slice: per
// kk, TN/4 vec4s of B, then each vec4 of A (four rows) times all of them.
fn multiply_tiles(lid: u32, acc: ptr<function, array<vec4<f32>, ACC>>) {
    let a0 = block_row(lid) / 4u;
    let b0 = block_col(lid) / 4u;
    for (var kk = 0u; kk < BK; kk++) {
        var b: array<vec4<f32>, TN4>;
        for (var v = 0u; v < TN4; v++) {
            b[v] = b_tile[kk * (BN / 4u) + b0 + v];
        }
        for (var u = 0u; u < TM / 4u; u++) {
            let a = a_tile[kk * (BM / 4u) + a0 + u];
            let row = 4u * u * TN4;
            for (var v = 0u; v < TN4; v++) {
                (*acc)[row + v] += a.x * b[v];
                (*acc)[row + TN4 + v] += a.y * b[v];
                (*acc)[row + 2u * TN4 + v] += a.z * b[v];
                (*acc)[row + 3u * TN4 + v] += a.w * b[v];
            }
        }
    }
}

@compute @workgroup_size(THREADS)
fn forward_implicit_gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let gemm_m = prm.n * prm.p * prm.q;
    let gemm_n = prm.k;
    let gemm_k = prm.c * prm.r * prm.s;
    let rs = prm.r * prm.s;
    let origin = tile_origin(workgroup_index(wid, nwg), gemm_m);

    // A = im2col(x): this invocation stages row a_mm (one output pixel) at every step
    let a_mm = lid % BM;
    let a_m = origin.x + a_mm;
    let a_q = a_m % prm.q;
    let a_p = (a_m / prm.q) % prm.p;
    let a_n = a_m / (prm.q * prm.p);
    let h0 = i32(a_p * prm.stride_h) - i32(prm.pad_h);
    let w0 = i32(a_q * prm.stride_w) - i32(prm.pad_w);
    // B = weight^T: weight is [K][C*R*S], so B[j][col] = weight[col * gemm_k + j]; this
    // invocation stages reduction index b_kk, and neighbours read neighbouring j
    let b_kk = lid % BK;

    var acc: array<vec4<f32>, ACC>;
    for (var k0 = 0u; k0 < gemm_k; k0 += BK) {
        for (var kk = lid / BM; kk < BK; kk += THREADS / BM) {
            let j = k0 + kk;
            var v = 0.0;
            if a_m < gemm_m && j < gemm_k {
                let c = j / rs;
                let r = (j % rs) / prm.s;
                let s = j % prm.s;
                let ih = h0 + i32(r * prm.dil_h);
                let iw = w0 + i32(s * prm.dil_w);
                if in_image(ih, iw) {
                    v = x[((a_n * prm.c + c) * prm.h + u32(ih)) * prm.w + u32(iw)];
                }
            }
            set_a(kk, a_mm, v);
        }
        let jb = k0 + b_kk;
        for (var nn = lid / BK; nn < BN; nn += THREADS / BK) {
            let col = origin.y + nn;
            var v = 0.0;
            if col < gemm_n && jb < gemm_k {
                v = weight[col * gemm_k + jb];
            }
            set_b(b_kk, nn, v);
        }
        workgroupBarrier();
        multiply_tiles(lid, &acc);
        workgroupBarrier();
    }

    let pq = prm.p * prm.q;
    for (var i = 0u; i < TM; i++) {
        let m = origin.x + block_row(lid) + i;
        if m >= gemm_m {
            continue;
        }
        let n = m / pq;
        for (var jj = 0u; jj < TN; jj++) {
            let col = origin.y + block_col(lid) + jj;
            if col < gemm_n {
                var v = acc[i * TN4 + jj / 4u][jj % 4u];
                if prm.has_bias != 0u {
                    v += bias[col];
                }
                y[(n * prm.k + col) * pq + m % pq] = v;
            }
        }
    }
}

@compute @workgroup_size(THREADS)
fn backward_data_implicit_gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                               @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    // workgroups are numbered tile-fastest, then phase (phase_h * stride_w + phase_w)
    let rows_h = (prm.h + prm.stride_h - 1u) / prm.stride_h;
    let rows_w = (prm.w + prm.stride_w - 1u) / prm.stride_w;
    let gemm_m_max = prm.n * rows_h * rows_w; // rows of the largest phase
    let gemm_n = prm.c;
    let tiles = ((gemm_m_max + BM - 1u) / BM) * ((gemm_n + BN - 1u) / BN);
    let t = workgroup_index(wid, nwg);
    let phase = t / tiles;
    if phase >= prm.stride_h * prm.stride_w {
        return; // a spare workgroup of a folded grid
    }
    let origin = tile_origin(t % tiles, gemm_m_max);
    let ph = phase_of(phase / prm.stride_w, prm.h, prm.r, prm.stride_h, prm.pad_h, prm.dil_h);
    let pw = phase_of(phase % prm.stride_w, prm.w, prm.s, prm.stride_w, prm.pad_w, prm.dil_w);
    let gemm_m = prm.n * ph.rows * pw.rows;
    if gemm_m == 0u {
        return; // a phase with no input rows (stride > H or W)
    }
    let gemm_k = prm.k * ph.taps * pw.taps;
    let taps = ph.taps * pw.taps;
    // output rows between two taps of the phase
    let p_step = i32(ph.tap_step * prm.dil_h / prm.stride_h);
    let q_step = i32(pw.tap_step * prm.dil_w / prm.stride_w);

    // A[m][j] = gy[n, k, p, q] for the input pixel m = (n, ih, iw) of this phase and
    // j = (k, tr, ts), the taps r = first_tap + tr*tap_step (and s alike), where (p, q) is the
    // output pixel that tap reads (ih, iw) from; this invocation stages row a_mm at every step
    let a_mm = lid % BM;
    let a_m = origin.x + a_mm;
    let a_iw = pw.first_row + (a_m % pw.rows) * prm.stride_w;
    let a_ih = ph.first_row + ((a_m / pw.rows) % ph.rows) * prm.stride_h;
    let a_n = a_m / (pw.rows * ph.rows);
    let p0 = first_output(a_ih, ph, prm.stride_h, prm.pad_h, prm.dil_h);
    let q0 = first_output(a_iw, pw, prm.stride_w, prm.pad_w, prm.dil_w);
    // B[j][col] = weight[k, col, r, s]; this invocation stages reduction index b_kk
    let b_kk = lid % BK;

    var acc: array<vec4<f32>, ACC>;
    for (var k0 = 0u; k0 < gemm_k; k0 += BK) {
        for (var kk = lid / BM; kk < BK; kk += THREADS / BM) {
            let j = k0 + kk;
            var v = 0.0;
            if a_m < gemm_m && j < gemm_k {
                let k = j / taps;
                let tr = (j % taps) / pw.taps;
                let ts = j % pw.taps;
                let p = p0 - i32(tr) * p_step;
                let q = q0 - i32(ts) * q_step;
                if p >= 0 && p < i32(prm.p) && q >= 0 && q < i32(prm.q) {
                    v = gy[((a_n * prm.k + k) * prm.p + u32(p)) * prm.q + u32(q)];
                }
            }
            set_a(kk, a_mm, v);
        }
        let jb = k0 + b_kk;
        let b_k = jb / taps;
        let b_r = ph.first_tap + ((jb % taps) / pw.taps) * ph.tap_step;
        let b_s = pw.first_tap + (jb % pw.taps) * pw.tap_step;
        for (var nn = lid / BK; nn < BN; nn += THREADS / BK) {
            let col = origin.y + nn;
            var v = 0.0;
            if col < gemm_n && jb < gemm_k {
                v = weight[((b_k * prm.c + col) * prm.r + b_r) * prm.s + b_s];
            }
            set_b(b_kk, nn, v);
        }
        workgroupBarrier();
        multiply_tiles(lid, &acc);
        workgroupBarrier();
    }

    for (var i = 0u; i < TM; i++) {
        let m = origin.x + block_row(lid) + i;
        if m >= gemm_m {
            continue;
        }
        let iw = pw.first_row + (m % pw.rows) * prm.stride_w;
        let ih = ph.first_row + ((m / pw.rows) % ph.rows) * prm.stride_h;
        let n = m / (pw.rows * ph.rows);
        for (var jj = 0u; jj < TN; jj++) {
            let col = origin.y + block_col(lid) + jj;
            if col < gemm_n {
                var v = acc[i * TN4 + jj / 4u][jj % 4u];
                if prm.has_bias != 0u {
                    v += bias[col];
                }
                gx[((n * prm.c + col) * prm.h + ih) * prm.w + iw] = v;
            }
        }
    }
}

@compute @workgroup_size(THREADS)
fn backward_weight_implicit_gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                 @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let gemm_m = prm.k;
    let gemm_n = prm.c * prm.r * prm.s;
    let gemm_k = prm.n * prm.p * prm.q;
    let rs = prm.r * prm.s;
    let pq = prm.p * prm.q;
    // workgroups are numbered tile-fastest, then split
    let tiles = ((gemm_m + BM - 1u) / BM) * ((gemm_n + BN - 1u) / BN);
    let t = workgroup_index(wid, nwg);
    let split = t / tiles;
    if split >= prm.splits {
        return; // a spare workgroup of a folded grid
    }
    let origin = tile_origin(t % tiles, gemm_m);
    let j_begin = split * prm.split_len;
    let j_end = min(j_begin + prm.split_len, gemm_k);

    // Both operands run along the reduction j = (n, p, q), so each invocation stages the
    // fixed index kk = lid % BK and decodes j once per step; neighbours read neighbouring q.
    let kk = lid % BK;
    var acc: array<vec4<f32>, ACC>;
    for (var k0 = j_begin; k0 < j_end; k0 += BK) {
        let j = k0 + kk;
        let j_ok = j < j_end;
        let n = j / pq;
        let p = (j % pq) / prm.q;
        let q = j % prm.q;
        // A[row][j] = gy[n, row, p, q]
        for (var mm = lid / BK; mm < BM; mm += THREADS / BK) {
            let row = origin.x + mm;
            var v = 0.0;
            if row < gemm_m && j_ok {
                v = gy_w[(n * prm.k + row) * pq + j % pq];
            }
            set_a(kk, mm, v);
        }
        // B[j][col] = x[n, c, tap(p, r), tap(q, s)] for col = (c, r, s)
        let h0 = i32(p * prm.stride_h) - i32(prm.pad_h);
        let w0 = i32(q * prm.stride_w) - i32(prm.pad_w);
        for (var nn = lid / BK; nn < BN; nn += THREADS / BK) {
            let col = origin.y + nn;
            var v = 0.0;
            if col < gemm_n && j_ok {
                let c = col / rs;
                let r = (col % rs) / prm.s;
                let s = col % prm.s;
                let ih = h0 + i32(r * prm.dil_h);
                let iw = w0 + i32(s * prm.dil_w);
                if in_image(ih, iw) {
                    v = x[((n * prm.c + c) * prm.h + u32(ih)) * prm.w + u32(iw)];
                }
            }
            set_b(kk, nn, v);
        }
        workgroupBarrier();
        multiply_tiles(lid, &acc);
        workgroupBarrier();
    }

    let out = split * gemm_m * gemm_n;
    for (var i = 0u; i < TM; i++) {
        let row = origin.x + block_row(lid) + i;
        for (var jj = 0u; jj < TN; jj++) {
            let col = origin.y + block_col(lid) + jj;
            if row < gemm_m && col < gemm_n {
                gw_partial[out + row * gemm_n + col] = acc[i * TN4 + jj / 4u][jj % 4u];
            }
        }
    }
}

@compute @workgroup_size(THREADS)
fn sum_splits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid3: vec3<u32>) {
    let i = workgroup_index(wid, nwg) * THREADS + lid3.x;
    if i >= prm.len {
        return;
    }
    var acc = 0.0;
    for (var s = 0u; s < prm.splits; s++) {
        acc += partials[s * prm.len + i];
    }
    gw[i] = acc;
}
