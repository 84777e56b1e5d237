//! Validation of `loss.wgsl`: the loss and the gradient against the reference (outputs
//! poisoned), with logits far into both tails and soft and hard targets; and the reference's
//! gradient against finite differences of its loss.

use super::{self as k, reference as r};
use crate::gpu;
use crate::harness::numeric::{TOL_FINITE_DIFF, numeric_gradient, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// One logit, fewer than a workgroup, one past it, a prime above a few strides, and one long
/// enough that every invocation loops hundreds of times.
const LENGTHS: [usize; 5] = [1, 7, 257, 4099, 70_001];

pub fn run(v: &mut Validator) {
    if v.wants("loss.bce_with_logits") {
        for n in v.pick(LENGTHS.to_vec(), 3) {
            for targets in [Targets::Soft, Targets::Hard, Targets::Confident] {
                check(v, n, targets);
            }
        }
    }
    if v.wants("loss.reference_backward") {
        check_reference_gradient(v);
    }
}

#[derive(Clone, Copy, Debug)]
enum Targets {
    /// In [0, 1].
    Soft,
    /// Exactly 0 or 1.
    Hard,
    /// 0 or 1 with logits of 20 to 40 on the right side: a loss of 1e-9 to 1e-18 per logit,
    /// which `log(1 + exp(-|x|))` without care rounds to 0.
    Confident,
}

/// Logits in [-40, 40] (exp(40) overflows nothing in the stable form) and their targets.
fn inputs(v: &mut Validator, n: usize, targets: Targets) -> (Vec<f32>, Vec<f32>) {
    let mut x = v.uniform(n, -40.0, 40.0);
    let t: Vec<f32> = match targets {
        Targets::Soft => v.uniform(n, 0.0, 1.0),
        Targets::Hard | Targets::Confident => (0..n).map(|_| v.int(0, 1) as f32).collect(),
    };
    if let Targets::Confident = targets {
        for (xi, ti) in x.iter_mut().zip(&t) {
            let size = 30.0 + xi.abs() / 4.0; // 30 to 40
            *xi = if *ti == 1.0 { size } else { -size };
        }
    }
    (x, t)
}

fn check(v: &mut Validator, n: usize, targets: Targets) {
    let case = format!("n {n}, {targets:?} targets");
    let (x, t) = inputs(v, n, targets);
    let (mut loss, mut grad) = (vec![0.0f64], vec![0.0f64; n]);
    r::bce_with_logits(&to_f64(&x), &to_f64(&t), &mut loss, &mut grad);
    let g = gpu();
    let (lb, gb) = (v.poisoned(1), v.poisoned(n));
    k::bce_with_logits(n, &g.upload(&x), &g.upload(&t), &lb, &gb);
    let kernel = "loss.bce_with_logits";
    let got = v.read(&lb);
    v.check(
        kernel,
        "one_pass",
        &format!("{case}, loss"),
        &got,
        &to_f32(&loss),
        TOL_FORWARD,
    );
    let got = v.read(&gb);
    v.check(
        kernel,
        "one_pass",
        &format!("{case}, grad"),
        &got,
        &to_f32(&grad),
        TOL_GRAD,
    );
}

fn check_reference_gradient(v: &mut Validator) {
    let n = 9;
    // logits near 0, where the loss bends most, so the finite differences see the curvature
    let x = to_f64(&v.uniform(n, -3.0, 3.0));
    let t = to_f64(&v.uniform(n, 0.0, 1.0));
    let (mut loss, mut grad) = (vec![0.0], vec![0.0; n]);
    r::bce_with_logits(&x, &t, &mut loss, &mut grad);
    let fd = numeric_gradient(&x, |x| {
        let (mut l, mut g) = (vec![0.0], vec![0.0; n]);
        r::bce_with_logits(x, &t, &mut l, &mut g);
        l[0]
    });
    v.check(
        "loss.reference_backward",
        "finite_diff",
        "n 9",
        &to_f32(&grad),
        &to_f32(&fd),
        TOL_FINITE_DIFF,
    );
}
