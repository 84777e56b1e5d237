//! The fast CPU device's batch normalisation, in f32: the per-channel reductions split over
//! the channels, the apply passes over the (image, channel) planes, on the thread pool. Sums
//! run in eight lanes (vectorised) and are added across planes in f64.

use rayon::prelude::*;

use crate::batchnorm::{BatchNormConfig, BatchNormMode};
use crate::cpu::install;
use crate::cpu::lanes::{sum8, sum8_by};
use crate::cpu::threads::{GRAIN, for_chunks_mut};

/// `f(c)` for every channel, in parallel when the tensor is large.
fn per_channel<R: Send>(cfg: &BatchNormConfig, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    if cfg.len() < 2 * GRAIN {
        (0..cfg.c).map(f).collect()
    } else {
        install(|| (0..cfg.c).into_par_iter().map(f).collect())
    }
}

/// The planes of channel c (one per image).
fn planes<'a>(cfg: &'a BatchNormConfig, x: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> {
    (0..cfg.n).map(move |n| &x[(n * cfg.c + c) * cfg.hw..(n * cfg.c + c + 1) * cfg.hw])
}

/// Batch mean and 1/sqrt(var + eps) per channel, and the running averages updated, as
/// [`crate::batchnorm::reference::batchnorm_stats`].
pub fn batchnorm_stats(
    cfg: &BatchNormConfig,
    x: &[f32],
    mean: &mut [f32],
    invstd: &mut [f32],
    running_mean: &mut [f32],
    running_var: &mut [f32],
) {
    assert_eq!(x.len(), cfg.len(), "batchnorm_stats (fast CPU): x length");
    let m = cfg.per_channel();
    assert!(
        m > 1,
        "batchnorm_stats: training needs more than one value per channel"
    );
    let stats = per_channel(cfg, |c| {
        let mu = planes(cfg, x, c).map(|p| sum8(p) as f64).sum::<f64>() / m as f64;
        let muf = mu as f32;
        let var = planes(cfg, x, c)
            .map(|p| sum8_by(p, p, |v, _| (v - muf) * (v - muf)) as f64)
            .sum::<f64>()
            / m as f64;
        (mu, var)
    });
    let momentum = cfg.momentum as f64;
    for (c, (mu, var)) in stats.into_iter().enumerate() {
        mean[c] = mu as f32;
        invstd[c] = (1.0 / (var + cfg.eps as f64).sqrt()) as f32;
        let unbiased = var * m as f64 / (m - 1) as f64;
        running_mean[c] = ((1.0 - momentum) * running_mean[c] as f64 + momentum * mu) as f32;
        running_var[c] = ((1.0 - momentum) * running_var[c] as f64 + momentum * unbiased) as f32;
    }
}

/// y = (x − mean)·invstd·γ + β, as [`crate::batchnorm::reference::batchnorm_apply`].
pub fn batchnorm_apply(
    cfg: &BatchNormConfig,
    x: &[f32],
    mean: &[f32],
    invstd: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
) {
    assert!(
        x.len() == cfg.len() && y.len() == cfg.len(),
        "batchnorm_apply (fast CPU): lengths"
    );
    for_chunks_mut(y, cfg.hw, GRAIN, |first, out| {
        for (k, yp) in out.chunks_mut(cfg.hw).enumerate() {
            let plane = first + k;
            let c = plane % cfg.c;
            let scale = invstd[c] * gamma[c];
            let shift = beta[c] - mean[c] * scale;
            let xp = &x[plane * cfg.hw..(plane + 1) * cfg.hw];
            for (o, &v) in yp.iter_mut().zip(xp) {
                *o = v * scale + shift;
            }
        }
    });
}

/// ∂L/∂γ = Σ gy·x̂ and ∂L/∂β = Σ gy per channel, as
/// [`crate::batchnorm::reference::batchnorm_backward_reduce`].
pub fn batchnorm_backward_reduce(
    cfg: &BatchNormConfig,
    x: &[f32],
    gy: &[f32],
    mean: &[f32],
    invstd: &[f32],
    ggamma: &mut [f32],
    gbeta: &mut [f32],
) {
    let sums = per_channel(cfg, |c| {
        let mu = mean[c];
        let (mut s_gy, mut s_gy_xc) = (0.0f64, 0.0f64);
        for (xp, gp) in planes(cfg, x, c).zip(planes(cfg, gy, c)) {
            s_gy += sum8(gp) as f64;
            s_gy_xc += sum8_by(xp, gp, |v, g| g * (v - mu)) as f64;
        }
        (s_gy, s_gy_xc * invstd[c] as f64)
    });
    for (c, (s_gy, s_gy_xhat)) in sums.into_iter().enumerate() {
        gbeta[c] = s_gy as f32;
        ggamma[c] = s_gy_xhat as f32;
    }
}

/// gx, as [`crate::batchnorm::reference::batchnorm_backward_apply`].
#[allow(clippy::too_many_arguments)] // mirrors the launcher
pub fn batchnorm_backward_apply(
    cfg: &BatchNormConfig,
    mode: BatchNormMode,
    x: &[f32],
    gy: &[f32],
    mean: &[f32],
    invstd: &[f32],
    gamma: &[f32],
    ggamma: &[f32],
    gbeta: &[f32],
    gx: &mut [f32],
) {
    let m = cfg.per_channel() as f32;
    for_chunks_mut(gx, cfg.hw, GRAIN, |first, out| {
        for (k, gp) in out.chunks_mut(cfg.hw).enumerate() {
            let plane = first + k;
            let c = plane % cfg.c;
            let range = plane * cfg.hw..(plane + 1) * cfg.hw;
            let (xp, gyp) = (&x[range.clone()], &gy[range]);
            match mode {
                BatchNormMode::Training => {
                    // gx = γ·invstd/m · (m·gy − Σgy − x̂·Σgy·x̂), x̂ = (x − mean)·invstd
                    let k1 = gamma[c] * invstd[c];
                    let mean_gy = gbeta[c] / m;
                    let k2 = ggamma[c] * invstd[c] / m;
                    for ((o, &v), &g) in gp.iter_mut().zip(xp).zip(gyp) {
                        *o = k1 * (g - mean_gy - (v - mean[c]) * k2);
                    }
                }
                BatchNormMode::Evaluation => {
                    let k1 = gamma[c] * invstd[c];
                    for (o, &g) in gp.iter_mut().zip(gyp) {
                        *o = g * k1;
                    }
                }
            }
        }
    });
}
