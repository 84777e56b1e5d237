//! Validation of `shaders/reduce.wgsl`.

use atelier_kernels::gpu;
use atelier_kernels::kernels::reduce::{self as k, ReduceOp, ReduceSpec, ReduceVariant};
use atelier_kernels::reference::reduce as r;

use super::{TOL_FORWARD, Validator};

/// lavapipe (llvmpipe) cuts off any shader loop after a fixed number of iterations (21,845 for
/// this kernel's loop: gallivm's 65,535-step limiter), silently. A thread-per-output reduction
/// over more elements is therefore wrong there, and `ReduceVariant::auto` never picks it
/// (it switches at 256); validation runs it only below the limit.
const LAVAPIPE_LOOP_LIMIT: usize = 20_000;

pub fn run(v: &mut Validator) {
    if !v.wants("reduce") {
        return;
    }
    let g = gpu();
    let cases: Vec<(&[usize], &[usize])> = vec![
        (&[1], &[0]),
        (&[100_003], &[0]),
        (&[7, 131, 5], &[1]),
        (&[3, 4, 5, 6], &[0, 2]),
        (&[2, 3, 4, 5, 2], &[0, 2, 4]),
        (&[6, 1, 5], &[1]),
        (&[4, 3], &[]),
        (&[70_001, 3], &[1]),
        (&[64, 3, 9, 11], &[0, 2, 3]),
    ];
    for (shape, axes) in cases {
        let spec = ReduceSpec::over_axes(shape, axes);
        if spec.reduced_count() == 0 || spec.red_shape.is_empty() && spec.out_count() == 0 {
            continue;
        }
        let n: usize = shape.iter().product();
        let x = v.rand(n);
        let xb = g.upload(&x);
        for op in [ReduceOp::Sum, ReduceOp::Max] {
            let scale = if op == ReduceOp::Sum { 0.5 } else { 1.0 };
            let mut want = vec![0.0; spec.out_count()];
            r::reduce(op, &spec, scale, &x, &mut want);
            for variant in ReduceVariant::ALL {
                if variant == ReduceVariant::Serial && spec.reduced_count() > LAVAPIPE_LOOP_LIMIT {
                    continue;
                }
                let out = v.poisoned(spec.out_count());
                k::reduce(op, variant, &spec, scale, &xb, &out);
                let got = v.read(&out);
                let case = format!("{} {shape:?} over {axes:?}", op.name());
                v.check(
                    &format!("reduce::{}", op.name()),
                    variant.name(),
                    &case,
                    &got,
                    &want,
                    TOL_FORWARD,
                );
            }
        }
    }
}
