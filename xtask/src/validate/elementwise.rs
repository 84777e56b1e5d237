//! Validation of `shaders/elementwise.wgsl`.

use atelier_kernels::kernels::elementwise::{self as k, BinaryOp, Broadcast, UnaryOp};
use atelier_kernels::reference::elementwise as r;
use atelier_kernels::{GpuBuffer, gpu};

use super::{TOL_FORWARD, TOL_GRAD, Validator};

/// Lengths: 1, primes, more than a workgroup, and (for one kernel) more than 65,535 workgroups
/// in one dimension, which folds the grid into y.
const LENGTHS: [usize; 5] = [1, 7, 257, 4099, 65_537];
const FOLDED: usize = 65_536 * 256 + 3;

/// Inputs valid for every unary op (log and sqrt need x > 0; pow with a fractional exponent too).
fn input_for(v: &mut Validator, op: UnaryOp, n: usize) -> Vec<f32> {
    match op {
        UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Pow => v.uniform(n, 0.1, 3.0),
        UnaryOp::Exp => v.uniform(n, -4.0, 4.0),
        _ => v.uniform(n, -6.0, 6.0),
    }
}

fn alpha_for(op: UnaryOp) -> f32 {
    match op {
        UnaryOp::LeakyRelu => 0.2,
        UnaryOp::Pow => 2.5,
        UnaryOp::AddScalar => 0.75,
        UnaryOp::MulScalar => -1.5,
        _ => 0.0,
    }
}

pub fn run(v: &mut Validator) {
    let g = gpu();
    if v.wants("fill") {
        for n in LENGTHS {
            let out = v.poisoned(n);
            k::fill(&out, 0.5);
            let mut want = vec![0.0; n];
            r::fill(&mut want, 0.5);
            let got = v.read(&out);
            v.check(
                "elementwise::fill",
                "direct",
                &format!("n={n}"),
                &got,
                &want,
                TOL_FORWARD,
            );
        }
    }
    if v.wants("unary") {
        for op in UnaryOp::ALL {
            let alpha = alpha_for(op);
            let mut lengths = LENGTHS.to_vec();
            if op == UnaryOp::Relu {
                lengths.push(FOLDED);
            }
            for n in lengths {
                let x = input_for(v, op, n);
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
                    "elementwise::unary",
                    op.name(),
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
                    "elementwise::unary_backward",
                    op.name(),
                    &case,
                    &got,
                    &want,
                    TOL_GRAD,
                );
            }
        }
    }
    if v.wants("binary") {
        for op in BinaryOp::ALL {
            for n in LENGTHS {
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
                    "elementwise::binary",
                    op.name(),
                    &format!("n={n}"),
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
        for op in BinaryOp::ALL {
            for (sa, sb) in shapes {
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
                let case = format!("{sa:?} op {sb:?}");
                v.check(
                    "elementwise::binary_broadcast",
                    op.name(),
                    &case,
                    &got,
                    &want,
                    TOL_FORWARD,
                );
            }
        }
    }
}
