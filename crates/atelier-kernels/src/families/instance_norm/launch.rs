//! Launchers for `instance_norm.wgsl`: 2-D instance normalisation (PyTorch's
//! InstanceNorm2d with affine=True; no running statistics).
//!
//! Forward: [`instance_norm_stats`] then [`instance_norm_apply`]. Backward:
//! [`instance_norm_backward_reduce`], [`instance_norm_backward_apply`] and
//! [`instance_norm_param_grads`]. Per-instance buffers (`mean`, `invstd`, `sum_gy`,
//! `sum_gy_xhat`) hold `n * c` values, instance `n * c + c`; `gamma`, `beta` and their gradients
//! hold `c`; x, y, gy and gx hold `n * c * hw`.

use bytemuck::{Pod, Zeroable};

use crate::context::gpu;
use crate::pipeline::Kernel;
use crate::buffer_pool::GpuBuffer;
use crate::check::check_lens;
use super::{INSTANCE_NORM};

pub const INSTANCE_NORM_STATS: Kernel = Kernel::new(&INSTANCE_NORM, "instance_norm_stats");
pub const INSTANCE_NORM_APPLY: Kernel = Kernel::new(&INSTANCE_NORM, "instance_norm_apply");
pub const INSTANCE_NORM_BACKWARD_REDUCE: Kernel =
    Kernel::new(&INSTANCE_NORM, "instance_norm_backward_reduce");
pub const INSTANCE_NORM_BACKWARD_APPLY: Kernel =
    Kernel::new(&INSTANCE_NORM, "instance_norm_backward_apply");
pub const INSTANCE_NORM_PARAM_GRADS: Kernel =
    Kernel::new(&INSTANCE_NORM, "instance_norm_param_grads");

/// PyTorch's default.
pub const DEFAULT_EPS: f32 = 1e-5;

/// The shape and eps of one instance normalisation: input `[n, c, h, w]` with `hw = h * w`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceNormConfig {
    pub n: usize,
    pub c: usize,
    pub hw: usize,
    pub eps: f32,
}

impl InstanceNormConfig {
    /// `[n, c, h, w]` with PyTorch's default eps.
    pub fn new(n: usize, c: usize, h: usize, w: usize) -> InstanceNormConfig {
        InstanceNormConfig {
            n,
            c,
            hw: h * w,
            eps: DEFAULT_EPS,
        }
    }

    /// Elements of x.
    pub fn len(&self) -> usize {
        self.n * self.c * self.hw
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Instances, n * c: the length of the per-instance buffers.
    pub fn instances(&self) -> usize {
        self.n * self.c
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    c: u32,
    hw: u32,
    total: u32,
    eps: f32,
    _pad: [u32; 3],
}

fn params(cfg: &InstanceNormConfig) -> Params {
    let u = |v: usize| u32::try_from(v).expect("instance_norm: sizes must fit in u32");
    Params {
        n: u(cfg.n),
        c: u(cfg.c),
        hw: u(cfg.hw),
        total: u(cfg.len()),
        eps: cfg.eps,
        _pad: [0; 3],
    }
}

/// Per-instance `mean[g]` and `invstd[g] = 1/sqrt(var + eps)` (biased variance over h*w).
pub fn instance_norm_stats(
    cfg: &InstanceNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
) {
    let k = "instance_norm_stats";
    check_lens(k, cfg, cfg.len(), &[("x", x)]);
    check_lens(
        k,
        cfg,
        cfg.instances(),
        &[("mean", mean), ("invstd", invstd)],
    );
    let groups = u32::try_from(cfg.instances()).expect("instance_norm: too many instances");
    gpu().launch(
        &INSTANCE_NORM_STATS,
        &[],
        &params(cfg),
        &[x, mean, invstd],
        groups,
    );
}

/// `y = (x - mean[g]) * invstd[g] * gamma[c] + beta[c]`.
pub fn instance_norm_apply(
    cfg: &InstanceNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    beta: &GpuBuffer,
    y: &GpuBuffer,
) {
    let k = "instance_norm_apply";
    check_lens(k, cfg, cfg.len(), &[("x", x), ("y", y)]);
    check_lens(
        k,
        cfg,
        cfg.instances(),
        &[("mean", mean), ("invstd", invstd)],
    );
    check_lens(k, cfg, cfg.c, &[("gamma", gamma), ("beta", beta)]);
    let buffers = [x, mean, invstd, gamma, beta, y];
    gpu().launch_elements(&INSTANCE_NORM_APPLY, &[], &params(cfg), &buffers, cfg.len());
}

/// Per-instance sums of the backward: `sum_gy[g] = sum(gy)`, `sum_gy_xhat[g] = sum(gy * xhat)`.
pub fn instance_norm_backward_reduce(
    cfg: &InstanceNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    sum_gy_xhat: &GpuBuffer,
    sum_gy: &GpuBuffer,
) {
    let k = "instance_norm_backward_reduce";
    check_lens(k, cfg, cfg.len(), &[("x", x), ("gy", gy)]);
    let per_instance = [
        ("mean", mean),
        ("invstd", invstd),
        ("sum_gy_xhat", sum_gy_xhat),
        ("sum_gy", sum_gy),
    ];
    check_lens(k, cfg, cfg.instances(), &per_instance);
    let groups = u32::try_from(cfg.instances()).expect("instance_norm: too many instances");
    let buffers = [x, gy, mean, invstd, sum_gy_xhat, sum_gy];
    gpu().launch(
        &INSTANCE_NORM_BACKWARD_REDUCE,
        &[],
        &params(cfg),
        &buffers,
        groups,
    );
}

/// `gx = gamma[c]*invstd[g]/m * (m*gy - sum_gy[g] - xhat*sum_gy_xhat[g])` with m = h*w.
#[allow(clippy::too_many_arguments)] // one argument per binding
pub fn instance_norm_backward_apply(
    cfg: &InstanceNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    sum_gy_xhat: &GpuBuffer,
    sum_gy: &GpuBuffer,
    gx: &GpuBuffer,
) {
    let k = "instance_norm_backward_apply";
    check_lens(k, cfg, cfg.len(), &[("x", x), ("gy", gy), ("gx", gx)]);
    let per_instance = [
        ("mean", mean),
        ("invstd", invstd),
        ("sum_gy_xhat", sum_gy_xhat),
        ("sum_gy", sum_gy),
    ];
    check_lens(k, cfg, cfg.instances(), &per_instance);
    check_lens(k, cfg, cfg.c, &[("gamma", gamma)]);
    let buffers = [x, gy, mean, invstd, gamma, sum_gy_xhat, sum_gy, gx];
    gpu().launch_elements(
        &INSTANCE_NORM_BACKWARD_APPLY,
        &[],
        &params(cfg),
        &buffers,
        cfg.len(),
    );
}

/// The parameter gradients (overwritten, not accumulated): `ggamma[c]` and `gbeta[c]` are
/// `sum_gy_xhat` and `sum_gy` added over the batch.
pub fn instance_norm_param_grads(
    cfg: &InstanceNormConfig,
    sum_gy_xhat: &GpuBuffer,
    sum_gy: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
) {
    let k = "instance_norm_param_grads";
    check_lens(
        k,
        cfg,
        cfg.instances(),
        &[("sum_gy_xhat", sum_gy_xhat), ("sum_gy", sum_gy)],
    );
    check_lens(k, cfg, cfg.c, &[("ggamma", ggamma), ("gbeta", gbeta)]);
    let buffers = [sum_gy_xhat, sum_gy, ggamma, gbeta];
    gpu().launch_elements(&INSTANCE_NORM_PARAM_GRADS, &[], &params(cfg), &buffers, cfg.c);
}
