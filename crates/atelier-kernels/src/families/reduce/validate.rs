//! Validation of `reduce.wgsl`.

use super::reference as r;
use super::{self as k, ReduceOp, ReduceSpec, ReduceVariant};
use crate::gpu;
use crate::variant::Variant;

use crate::harness::{TOL_FORWARD, Validator};

/// Above this many outputs only the serial variant runs: a workgroup per output (the workgroup
/// and subgroup variants) would be millions of workgroups, minutes on a software device.
/// [70_001, 3] covers their folded grid.
const WORKGROUP_MAX_OUTPUTS: usize = 1 << 20;

/// How much a float sum of these inputs may err beyond its result's own rounding: summation
/// errs by about eps·Σ|x| (Higham, Accuracy and Stability of Numerical Algorithms, 4.2), not
/// eps·|Σx|, and random inputs of both signs cancel (a million of them sum to about a
/// thousandth of Σ|x|). The largest Σ|x| over the largest |Σx|, at least 1. A dropped or
/// doubled slice of a long sum still changes it by about |Σx| itself, far past this.
fn sum_condition(spec: &ReduceSpec, scale: f32, x: &[f32], want: &[f32]) -> f64 {
    let abs: Vec<f32> = x.iter().map(|v| v.abs()).collect();
    let mut abs_sum = vec![0.0; want.len()];
    r::reduce(ReduceOp::Sum, spec, scale, &abs, &mut abs_sum);
    let largest = |v: &[f32]| v.iter().fold(0.0f64, |m, &a| m.max(f64::from(a.abs())));
    (largest(&abs_sum) / largest(want).max(f64::MIN_POSITIVE)).max(1.0)
}

/// The validation row (kernel name) of `op`.
fn row(op: ReduceOp) -> String {
    format!("reduce.{}", op.name())
}

pub fn run(v: &mut Validator) {
    let ops: Vec<ReduceOp> = [ReduceOp::Sum, ReduceOp::Max]
        .into_iter()
        .filter(|op| v.wants(&row(*op)))
        .collect();
    if ops.is_empty() {
        return;
    }
    let cases: Vec<(&[usize], &[usize])> = vec![
        (&[1], &[0]),
        (&[100_003], &[0]),
        // two long reductions (a prime > 65,535 each)
        (&[2, 131_071], &[1]),
        (&[7, 131, 5], &[1]),
        (&[3, 4, 5, 6], &[0, 2]),
        (&[2, 3, 4, 5, 2], &[0, 2, 4]),
        (&[6, 1, 5], &[1]),
        (&[4, 3], &[]),
        (&[70_001, 3], &[1]),
        (&[64, 3, 9, 11], &[0, 2, 3]),
        // 16.8M outputs: the serial variant's grid folds into y
        (&[4099, 4097], &[]),
        // longer than one dispatch's slice of every variant (`ReduceVariant::slice_len`): the
        // launcher accumulates slices
        (&[2, 1_048_583], &[1]),
    ];
    for (shape, axes) in v.pick(cases, 4) {
        check(v, &ops, shape, axes, "");
    }
    // tensors larger than one binding (lowered to 2 KiB for these cases) reduce in boxes of
    // their axes: long sums in accumulated boxes, large outputs in blocks, at unaligned starts
    let blocked: Vec<(&[usize], &[usize])> = vec![
        (&[3001], &[0]),
        (&[41, 67], &[0]),
        (&[13, 7, 50], &[1]),
        (&[5, 6, 7, 8], &[0, 2, 3]),
        (&[6, 701], &[]),
    ];
    crate::chunk::with_binding_limit(2048, || {
        for (shape, axes) in blocked {
            check(v, &ops, shape, axes, " in blocks");
        }
    });
}

/// Reduces a random tensor of `shape` over `axes` with every op and variant (and the fast CPU
/// device), each against the reference.
fn check(v: &mut Validator, ops: &[ReduceOp], shape: &[usize], axes: &[usize], suffix: &str) {
    let g = gpu();
    {
        let spec = ReduceSpec::over_axes(shape, axes);
        let n: usize = shape.iter().product();
        let x = v.rand(n);
        let xb = g.upload(&x);
        for &op in ops {
            let scale = if op == ReduceOp::Sum { 0.5 } else { 1.0 };
            let mut want = vec![0.0; spec.out_count()];
            r::reduce(op, &spec, scale, &x, &mut want);
            let tol = match op {
                ReduceOp::Sum => TOL_FORWARD * sum_condition(&spec, scale, &x, &want),
                ReduceOp::Max => TOL_FORWARD,
            };
            let case = format!("{} {shape:?} over {axes:?}{suffix}", op.name());
            if suffix.is_empty() {
                let mut got = vec![f32::NAN; spec.out_count()];
                super::cpu::reduce(op, &spec, scale, &x, &mut got);
                v.check(&row(op), "cpu", &case, &got, &want, tol);
            }
            for &variant in ReduceVariant::ALL {
                if let Some(why) = variant.unavailable() {
                    v.skip(&row(op), variant.name(), &why);
                    continue;
                }
                let skip = match variant {
                    ReduceVariant::Serial => false,
                    ReduceVariant::Workgroup | ReduceVariant::Subgroup => {
                        spec.out_count() > WORKGROUP_MAX_OUTPUTS
                    }
                };
                if skip {
                    continue;
                }
                let out = v.poisoned(spec.out_count());
                k::reduce_with(op, variant, &spec, scale, &xb, &out);
                let got = v.read(&out);
                v.check(&row(op), variant.name(), &case, &got, &want, tol);
            }
        }
    }
}
