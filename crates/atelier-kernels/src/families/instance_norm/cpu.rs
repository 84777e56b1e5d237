//! The fast CPU device's instance norm, in f32: instances (one (n, c) plane each) split over
//! the thread pool; each plane's sums accumulate in f64 (a plane can hold 65,536 elements and
//! more), and the apply passes use per-plane factors computed once.

use crate::cpu::threads::{GRAIN, for_chunks, for_chunks_mut};
use crate::instance_norm::InstanceNormConfig;

/// Instances per piece of work: at least a grain of elements.
fn instance_grain(cfg: &InstanceNormConfig) -> usize {
    (GRAIN / cfg.hw.max(1)).max(1)
}

fn check(cfg: &InstanceNormConfig, op: &str, lens: &[usize]) {
    for &len in lens {
        assert_eq!(
            len,
            cfg.len(),
            "{op} (fast CPU): a tensor's length for {cfg:?}"
        );
    }
}

/// As [`crate::instance_norm::reference::instance_norm_stats`].
pub fn instance_norm_stats(
    cfg: &InstanceNormConfig,
    x: &[f32],
    mean: &mut [f32],
    invstd: &mut [f32],
) {
    check(cfg, "instance_norm_stats", &[x.len()]);
    let hw = cfg.hw;
    for_chunks(mean, 1, invstd, 1, instance_grain(cfg), |first, ms, ss| {
        for (i, (m, s)) in ms.iter_mut().zip(ss.iter_mut()).enumerate() {
            let plane = &x[(first + i) * hw..][..hw];
            let mu = plane.iter().map(|&v| v as f64).sum::<f64>() / hw as f64;
            let var = plane.iter().map(|&v| (v as f64 - mu).powi(2)).sum::<f64>() / hw as f64;
            *m = mu as f32;
            *s = (1.0 / (var + cfg.eps as f64).sqrt()) as f32;
        }
    });
}

/// As [`crate::instance_norm::reference::instance_norm_apply`].
pub fn instance_norm_apply(
    cfg: &InstanceNormConfig,
    x: &[f32],
    (mean, invstd): (&[f32], &[f32]),
    (gamma, beta): (&[f32], &[f32]),
    y: &mut [f32],
) {
    check(cfg, "instance_norm_apply", &[x.len(), y.len()]);
    let hw = cfg.hw;
    for_chunks_mut(y, hw, GRAIN, |first, ys| {
        for (i, yp) in ys.chunks_mut(hw).enumerate() {
            let g = first + i;
            // (x - mean)·a + β, not a·x + (β - mean·a): that cancels where x is near the mean
            let (mu, a, b) = (mean[g], invstd[g] * gamma[g % cfg.c], beta[g % cfg.c]);
            for (yo, &v) in yp.iter_mut().zip(&x[g * hw..(g + 1) * hw]) {
                *yo = (v - mu) * a + b;
            }
        }
    });
}

/// As [`crate::instance_norm::reference::instance_norm_backward_reduce`]: per instance, the
/// sums of gy·x̂ and of gy.
pub fn instance_norm_backward_reduce(
    cfg: &InstanceNormConfig,
    x: &[f32],
    gy: &[f32],
    (mean, invstd): (&[f32], &[f32]),
    sum_gy_xhat: &mut [f32],
    sum_gy: &mut [f32],
) {
    check(cfg, "instance_norm_backward_reduce", &[x.len(), gy.len()]);
    let hw = cfg.hw;
    for_chunks(
        sum_gy_xhat,
        1,
        sum_gy,
        1,
        instance_grain(cfg),
        |first, sxs, ss| {
            for (i, (sx, s)) in sxs.iter_mut().zip(ss.iter_mut()).enumerate() {
                let g = first + i;
                let (xs, gs) = (&x[g * hw..(g + 1) * hw], &gy[g * hw..(g + 1) * hw]);
                let (mut sum, mut sum_x) = (0.0f64, 0.0f64);
                for (&v, &d) in xs.iter().zip(gs) {
                    sum += d as f64;
                    sum_x += d as f64 * (v - mean[g]) as f64;
                }
                *s = sum as f32;
                *sx = (sum_x * invstd[g] as f64) as f32;
            }
        },
    );
}

/// As [`crate::instance_norm::reference::instance_norm_backward_apply`].
pub fn instance_norm_backward_apply(
    cfg: &InstanceNormConfig,
    (x, gy): (&[f32], &[f32]),
    (mean, invstd, gamma): (&[f32], &[f32], &[f32]),
    (sum_gy_xhat, sum_gy): (&[f32], &[f32]),
    gx: &mut [f32],
) {
    check(
        cfg,
        "instance_norm_backward_apply",
        &[x.len(), gy.len(), gx.len()],
    );
    let hw = cfg.hw;
    let m = hw as f32;
    for_chunks_mut(gx, hw, GRAIN, |first, gxs| {
        for (i, gp) in gxs.chunks_mut(hw).enumerate() {
            let g = first + i;
            let scale = gamma[g % cfg.c] * invstd[g] / m;
            let (xs, gs) = (&x[g * hw..(g + 1) * hw], &gy[g * hw..(g + 1) * hw]);
            for ((o, &v), &d) in gp.iter_mut().zip(xs).zip(gs) {
                let xhat = (v - mean[g]) * invstd[g];
                *o = scale * (m * d - sum_gy[g] - xhat * sum_gy_xhat[g]);
            }
        }
    });
}
