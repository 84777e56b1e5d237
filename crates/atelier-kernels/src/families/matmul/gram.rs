//! Gram matrices G = F·Fᵀ of `n` items F `[c, l]` (style losses: c channels, l = H·W pixels),
//! and their gradient gF = S·F (S = gG + gGᵀ, formed by the caller), on the matmul kernel.
//!
//! F is bound as itself, transposed by strides (no copy of Fᵀ). When one item of F is larger
//! than a storage binding (64 channels of a 1024-px image: 192 MiB), both products run in
//! blocks of ROWS of F, each a contiguous window:
//!
//! - G\[i-block, j-block\] = F\[i-block\]·F\[j-block\]ᵀ, through a small scratch block copied
//!   into G;
//! - gF\[i-block\] = Σ over k-blocks of S\[i-block, k-block\]·F\[k-block\], the later blocks
//!   added in place by the kernel (its `accumulate`), S (c × c, small) bound whole.

use super::{MatmulSpec, MatmulVariant, matmul, matmul_into};
use crate::buffer_pool::GpuBuffer;
use crate::chunk::{Batched, binding_limit, chunk_items, count_chunk, mark_parents};
use crate::context::gpu;

/// Rows per block of item `i` of `f` (`c` rows of `l`; all `c` when the item fits one
/// binding), and that item as a window.
fn row_blocks(op: &str, f: &GpuBuffer, i: usize, c: usize, l: usize) -> (usize, GpuBuffer) {
    let fi = f.window(i * c * l, c * l);
    let rows = [Batched {
        what: "F",
        buffer: &fi,
        per_item: l,
    }];
    (chunk_items(op, c, &rows).unwrap_or(c), fi)
}

fn blocks(total: usize, step: usize) -> impl Iterator<Item = (usize, usize)> + Clone {
    (0..total)
        .step_by(step)
        .map(move |first| (first, step.min(total - first)))
}

fn too_big(b: &GpuBuffer) -> bool {
    b.binding_bytes() > binding_limit()
}

/// One block's product, `c = a·b` or `c += a·b`, with the variant the settings choose (a
/// variant being tuned writes a scratch buffer, so that tuning never adds into `c` twice).
fn launch(spec: &MatmulSpec, a: &GpuBuffer, b: &GpuBuffer, c: &GpuBuffer, accumulate: bool) {
    let mut probe =
        |v: MatmulVariant| matmul_into(v, spec, a, b, &GpuBuffer::uninit(c.len()), false);
    let v = crate::variant::choose(spec, &mut probe);
    crate::variant::launching(v, spec, false, |v| {
        matmul_into(v, spec, a, b, c, accumulate)
    });
}

/// `g[i] = f[i]·f[i]ᵀ` for `n` items `f` `[n, c, l]`, `g` `[n, c, c]`.
pub fn gram(n: usize, c: usize, l: usize, f: &GpuBuffer, g: &GpuBuffer) {
    let op = "gram";
    let ft = |m: usize, rows: usize, batch_stride: usize| MatmulSpec {
        batch: m,
        m: rows,
        n: rows,
        k: l,
        a_offset: 0,
        a_batch_stride: batch_stride,
        a_row_stride: l,
        a_col_stride: 1,
        b_offset: 0,
        b_batch_stride: batch_stride,
        b_row_stride: 1,
        b_col_stride: l,
    };
    assert_eq!(
        f.len(),
        n * c * l,
        "{op}: F must hold n·c·l = {n}·{c}·{l} f32s"
    );
    if !too_big(f) {
        return matmul(&ft(n, c, c * l), f, f, g);
    }
    for i in 0..n {
        let (rb, fi) = row_blocks(op, f, i, c, l);
        for bi in blocks(c, rb) {
            let a = fi.window(bi.0 * l, bi.1 * l);
            for bj in blocks(c, rb) {
                let b = fi.window(bj.0 * l, bj.1 * l);
                let spec = MatmulSpec {
                    m: bi.1,
                    n: bj.1,
                    ..ft(1, 0, 0)
                };
                let part = GpuBuffer::uninit(bi.1 * bj.1);
                launch(&spec, &a, &b, &part, false);
                for r in 0..bi.1 {
                    let at = i * c * c + (bi.0 + r) * c + bj.0;
                    gpu().copy(&part, r * bj.1, g, at, bj.1);
                }
                count_chunk();
            }
        }
    }
    mark_parents(&[f]);
}

/// `gf[i] = s[i]·f[i]` for `n` items: `s` `[n, c, c]`, `f` and `gf` `[n, c, l]` (the gradient
/// of [`gram`] when `s = gG + gGᵀ`).
pub fn gram_backward(n: usize, c: usize, l: usize, s: &GpuBuffer, f: &GpuBuffer, gf: &GpuBuffer) {
    let op = "gram_backward";
    assert_eq!(
        f.len(),
        n * c * l,
        "{op}: F must hold n·c·l = {n}·{c}·{l} f32s"
    );
    if !too_big(f) && !too_big(gf) {
        return matmul(&MatmulSpec::contiguous(n, c, l, c), s, f, gf);
    }
    for i in 0..n {
        let (rb, fi) = row_blocks(op, f, i, c, l);
        let gfi = gf.window(i * c * l, c * l);
        for bi in blocks(c, rb) {
            let out = gfi.window(bi.0 * l, bi.1 * l);
            for bk in blocks(c, rb) {
                let b = fi.window(bk.0 * l, bk.1 * l);
                let spec = MatmulSpec {
                    batch: 1,
                    m: bi.1,
                    n: l,
                    k: bk.1,
                    a_offset: i * c * c + bi.0 * c + bk.0,
                    a_batch_stride: 0,
                    a_row_stride: c,
                    a_col_stride: 1,
                    b_offset: 0,
                    b_batch_stride: 0,
                    b_row_stride: l,
                    b_col_stride: 1,
                };
                launch(&spec, s, &b, &out, bk.0 > 0);
                count_chunk();
            }
        }
    }
    mark_parents(&[f, gf]);
}
