//! CPU reference of `instance_norm.wgsl`. Instance g = n * c + c owns the h*w elements
//! x[g*hw .. (g+1)*hw].

use crate::Real;
use crate::instance_norm::InstanceNormConfig;

pub fn instance_norm_stats<T: Real>(
    cfg: &InstanceNormConfig,
    x: &[T],
    mean: &mut [T],
    invstd: &mut [T],
) {
    assert_eq!(x.len(), cfg.len(), "instance_norm_stats: x length");
    let m = T::from_f64(cfg.hw as f64);
    for (g, xs) in x.chunks_exact(cfg.hw).enumerate() {
        let mu = xs.iter().copied().sum::<T>() / m;
        let var = xs.iter().map(|&v| (v - mu) * (v - mu)).sum::<T>() / m;
        mean[g] = mu;
        invstd[g] = T::one() / (var + T::from_f64(cfg.eps as f64)).sqrt();
    }
}

pub fn instance_norm_apply<T: Real>(
    cfg: &InstanceNormConfig,
    x: &[T],
    mean: &[T],
    invstd: &[T],
    gamma: &[T],
    beta: &[T],
    y: &mut [T],
) {
    assert!(
        x.len() == cfg.len() && y.len() == cfg.len(),
        "instance_norm_apply: lengths"
    );
    for i in 0..cfg.len() {
        let g = i / cfg.hw;
        let c = g % cfg.c;
        y[i] = (x[i] - mean[g]) * invstd[g] * gamma[c] + beta[c];
    }
}

pub fn instance_norm_backward_reduce<T: Real>(
    cfg: &InstanceNormConfig,
    x: &[T],
    gy: &[T],
    mean: &[T],
    invstd: &[T],
    sum_gy_xhat: &mut [T],
    sum_gy: &mut [T],
) {
    for g in 0..cfg.instances() {
        let (mut s, mut sx) = (T::zero(), T::zero());
        for i in g * cfg.hw..(g + 1) * cfg.hw {
            s += gy[i];
            sx += gy[i] * (x[i] - mean[g]) * invstd[g];
        }
        sum_gy[g] = s;
        sum_gy_xhat[g] = sx;
    }
}

#[allow(clippy::too_many_arguments)] // mirrors the launcher
pub fn instance_norm_backward_apply<T: Real>(
    cfg: &InstanceNormConfig,
    x: &[T],
    gy: &[T],
    mean: &[T],
    invstd: &[T],
    gamma: &[T],
    sum_gy_xhat: &[T],
    sum_gy: &[T],
    gx: &mut [T],
) {
    let m = T::from_f64(cfg.hw as f64);
    for i in 0..cfg.len() {
        let g = i / cfg.hw;
        let c = g % cfg.c;
        let xhat = (x[i] - mean[g]) * invstd[g];
        gx[i] = gamma[c] * invstd[g] / m * (m * gy[i] - sum_gy[g] - xhat * sum_gy_xhat[g]);
    }
}

pub fn instance_norm_param_grads<T: Real>(
    cfg: &InstanceNormConfig,
    sum_gy_xhat: &[T],
    sum_gy: &[T],
    ggamma: &mut [T],
    gbeta: &mut [T],
) {
    for c in 0..cfg.c {
        ggamma[c] = (0..cfg.n).map(|n| sum_gy_xhat[n * cfg.c + c]).sum();
        gbeta[c] = (0..cfg.n).map(|n| sum_gy[n * cfg.c + c]).sum();
    }
}
