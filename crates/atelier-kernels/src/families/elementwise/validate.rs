//! Validation of `elementwise.wgsl`: every op of the tables, at every length.

use super::cpu as f;
use super::launch::{self as k, Broadcast};
use super::ops::{BinaryOp, UnaryOp};
use super::reference as r;
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};
use crate::{GpuBuffer, gpu};

/// Lengths: 1, primes, more than a workgroup, and (for one kernel) more than 65,535 workgroups
/// in one dimension, which folds the grid into y.
const LENGTHS: [usize; 5] = [1, 7, 257, 4099, 65_537];
const FOLDED: usize = 65_536 * 256 + 3;

pub fn run(v: &mut Validator) {
    let g = gpu();
    let lengths = v.pick(LENGTHS.to_vec(), 3);
    if v.wants("elementwise.fill") {
        for &n in &lengths {
            let out = v.poisoned(n);
            k::fill(&out, 0.5);
            let mut want = vec![0.0; n];
            r::fill(&mut want, 0.5);
            let got = v.read(&out);
            v.check(
                "elementwise.fill",
                "direct",
                &format!("n={n}"),
                &got,
                &want,
                TOL_FORWARD,
            );
        }
    }
    if v.wants("elementwise.unary") {
        for &op in UnaryOp::ALL {
            let alpha = op.sample_alpha();
            let mut lengths = lengths.clone();
            if op == UnaryOp::Relu && !v.smoke() {
                lengths.push(FOLDED);
            }
            for n in lengths {
                let (lo, hi) = op.domain();
                let x = v.uniform(n, lo, hi);
                let gy = v.rand(n);
                let xb = g.upload(&x);
                let gyb = g.upload(&gy);
                let out = v.poisoned(n);
                k::unary(op, alpha, &xb, &out);
                let mut want = vec![0.0; n];
                r::unary(op, alpha, &x, &mut want);
                let got = v.read(&out);
                let case = format!("{} n={n}", op.name());
                v.check(
                    "elementwise.unary",
                    op.name(),
                    &case,
                    &got,
                    &want,
                    TOL_FORWARD,
                );
                let cpu_variant = format!("cpu {}", op.name());
                let mut got = vec![f32::NAN; n];
                f::unary(op, alpha, &x, &mut got);
                v.check(
                    "elementwise.unary",
                    &cpu_variant,
                    &case,
                    &got,
                    &want,
                    TOL_FORWARD,
                );

                let gx = v.poisoned(n);
                k::unary_backward(op, alpha, &xb, &gyb, &gx);
                r::unary_backward(op, alpha, &x, &gy, &mut want);
                let got = v.read(&gx);
                v.check(
                    "elementwise.unary_backward",
                    op.name(),
                    &case,
                    &got,
                    &want,
                    TOL_GRAD,
                );
                let mut got = vec![f32::NAN; n];
                f::unary_backward(op, alpha, &x, &gy, &mut got);
                v.check(
                    "elementwise.unary_backward",
                    &cpu_variant,
                    &case,
                    &got,
                    &want,
                    TOL_GRAD,
                );
            }
        }
    }
    if v.wants("elementwise.binary") {
        for &op in BinaryOp::ALL {
            for &n in &lengths {
                let (a, mut b) = (v.rand(n), v.rand(n));
                if op == BinaryOp::Eq {
                    // make some elements equal so both outcomes occur
                    for i in (0..n).step_by(3) {
                        b[i] = a[i];
                    }
                }
                if op == BinaryOp::Div {
                    b.iter_mut().for_each(|x| *x = x.signum() * (x.abs() + 0.5));
                }
                let (ab, bb) = (g.upload(&a), g.upload(&b));
                let out = v.poisoned(n);
                k::binary(op, &ab, &bb, &out);
                let mut want = vec![0.0; n];
                r::binary(op, &a, &b, &mut want);
                let got = v.read(&out);
                v.check(
                    "elementwise.binary",
                    op.name(),
                    &format!("n={n}"),
                    &got,
                    &want,
                    TOL_FORWARD,
                );
                let mut got = vec![f32::NAN; n];
                f::binary(op, &a, &b, &mut got);
                let (variant, case) = (format!("cpu {}", op.name()), format!("n={n}"));
                v.check(
                    "elementwise.binary",
                    &variant,
                    &case,
                    &got,
                    &want,
                    TOL_FORWARD,
                );
            }
        }
        let shapes: [(&[usize], &[usize]); 5] = [
            (&[1], &[1]),
            (&[7, 1, 5], &[1, 3, 1]),
            (&[2, 3, 17, 19], &[3, 1, 1]),
            (&[1, 257], &[131, 1]),
            (&[2, 1, 3, 1, 2, 1, 3, 2], &[1, 5, 1, 3, 1, 2, 1, 2]),
        ];
        for &op in BinaryOp::ALL {
            for (sa, sb) in v.pick(shapes.to_vec(), 3) {
                check_broadcast(v, op, sa, sb, "");
            }
        }
        // operands or outputs larger than one binding (lowered to 2 KiB for these cases) run in
        // boxes of the output's axes, on windows that start unaligned
        let blocked: [(&[usize], &[usize]); 2] = [(&[5, 7, 31], &[7, 1]), (&[1, 43], &[37, 1])];
        crate::chunk::with_binding_limit(2048, || {
            for (sa, sb) in blocked {
                check_broadcast(v, BinaryOp::Sub, sa, sb, " in blocks");
            }
        });
    }
}

/// `a op b` broadcast, on the GPU and the fast CPU device, against the reference.
fn check_broadcast(v: &mut Validator, op: BinaryOp, sa: &[usize], sb: &[usize], suffix: &str) {
    let g = gpu();
    let bc = Broadcast::of(sa, sb).expect("shapes broadcast");
    let a = v.rand(sa.iter().product());
    let mut b = v.rand(sb.iter().product());
    if op == BinaryOp::Div {
        b.iter_mut().for_each(|x| *x = x.signum() * (x.abs() + 0.5));
    }
    let n: usize = bc.shape.iter().product();
    let (ab, bb): (GpuBuffer, GpuBuffer) = (g.upload(&a), g.upload(&b));
    let out = v.poisoned(n);
    k::binary_broadcast(op, &bc, &ab, &bb, &out);
    let mut want = vec![0.0; n];
    r::binary_broadcast(op, &bc, &a, &b, &mut want);
    let got = v.read(&out);
    let case = format!("{sa:?} op {sb:?}{suffix}");
    v.check(
        "elementwise.binary_broadcast",
        op.name(),
        &case,
        &got,
        &want,
        TOL_FORWARD,
    );
    if suffix.is_empty() {
        let mut got = vec![f32::NAN; n];
        f::binary_broadcast(op, &bc, &a, &b, &mut got);
        let variant = format!("cpu {}", op.name());
        v.check(
            "elementwise.binary_broadcast",
            &variant,
            &case,
            &got,
            &want,
            TOL_FORWARD,
        );
    }
}
