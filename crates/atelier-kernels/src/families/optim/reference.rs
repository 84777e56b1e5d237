//! CPU reference of `optim.wgsl`, written as PyTorch's `_single_tensor_adam` and
//! `_single_tensor_sgd` read. Scalars that depend only on the hyperparameters are formed in
//! f64, as PyTorch does with its Python floats; the per-element work runs in `T`.

use crate::Real;
use crate::optim::{AdamStep, SgdStep};

/// One Adam (or AdamW) step: updates `p`, `m` and `v` in place from the gradient `g`.
pub fn adam<T: Real>(hp: &AdamStep, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
    let n = p.len();
    assert!(
        g.len() == n && m.len() == n && v.len() == n,
        "adam: lengths differ"
    );
    assert!(hp.step >= 1, "adam: step is 1-based");
    let t = i32::try_from(hp.step).unwrap_or(i32::MAX);
    let bias_correction1 = 1.0 - hp.beta1.powi(t);
    let bias_correction2 = 1.0 - hp.beta2.powi(t);
    let step_size = T::from_f64(hp.lr / bias_correction1);
    let bias_correction2_sqrt = T::from_f64(bias_correction2.sqrt());
    let (beta1, one_minus_beta1) = (T::from_f64(hp.beta1), T::from_f64(1.0 - hp.beta1));
    let (beta2, one_minus_beta2) = (T::from_f64(hp.beta2), T::from_f64(1.0 - hp.beta2));
    let eps = T::from_f64(hp.eps);
    let weight_decay = T::from_f64(hp.weight_decay);
    let decay_factor = T::from_f64(1.0 - hp.lr * hp.weight_decay);
    for i in 0..n {
        let (mut param, mut grad) = (p[i], g[i]);
        if hp.decoupled_weight_decay {
            param = param * decay_factor;
        } else {
            grad += weight_decay * param;
        }
        m[i] = beta1 * m[i] + one_minus_beta1 * grad;
        v[i] = beta2 * v[i] + one_minus_beta2 * grad * grad;
        let denom = v[i].sqrt() / bias_correction2_sqrt + eps;
        p[i] = param - step_size * m[i] / denom;
    }
}

/// One SGD step: updates `p` in place from the gradient `g`, and the momentum buffer when
/// momentum is on (`buf` may be `None` only when `momentum == 0`).
pub fn sgd<T: Real>(hp: &SgdStep, p: &mut [T], g: &[T], mut buf: Option<&mut [T]>) {
    let n = p.len();
    assert_eq!(g.len(), n, "sgd: lengths differ");
    assert!(hp.step >= 1, "sgd: step is 1-based");
    let lr = T::from_f64(hp.lr);
    let weight_decay = T::from_f64(hp.weight_decay);
    let momentum = T::from_f64(hp.momentum);
    let one_minus_dampening = T::from_f64(1.0 - hp.dampening);
    for i in 0..n {
        let mut d = g[i] + weight_decay * p[i];
        if hp.momentum != 0.0 {
            let b = &mut buf.as_deref_mut().expect("sgd: momentum needs a buffer")[i];
            *b = if hp.step == 1 {
                d
            } else {
                momentum * *b + one_minus_dampening * d
            };
            d = if hp.nesterov { d + momentum * *b } else { *b };
        }
        p[i] = p[i] - lr * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At step 1, m̂ = g and v̂ = g², so Adam moves every parameter by lr·g/(|g| + eps).
    #[test]
    fn adam_first_step_is_sign_descent() {
        let hp = AdamStep {
            lr: 0.1,
            ..AdamStep::default()
        };
        let g = [0.5f64, -2.0, 1e-3];
        let mut p = [1.0f64, 1.0, 1.0];
        let (mut m, mut v) = ([0.0; 3], [0.0; 3]);
        adam(&hp, &mut p, &g, &mut m, &mut v);
        for i in 0..3 {
            let want = 1.0 - 0.1 * g[i] / (g[i].abs() + 1e-8);
            assert!(
                (p[i] - want).abs() < 1e-12,
                "p[{i}] = {}, want {want}",
                p[i]
            );
        }
    }

    /// AdamW with a zero gradient only decays: p = p · (1 − lr·wd).
    #[test]
    fn adamw_zero_gradient_only_decays() {
        let hp = AdamStep {
            lr: 0.1,
            weight_decay: 0.5,
            decoupled_weight_decay: true,
            ..AdamStep::default()
        };
        let (mut p, mut m, mut v) = ([2.0f64], [0.0], [0.0]);
        adam(&hp, &mut p, &[0.0], &mut m, &mut v);
        assert!((p[0] - 2.0 * 0.95).abs() < 1e-12);
    }

    /// Heavy-ball momentum on a constant gradient: buf = 1, 1.9, 2.71 (momentum 0.9).
    #[test]
    fn sgd_momentum_accumulates() {
        let mut hp = SgdStep {
            lr: 1.0,
            momentum: 0.9,
            ..SgdStep::default()
        };
        let (mut p, mut buf) = ([0.0f64], [f64::NAN]);
        for (step, want_buf) in [(1, 1.0), (2, 1.9), (3, 2.71)] {
            hp.step = step;
            sgd(&hp, &mut p, &[1.0], Some(&mut buf));
            assert!(
                (buf[0] - want_buf).abs() < 1e-12,
                "step {step}: buf {}",
                buf[0]
            );
        }
        assert!((p[0] + 1.0 + 1.9 + 2.71).abs() < 1e-12);
    }
}
