//! The fast CPU device's reductions, in f32: outputs split over the thread pool; each output
//! walks its reduced elements with an odometer over the reduced axes whose innermost axis is
//! a tight loop (eight-lane sums where it is contiguous), instead of the reference's division
//! per element.

use crate::cpu::threads::{GRAIN, for_chunks_mut};
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

/// Folds one innermost run of `len` elements `stride` apart starting at `x[at]`.
fn fold_run(op: ReduceOp, x: &[f32], at: usize, len: usize, stride: usize, acc: f32) -> f32 {
    match (op, stride) {
        (ReduceOp::Sum, 1) => acc + crate::cpu::lanes::sum8(&x[at..at + len]),
        (ReduceOp::Sum, _) => (0..len).fold(acc, |a, j| a + x[at + j * stride]),
        (ReduceOp::Max, _) => (0..len).fold(acc, |a, j| a.max(x[at + j * stride])),
    }
}

/// out\[i\] = scale · (sum or max of the reduced elements of output i), as
/// [`crate::reduce::reference::reduce`].
pub fn reduce(op: ReduceOp, spec: &ReduceSpec, scale: f32, x: &[f32], out: &mut [f32]) {
    assert_eq!(
        out.len(),
        spec.out_count(),
        "reduce (fast CPU): output length"
    );
    assert!(
        spec.out_count() == 0 || spec.input_extent() <= x.len(),
        "reduce (fast CPU): input of {} elements is too short for {spec:?}",
        x.len()
    );
    let rank = spec.red_shape.len();
    let (inner, inner_stride) = match rank {
        0 => (1, 1),
        _ => (spec.red_shape[rank - 1], spec.red_strides[rank - 1]),
    };
    let outer_shape = &spec.red_shape[..rank.saturating_sub(1)];
    let outer_strides = &spec.red_strides[..rank.saturating_sub(1)];
    let runs: usize = outer_shape.iter().product();
    let grain = (GRAIN / spec.reduced_count().max(1)).max(1);
    for_chunks_mut(out, 1, grain, |first, outs| {
        for (k, o) in outs.iter_mut().enumerate() {
            let base = offset(first + k, &spec.out_shape, &spec.out_strides);
            let start = match op {
                ReduceOp::Sum => 0.0,
                ReduceOp::Max => f32::NEG_INFINITY,
            };
            let acc = (0..runs).fold(start, |acc, run| {
                let at = base + offset(run, outer_shape, outer_strides);
                fold_run(op, x, at, inner, inner_stride, acc)
            });
            *o = acc * scale;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::reference as r;

    #[test]
    fn every_axis_choice_matches_the_reference() {
        let shape = [3, 5, 2, 7];
        let x: Vec<f32> = (0..210)
            .map(|i| ((i * 37) % 101) as f32 / 10.0 - 5.0)
            .collect();
        for axes in [vec![0], vec![1, 3], vec![3], vec![0, 1, 2, 3], vec![0, 2]] {
            let spec = ReduceSpec::over_axes(&shape, &axes);
            for op in [ReduceOp::Sum, ReduceOp::Max] {
                let n = spec.out_count();
                let (mut got, mut want) = (vec![f32::NAN; n], vec![0.0; n]);
                reduce(op, &spec, 0.5, &x, &mut got);
                r::reduce(op, &spec, 0.5, &x, &mut want);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{axes:?} {op:?}");
                }
            }
        }
    }
}
