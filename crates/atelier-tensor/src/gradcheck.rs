//! Gradient checking against central finite differences, in f64 on the CPU.
//!
//! `check(f, inputs)` runs `f` on f64 copies of the inputs, backpropagates a fixed random
//! weighting of the output (so every output element matters), and compares each input's
//! gradient with (L(x + εeᵢ) − L(x − εeᵢ)) / 2ε. With f64 and ε = 1e-6 the truncation and
//! rounding errors are ~1e-9, far below any real mistake.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::autograd::no_grad;
use crate::tensor::Tensor;

/// The result of a gradient check: the worst relative error over the inputs.
#[derive(Debug, Clone, Copy)]
pub struct GradCheck {
    pub max_relative_error: f64,
}

/// Checks `f`'s autograd gradients with respect to every input. Panics if `f`'s output does
/// not depend on an input at all (its gradient is None) unless the finite difference is zero.
pub fn check(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> GradCheck {
    let eps = 1e-6;
    let xs: Vec<Vec<f64>> = inputs.iter().map(|t| t.to_vec_f64()).collect();
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    let make = |vals: &[Vec<f64>], grad: bool| -> Vec<Tensor> {
        vals.iter()
            .zip(&shapes)
            .map(|(v, s)| Tensor::from_f64(v.clone(), s).requires_grad_(grad))
            .collect()
    };
    // a fixed weighting turns any output into a scalar loss
    let probe = no_grad(|| f(&make(&xs, false)));
    let mut rng = StdRng::seed_from_u64(7);
    let w: Vec<f64> = (0..probe.numel())
        .map(|_| rng.random_range(0.5..1.5))
        .collect();
    let weights = Tensor::from_f64(w, probe.shape());
    let loss = |ts: &[Tensor]| f(ts).mul(&weights).sum_all();

    let leaves = make(&xs, true);
    loss(&leaves).backward();
    let mut worst = 0.0f64;
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = leaf
            .grad()
            .map(|g| g.to_vec_f64())
            .unwrap_or_else(|| vec![0.0; xs[i].len()]);
        let mut numeric = vec![0.0; xs[i].len()];
        for j in 0..xs[i].len() {
            let mut plus = xs.clone();
            plus[i][j] += eps;
            let mut minus = xs.clone();
            minus[i][j] -= eps;
            let lp = no_grad(|| loss(&make(&plus, false)).to_vec_f64()[0]);
            let lm = no_grad(|| loss(&make(&minus, false)).to_vec_f64()[0]);
            numeric[j] = (lp - lm) / (2.0 * eps);
        }
        let diff: f64 = analytic
            .iter()
            .zip(&numeric)
            .map(|(a, n)| (a - n).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = numeric.iter().map(|n| n * n).sum::<f64>().sqrt();
        worst = worst.max(diff / norm.max(1e-8));
    }
    GradCheck {
        max_relative_error: worst,
    }
}
