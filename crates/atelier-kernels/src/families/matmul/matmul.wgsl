// matmul.wgsl: batched matrix product C[b] = A[b] · B[b].
//
// A's element (b, i, k) is a[a_offset + b*a_batch_stride + i*a_row_stride + k*a_col_stride],
// B's (b, k, j) likewise; C's (b, i, j) is c[c_offset + b*c_batch_stride + i*c_row_stride + j]
// (contiguous [batch, M, N] but for the boxes of a product over tensors larger than one
// storage binding, each on windows of the three buffers: see `crate::blocks`). General strides let the caller pass
// transposed operands (backward: gA = gC·Bᵀ, gB = Aᵀ·gC) and a broadcast batch (stride 0)
// without copying.
//
// Entry points (binding 0 is the `Params` uniform; a@1, b@2, c@3):
//   matmul_naive   one invocation per C element, a dot product over k. The readable baseline.
//                  Workgroup 16×16, grid (⌈N/16⌉, ⌈M/16⌉, batch).
//   matmul_tiled   a 64×64 block of C per workgroup of 16×16 invocations, each accumulating
//                  a 4×4 register block (rows ty + 16·i, columns tx + 16·j, so stores are
//                  coalesced). A and B pass through workgroup memory in K-slices of TK
//                  (8 KiB at TK = 16). Out-of-range rows, columns and k are zero-filled, so
//                  any M, N, K works. Grid (⌈N/64⌉, ⌈M/64⌉, batch).
//
// Both sum over k in [k_begin, k) only and, when `accumulate` is set, add to C instead of
// overwriting it: the launcher splits reductions longer than 4096 into accumulating
// dispatches, because software Vulkan (lavapipe) silently stops a shader invocation after
// 65,535 loop iterations.

struct Params {
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
    a_offset: u32,
    a_batch_stride: u32,
    a_row_stride: u32,
    a_col_stride: u32,
    b_offset: u32,
    b_batch_stride: u32,
    b_row_stride: u32,
    b_col_stride: u32,
    k_begin: u32,
    accumulate: u32,
    c_offset: u32,
    c_batch_stride: u32,
    c_row_stride: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn a_at(batch: u32, i: u32, k: u32) -> f32 {
    return a[p.a_offset + batch * p.a_batch_stride + i * p.a_row_stride + k * p.a_col_stride];
}

fn b_at(batch: u32, k: u32, j: u32) -> f32 {
    return b[p.b_offset + batch * p.b_batch_stride + k * p.b_row_stride + j * p.b_col_stride];
}

@compute @workgroup_size(16, 16)
fn matmul_naive(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let i = gid.y;
    let batch = gid.z;
    if i >= p.m || j >= p.n {
        return;
    }
    var acc = 0.0;
    for (var k = p.k_begin; k < p.k; k++) {
        acc += a_at(batch, i, k) * b_at(batch, k, j);
    }
    let idx = p.c_offset + batch * p.c_batch_stride + i * p.c_row_stride + j;
    if p.accumulate != 0u {
        acc += c[idx];
    }
    c[idx] = acc;
}

const BM: u32 = 64u;
const BN: u32 = 64u;
const THREADS: u32 = 256u;
override TK: u32 = 16u; // a multiple of 4, so BM·TK and BN·TK divide by THREADS

// a_tile[kk * BM + row], b_tile[kk * BN + col]
var<workgroup> a_tile: array<f32, BM * TK>;
var<workgroup> b_tile: array<f32, BN * TK>;

@compute @workgroup_size(16, 16)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let batch = wid.z;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * 16u + lid.x;
    var acc: array<array<f32, 4>, 4>;
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            acc[i][j] = 0.0;
        }
    }
    for (var k0 = p.k_begin; k0 < p.k; k0 += TK) {
        // stage A[row0.., k0..] and B[k0.., col0..], zero outside the matrices; each thread
        // loads BM·TK / THREADS elements of each (a fixed count, so the loops unroll)
        for (var r = 0u; r < BM * TK / THREADS; r++) {
            let e = tid + r * THREADS;
            let row = e / TK;
            let kk = e % TK;
            var v = 0.0;
            if row0 + row < p.m && k0 + kk < p.k {
                v = a_at(batch, row0 + row, k0 + kk);
            }
            a_tile[kk * BM + row] = v;
        }
        for (var r = 0u; r < BN * TK / THREADS; r++) {
            let e = tid + r * THREADS;
            let kk = e / BN;
            let col = e % BN;
            var v = 0.0;
            if k0 + kk < p.k && col0 + col < p.n {
                v = b_at(batch, k0 + kk, col0 + col);
            }
            b_tile[kk * BN + col] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var ar: array<f32, 4>;
            var br: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                ar[i] = a_tile[kk * BM + lid.y + 16u * i];
                br[i] = b_tile[kk * BN + lid.x + 16u * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i][j] = fma(ar[i], br[j], acc[i][j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + lid.y + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x + 16u * j;
            if row < p.m && col < p.n {
                let idx = p.c_offset + batch * p.c_batch_stride + row * p.c_row_stride + col;
                if p.accumulate != 0u {
                    c[idx] += acc[i][j];
                } else {
                    c[idx] = acc[i][j];
                }
            }
        }
    }
}
