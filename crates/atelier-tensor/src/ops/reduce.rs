//! Reductions over chosen axes: sum, mean, max.

use atelier_kernels::GpuBuffer;
use atelier_kernels::reduce::cpu as f;
use atelier_kernels::reduce::reference as r;
use atelier_kernels::reduce::{self as k, ReduceOp, ReduceSpec};

use super::run::{fast_f32, host_vec};
use crate::storage::{CpuData, Storage, cpu_map};
use crate::tensor::Tensor;

/// Sorted, deduplicated, in-range axes (negative values are not accepted here).
fn check_axes(op: &str, shape: &[usize], axes: &[usize]) -> Vec<usize> {
    let mut a = axes.to_vec();
    a.sort_unstable();
    a.dedup();
    assert!(
        a.iter().all(|&x| x < shape.len().max(1)),
        "{op}: axes {axes:?} out of range for shape {shape:?}"
    );
    a
}

fn kept_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    let mut out = Vec::new();
    for (d, &s) in shape.iter().enumerate() {
        if axes.contains(&d) {
            if keepdim {
                out.push(1);
            }
        } else {
            out.push(s);
        }
    }
    out
}

/// The reduction with no graph; the output has the keepdim shape.
fn reduce_raw(x: &Tensor, op: ReduceOp, axes: &[usize], scale: f32) -> Tensor {
    let shape = kept_shape(x.shape(), axes, true);
    let out_n: usize = shape.iter().product();
    let spec = ReduceSpec::over_axes(x.shape(), axes);
    match x.storage() {
        Storage::Gpu(b) => {
            let out = GpuBuffer::uninit(out_n);
            k::reduce(op, &spec, scale, b, &out);
            Tensor::from_gpu(out, &shape)
        }
        Storage::Cpu(c) => {
            let c = c.borrow();
            let d = match fast_f32(&c) {
                Some(v) => {
                    let mut o = host_vec(out_n);
                    f::reduce(op, &spec, scale, v, &mut o);
                    CpuData::F32(o)
                }
                None => cpu_map!(c, |v| {
                    let mut o = vec![Default::default(); out_n];
                    r::reduce(op, &spec, scale, v, &mut o);
                    o
                }),
            };
            Tensor::from_cpu(d, &shape)
        }
    }
}

impl Tensor {
    fn reduce_op(
        &self,
        name: &'static str,
        op: ReduceOp,
        axes: &[usize],
        keepdim: bool,
        mean: bool,
    ) -> Tensor {
        let axes = check_axes(name, self.shape(), axes);
        let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
        assert!(
            count > 0,
            "{name}: reducing over an empty axis of {:?}",
            self.shape()
        );
        let scale = if mean { 1.0 / count as f32 } else { 1.0 };
        let kept = reduce_raw(self, op, &axes, scale);
        let keep_shape = kept.shape().to_vec();
        let out_shape = kept_shape(self.shape(), &axes, keepdim);
        let x = self.clone();
        let y = kept.detach();
        kept.reshape(&out_shape)
            .detach()
            .with_node(name, &[self], move |g| {
                let g = g.reshape(&keep_shape);
                let gx = match op {
                    ReduceOp::Sum => g.mul_scalar(scale).expand(x.shape()),
                    ReduceOp::Max => {
                        // the maxima share the gradient equally (as torch.amax)
                        let mask = x.eq_mask(&y);
                        let ties = reduce_raw(&mask, ReduceOp::Sum, &axes, 1.0);
                        g.div(&ties).mul(&mask)
                    }
                };
                vec![Some(gx)]
            })
    }

    /// Sum over `axes`; `keepdim` keeps them as size 1.
    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Tensor {
        self.reduce_op("sum", ReduceOp::Sum, axes, keepdim, false)
    }

    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Tensor {
        self.reduce_op("mean", ReduceOp::Sum, axes, keepdim, true)
    }

    pub fn max(&self, axes: &[usize], keepdim: bool) -> Tensor {
        self.reduce_op("max", ReduceOp::Max, axes, keepdim, false)
    }

    /// Sum of every element, as a scalar (shape `[]`).
    pub fn sum_all(&self) -> Tensor {
        let axes: Vec<usize> = (0..self.dims()).collect();
        self.sum(&axes, false)
    }

    /// Mean of every element, as a scalar.
    pub fn mean_all(&self) -> Tensor {
        let axes: Vec<usize> = (0..self.dims()).collect();
        self.mean(&axes, false)
    }
}
