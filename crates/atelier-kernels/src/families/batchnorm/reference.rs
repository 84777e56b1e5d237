//! CPU reference of `batchnorm.wgsl`.

use crate::Real;
use crate::batchnorm::{BatchNormConfig, BatchNormMode};

/// Index in x of element `j` (0 <= j < n*hw) of channel `c`.
fn channel_element(cfg: &BatchNormConfig, c: usize, j: usize) -> usize {
    let (n, s) = (j / cfg.hw, j % cfg.hw);
    (n * cfg.c + c) * cfg.hw + s
}

fn real<T: Real>(v: f32) -> T {
    T::from_f64(v as f64)
}

pub fn batchnorm_stats<T: Real>(
    cfg: &BatchNormConfig,
    x: &[T],
    mean: &mut [T],
    invstd: &mut [T],
    running_mean: &mut [T],
    running_var: &mut [T],
) {
    assert_eq!(x.len(), cfg.len(), "batchnorm_stats: x length");
    let m = cfg.per_channel();
    assert!(
        m > 1,
        "batchnorm_stats: training needs more than one value per channel"
    );
    let mf = T::from_f64(m as f64);
    let momentum: T = real(cfg.momentum);
    for c in 0..cfg.c {
        let mu = (0..m).map(|j| x[channel_element(cfg, c, j)]).sum::<T>() / mf;
        let var = (0..m)
            .map(|j| {
                let d = x[channel_element(cfg, c, j)] - mu;
                d * d
            })
            .sum::<T>()
            / mf;
        mean[c] = mu;
        invstd[c] = T::one() / (var + real(cfg.eps)).sqrt();
        let unbiased = var * mf / T::from_f64((m - 1) as f64);
        running_mean[c] = (T::one() - momentum) * running_mean[c] + momentum * mu;
        running_var[c] = (T::one() - momentum) * running_var[c] + momentum * unbiased;
    }
}

pub fn batchnorm_invstd<T: Real>(cfg: &BatchNormConfig, var: &[T], invstd: &mut [T]) {
    for c in 0..cfg.c {
        invstd[c] = T::one() / (var[c] + real(cfg.eps)).sqrt();
    }
}

pub fn batchnorm_apply<T: Real>(
    cfg: &BatchNormConfig,
    x: &[T],
    mean: &[T],
    invstd: &[T],
    gamma: &[T],
    beta: &[T],
    y: &mut [T],
) {
    assert!(
        x.len() == cfg.len() && y.len() == cfg.len(),
        "batchnorm_apply: lengths"
    );
    for (i, (yi, &xi)) in y.iter_mut().zip(x).enumerate() {
        let c = (i / cfg.hw) % cfg.c;
        *yi = (xi - mean[c]) * invstd[c] * gamma[c] + beta[c];
    }
}

/// [`batchnorm_apply`] followed by the activation `batchnorm_act.wgsl` fuses with it: `y`
/// where `y > 0`, `slope * y` elsewhere (ReLU at slope 0).
#[allow(clippy::too_many_arguments)] // mirrors the launcher
pub fn batchnorm_apply_act<T: Real>(
    cfg: &BatchNormConfig,
    x: &[T],
    mean: &[T],
    invstd: &[T],
    gamma: &[T],
    beta: &[T],
    y: &mut [T],
    slope: f32,
) {
    batchnorm_apply(cfg, x, mean, invstd, gamma, beta, y);
    activate(y, slope);
}

/// The gradient reaching batch norm through the activation [`batchnorm_apply_act`] fuses,
/// from that activation's output `y` and gradient `gy`: `gy` where `y > 0`, `slope * gy`
/// elsewhere (what the fused backward kernels recompute, `batchnorm_gy_act.wgsl`).
pub fn activation_backward<T: Real>(y: &[T], gy: &[T], slope: f32) -> Vec<T> {
    let slope: T = real(slope);
    y.iter()
        .zip(gy)
        .map(|(&y, &g)| if y > T::zero() { g } else { slope * g })
        .collect()
}

/// `v` where `v > 0`, `slope * v` elsewhere, in place.
pub fn activate<T: Real>(y: &mut [T], slope: f32) {
    let slope: T = real(slope);
    for v in y.iter_mut() {
        if *v <= T::zero() {
            *v = slope * *v;
        }
    }
}

pub fn batchnorm_backward_reduce<T: Real>(
    cfg: &BatchNormConfig,
    x: &[T],
    gy: &[T],
    mean: &[T],
    invstd: &[T],
    ggamma: &mut [T],
    gbeta: &mut [T],
) {
    for c in 0..cfg.c {
        let (mut sum_gy, mut sum_gy_xhat) = (T::zero(), T::zero());
        for j in 0..cfg.per_channel() {
            let i = channel_element(cfg, c, j);
            sum_gy += gy[i];
            sum_gy_xhat += gy[i] * (x[i] - mean[c]) * invstd[c];
        }
        gbeta[c] = sum_gy;
        ggamma[c] = sum_gy_xhat;
    }
}

#[allow(clippy::too_many_arguments)] // mirrors the launcher
pub fn batchnorm_backward_apply<T: Real>(
    cfg: &BatchNormConfig,
    mode: BatchNormMode,
    x: &[T],
    gy: &[T],
    mean: &[T],
    invstd: &[T],
    gamma: &[T],
    ggamma: &[T],
    gbeta: &[T],
    gx: &mut [T],
) {
    let m = T::from_f64(cfg.per_channel() as f64);
    for i in 0..cfg.len() {
        let c = (i / cfg.hw) % cfg.c;
        gx[i] = match mode {
            BatchNormMode::Training => {
                let xhat = (x[i] - mean[c]) * invstd[c];
                gamma[c] * invstd[c] / m * (m * gy[i] - gbeta[c] - xhat * ggamma[c])
            }
            BatchNormMode::Evaluation => gy[i] * gamma[c] * invstd[c],
        };
    }
}
