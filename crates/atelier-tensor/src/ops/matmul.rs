//! Matrix products: `[M, K] · [K, N]` and batched `[B, M, K] · [B, K, N]` (a batch of 1
//! broadcasts). Backward passes transposed operands to the kernel as strides, without copies.

use atelier_kernels::GpuBuffer;
use atelier_kernels::matmul::cpu as f;
use atelier_kernels::matmul::reference as r;
use atelier_kernels::matmul::{self as k, MatmulSpec};

use super::run::{fast_f32, host_vec};
use crate::storage::{CpuData, Storage, cpu_map2};
use crate::tensor::Tensor;

/// `op(a) · op(b)` for 3-D contiguous `a`, `b`, where op transposes the last two axes when
/// the flag is set. Batch sizes must match or be 1. No graph.
fn matmul_raw(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Tensor {
    let (ba, a0, a1) = (a.shape()[0], a.shape()[1], a.shape()[2]);
    let (bb, b0, b1) = (b.shape()[0], b.shape()[1], b.shape()[2]);
    let (m, ka) = if ta { (a1, a0) } else { (a0, a1) };
    let (kb, n) = if tb { (b1, b0) } else { (b0, b1) };
    assert_eq!(
        ka,
        kb,
        "matmul: inner sizes differ ({:?} · {:?})",
        a.shape(),
        b.shape()
    );
    assert!(
        ba == bb || ba == 1 || bb == 1,
        "matmul: batch sizes {ba} and {bb} differ"
    );
    let batch = ba.max(bb);
    let spec = MatmulSpec {
        batch,
        m,
        n,
        k: ka,
        a_offset: 0,
        a_batch_stride: if ba == 1 { 0 } else { a0 * a1 },
        a_row_stride: if ta { 1 } else { a1 },
        a_col_stride: if ta { a1 } else { 1 },
        b_offset: 0,
        b_batch_stride: if bb == 1 { 0 } else { b0 * b1 },
        b_row_stride: if tb { 1 } else { b1 },
        b_col_stride: if tb { b1 } else { 1 },
    };
    let shape = [batch, m, n];
    match (a.storage(), b.storage()) {
        (Storage::Gpu(x), Storage::Gpu(y)) => {
            let out = GpuBuffer::uninit(batch * m * n);
            k::matmul(&spec, x, y, &out);
            Tensor::from_gpu(out, &shape)
        }
        (Storage::Cpu(x), Storage::Cpu(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            let d = match (fast_f32(&x), fast_f32(&y)) {
                (Some(xv), Some(yv)) => {
                    let mut o = host_vec(batch * m * n);
                    f::matmul(&spec, xv, yv, &mut o);
                    CpuData::F32(o)
                }
                _ => cpu_map2!("matmul", x, y, |xv, yv| {
                    let mut o = vec![Default::default(); batch * m * n];
                    r::matmul(&spec, xv, yv, &mut o);
                    o
                }),
            };
            Tensor::from_cpu(d, &shape)
        }
        _ => panic!("matmul: operands on different devices"),
    }
}

impl Tensor {
    /// Matrix product of 2-D or 3-D tensors (3-D: batched, a batch of 1 broadcasts).
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        super::same_device("matmul", self, other);
        let as3 = |t: &Tensor| -> Tensor {
            match t.dims() {
                2 => t.reshape(&[1, t.shape()[0], t.shape()[1]]),
                3 => t.clone(),
                _ => panic!("matmul: expects 2-D or 3-D operands, got {:?}", t.shape()),
            }
        };
        let two_d = self.dims() == 2 && other.dims() == 2;
        let (a3, b3) = (as3(self), as3(other));
        let out = no_graph(|| matmul_raw(&a3, false, &b3, false));
        let out = if two_d {
            out.reshape(&[out.shape()[1], out.shape()[2]])
        } else {
            out
        };
        let (a, b) = (a3.detach(), b3.detach());
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        let out_shape = out.shape().to_vec();
        out.detach().with_node("matmul", &[self, other], move |g| {
            let g3 = if g.dims() == 2 {
                g.reshape(&[1, out_shape[0], out_shape[1]])
            } else {
                g.clone()
            };
            // gA = gC · Bᵀ, gB = Aᵀ · gC, then sum over a broadcast batch
            let ga = matmul_raw(&g3, false, &b, true);
            let gb = matmul_raw(&a, true, &g3, false);
            let fit = |t: Tensor, s: &[usize]| -> Tensor {
                let t = if t.shape()[0] != 1 && s.len() == 3 && s[0] == 1
                    || s.len() == 2 && t.shape()[0] != 1
                {
                    t.sum(&[0], false)
                } else {
                    t
                };
                t.reshape(s)
            };
            vec![Some(fit(ga, &sa)), Some(fit(gb, &sb))]
        })
    }
}

fn no_graph<R>(f: impl FnOnce() -> R) -> R {
    crate::autograd::no_grad(f)
}

/// `f·fᵀ` per item of a contiguous `[n, c, l]` tensor. No graph.
fn gram_raw(f: &Tensor) -> Tensor {
    let &[n, c, l] = f.shape() else {
        unreachable!("checked by Tensor::gram")
    };
    match f.storage() {
        Storage::Gpu(x) => {
            let out = GpuBuffer::uninit(n * c * c);
            k::gram(n, c, l, x, &out);
            Tensor::from_gpu(out, &[n, c, c])
        }
        Storage::Cpu(_) => matmul_raw(f, false, f, true),
    }
}

/// `s·f` per item, `s` `[n, c, c]`, `f` `[n, c, l]`: the gradient of [`gram_raw`]. No graph.
fn gram_backward_raw(s: &Tensor, f: &Tensor) -> Tensor {
    let &[n, c, l] = f.shape() else {
        unreachable!("checked by Tensor::gram")
    };
    match (s.storage(), f.storage()) {
        (Storage::Gpu(sb), Storage::Gpu(fb)) => {
            let out = GpuBuffer::uninit(n * c * l);
            k::gram_backward(n, c, l, sb, fb, &out);
            Tensor::from_gpu(out, &[n, c, l])
        }
        _ => matmul_raw(s, false, f, false),
    }
}

impl Tensor {
    /// Gram matrices of a batch `[n, c, l]` → `[n, c, c]`: F·Fᵀ for each item F `[c, l]`
    /// (what `f.matmul(&f.transpose(1, 2))` computes, without the copy of Fᵀ, and run in row
    /// blocks of F when one item is larger than a storage binding). Gradient: (gG + gGᵀ)·F.
    pub fn gram(&self) -> Tensor {
        assert!(
            self.dims() == 3,
            "gram: expects [N, C, L], got {:?}",
            self.shape()
        );
        let out = no_graph(|| gram_raw(self));
        let f = self.detach();
        out.with_node("gram", &[self], move |g| {
            let s = g.add(&g.transpose(1, 2));
            vec![Some(gram_backward_raw(&s, &f))]
        })
    }
}
