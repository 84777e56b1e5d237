//! CPU reference of `reduce.wgsl`.

use crate::Real;
use crate::reduce::{ReduceOp, ReduceSpec};

/// Offset of the `i`-th element of `shape` (row-major) under `strides`.
fn offset(mut i: usize, shape: &[usize], strides: &[usize]) -> usize {
    let mut off = 0;
    for d in (0..shape.len()).rev() {
        off += (i % shape[d]) * strides[d];
        i /= shape[d];
    }
    off
}

pub fn reduce<T: Real>(op: ReduceOp, spec: &ReduceSpec, scale: f32, x: &[T], out: &mut [T]) {
    assert_eq!(out.len(), spec.out_count(), "reduce: output length");
    let scale = T::from_f64(scale as f64);
    for (i, o) in out.iter_mut().enumerate() {
        let base = offset(i, &spec.out_shape, &spec.out_strides);
        let values = (0..spec.reduced_count())
            .map(|j| x[base + offset(j, &spec.red_shape, &spec.red_strides)]);
        let acc = match op {
            ReduceOp::Sum => values.fold(T::zero(), |a, v| a + v),
            ReduceOp::Max => values.fold(T::neg_infinity(), |a, v| a.max(v)),
        };
        *o = acc * scale;
    }
}
