//! CPU reference of `loss.wgsl`.

use crate::Real;

/// The mean binary cross-entropy of logits `x` against targets `t`,
/// `mean(max(x, 0) - x·t + log(1 + exp(-|x|)))`, into `loss[0]`, and its gradient with
/// respect to `x`, `(sigmoid(x) - t) / n`, into `grad`.
pub fn bce_with_logits<T: Real>(x: &[T], t: &[T], loss: &mut [T], grad: &mut [T]) {
    let n = x.len();
    assert!(
        n >= 1 && t.len() == n && grad.len() == n && loss.len() == 1,
        "bce_with_logits: lengths x {n}, t {}, grad {}, loss {}",
        t.len(),
        grad.len(),
        loss.len()
    );
    let inv_n = T::from_f64(1.0 / n as f64);
    let (zero, one) = (T::from_f64(0.0), T::from_f64(1.0));
    let mut sum = zero;
    for i in 0..n {
        let (xi, ti) = (x[i], t[i]);
        let e = (-xi.abs()).exp();
        let relu = if xi > zero { xi } else { zero };
        sum += relu - xi * ti + e.ln_1p();
        // sigmoid(x) - t, without cancellation when a confident logit meets its target
        let small = e / (one + e);
        let diff = if xi >= zero {
            (one - ti) - small
        } else {
            small - ti
        };
        grad[i] = diff * inv_n;
    }
    loss[0] = sum * inv_n;
}
