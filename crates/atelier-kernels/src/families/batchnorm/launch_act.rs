//! Launcher for `batchnorm_act.wgsl`: [`batchnorm_apply`](super::batchnorm_apply) fused with
//! the ReLU or LeakyReLU after it.

use super::launch::{batched, params};
use super::{BATCHNORM_ACT, BatchNormConfig};
use crate::buffer_pool::GpuBuffer;
use crate::check::check_len;
use crate::chunk::split_batch;
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const BATCHNORM_APPLY_ACT: Kernel = Kernel::new(&BATCHNORM_ACT, "batchnorm_apply_act");

/// `y = act((x - mean[c]) * invstd[c] * gamma[c] + beta[c])` with `act(v) = v` for `v > 0`,
/// `slope * v` otherwise: ReLU at slope 0, LeakyReLU above. `slope` must be at least 0, so
/// that the backward can read the activation's derivative off `y`.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_apply_act(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    beta: &GpuBuffer,
    y: &GpuBuffer,
    slope: f32,
) {
    let k = "batchnorm_apply_act";
    assert!(slope >= 0.0, "{k}: slope {slope} is negative");
    check_len(k, "x", x, cfg.len(), cfg);
    check_len(k, "y", y, cfg.len(), cfg);
    for (what, b) in [
        ("mean", mean),
        ("invstd", invstd),
        ("gamma", gamma),
        ("beta", beta),
    ] {
        check_len(k, what, b, cfg.c, cfg);
    }
    let chunks = [batched("x", x, cfg), batched("y", y, cfg)];
    if split_batch(k, cfg.n, &chunks, |_, n, win| {
        let chunk = BatchNormConfig { n, ..*cfg };
        batchnorm_apply_act(&chunk, &win[0], mean, invstd, gamma, beta, &win[1], slope)
    }) {
        return;
    }
    let p = params(cfg, false);
    let buffers = [x, mean, invstd, gamma, beta, y];
    let constants = [("SLOPE", slope as f64)];
    gpu().launch_elements(&BATCHNORM_APPLY_ACT, &constants, &p, &buffers, cfg.len());
}
