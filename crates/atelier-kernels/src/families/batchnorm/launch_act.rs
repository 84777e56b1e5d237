//! Launchers of batch norm fused with the ReLU or LeakyReLU after it (`batchnorm_act.wgsl`,
//! `batchnorm_gy_act.wgsl`): the forward [`batchnorm_apply_act`], and the backward
//! ([`batchnorm_backward_reduce_act`], [`batchnorm_backward_apply_act`]), which recomputes the
//! activation's derivative from the forward's output `y` inside batch norm's two backward
//! kernels instead of a pass of its own. Each takes the same buffers as its unfused twin in
//! `launch.rs` (whose checks and batch chunking it shares), plus `y` and the slope.

use super::launch::{Act, apply_checked, backward_apply_checked, backward_reduce};
use super::{BATCHNORM_ACT, BatchNormConfig, BatchNormMode, BatchNormReduction};
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const BATCHNORM_APPLY_ACT: Kernel = Kernel::new(&BATCHNORM_ACT, "batchnorm_apply_act");

/// Storage buffers `batchnorm_backward_apply_act` binds (WebGPU's minimum is 8).
const BACKWARD_APPLY_ACT_BINDINGS: u32 = 9;

/// Whether this device binds enough storage buffers for the fused backward
/// (`batchnorm_backward_apply_act` binds 9). Without, run the activation's backward, then the
/// unfused launchers.
pub fn batchnorm_act_backward_fits() -> bool {
    gpu().limits.max_storage_buffers_per_shader_stage >= BACKWARD_APPLY_ACT_BINDINGS
}

fn check_slope(k: &str, slope: f32) {
    assert!(
        slope >= 0.0,
        "{k}: slope {slope} is negative (the derivative is read off the output)"
    );
}

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
    check_slope(k, slope);
    let constants = [("SLOPE", slope as f64)];
    apply_checked(
        k,
        &BATCHNORM_APPLY_ACT,
        &constants,
        cfg,
        x,
        mean,
        invstd,
        gamma,
        beta,
        y,
    );
}

/// [`batchnorm_backward_reduce`](super::batchnorm_backward_reduce) of the output gradient
/// `gy` of [`batchnorm_apply_act`] (output `y`, `slope`): `gbeta[c] = sum(gy')`,
/// `ggamma[c] = sum(gy' * xhat)` with `gy' = gy * (1 where y > 0, slope elsewhere)`. The
/// reduction variant is the one `ATELIER_KERNELS` asks for (the rule by default).
#[allow(clippy::too_many_arguments)] // one argument per binding, then the slope
pub fn batchnorm_backward_reduce_act(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    y: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
    slope: f32,
) {
    crate::variant::run(&cfg.shape(), |v| {
        batchnorm_backward_reduce_act_with(v, cfg, x, y, gy, mean, invstd, ggamma, gbeta, slope)
    });
}

/// [`batchnorm_backward_reduce_act`] with the reduction variant chosen by the caller.
#[allow(clippy::too_many_arguments)] // the variant, one argument per binding, the slope
pub fn batchnorm_backward_reduce_act_with(
    variant: BatchNormReduction,
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    y: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
    slope: f32,
) {
    check_slope("batchnorm_backward_reduce_act", slope);
    let act: Act = Some((y, slope));
    backward_reduce(variant, cfg, x, gy, act, mean, invstd, ggamma, gbeta);
}

/// [`batchnorm_backward_apply`](super::batchnorm_backward_apply) of the output gradient `gy`
/// of [`batchnorm_apply_act`], the activation's derivative recomputed from `y` (sums from
/// [`batchnorm_backward_reduce_act`]). Needs [`batchnorm_act_backward_fits`].
#[allow(clippy::too_many_arguments)] // one argument per binding, then the slope
pub fn batchnorm_backward_apply_act(
    cfg: &BatchNormConfig,
    mode: BatchNormMode,
    x: &GpuBuffer,
    y: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
    gx: &GpuBuffer,
    slope: f32,
) {
    let k = "batchnorm_backward_apply_act";
    check_slope(k, slope);
    assert!(
        batchnorm_act_backward_fits(),
        "{k}: binds {BACKWARD_APPLY_ACT_BINDINGS} storage buffers, this device {}",
        gpu().limits.max_storage_buffers_per_shader_stage
    );
    let act: Act = Some((y, slope));
    backward_apply_checked(
        cfg, mode, x, gy, act, mean, invstd, gamma, ggamma, gbeta, gx,
    );
}
