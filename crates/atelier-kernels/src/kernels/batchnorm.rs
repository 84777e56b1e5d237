//! Launchers for `shaders/batchnorm.wgsl`: 2-D batch normalisation (PyTorch's BatchNorm2d).
//!
//! Training forward: [`batchnorm_stats`] then [`batchnorm_apply`]. Evaluation forward:
//! [`batchnorm_invstd`] on `running_var`, then [`batchnorm_apply`] with `running_mean` as the
//! mean. Backward: [`batchnorm_backward_reduce`] then [`batchnorm_backward_apply`], fed the
//! statistics the forward used. Per-channel buffers (`mean`, `invstd`, `gamma`, ...) hold `c`
//! values; x, y, gy and gx hold `n * c * hw`.
//!
//! The two per-channel reductions come in two variants ([`BatchNormReduction`]): the baseline
//! tree in workgroup memory, and subgroup operations (`shaders/batchnorm_subgroup.wgsl`) where
//! the device has them. [`batchnorm_stats`] and [`batchnorm_backward_reduce`] choose
//! ([`BatchNormReduction::auto`]); the `_with` launchers take the variant.

use bytemuck::{Pod, Zeroable};

use super::{WG, groups_for};
use crate::context::{gpu, subgroups_missing};
use crate::pipeline::Kernel;
use crate::pool::GpuBuffer;
use crate::shaders::{BATCHNORM, BATCHNORM_SUBGROUP};

pub const BATCHNORM_STATS: Kernel = Kernel::new(&BATCHNORM, "batchnorm_stats");
pub const BATCHNORM_INVSTD: Kernel = Kernel::new(&BATCHNORM, "batchnorm_invstd");
pub const BATCHNORM_APPLY: Kernel = Kernel::new(&BATCHNORM, "batchnorm_apply");
pub const BATCHNORM_BACKWARD_REDUCE: Kernel = Kernel::new(&BATCHNORM, "batchnorm_backward_reduce");
pub const BATCHNORM_BACKWARD_APPLY: Kernel = Kernel::new(&BATCHNORM, "batchnorm_backward_apply");
pub const BATCHNORM_STATS_SUBGROUP: Kernel =
    Kernel::new(&BATCHNORM_SUBGROUP, "batchnorm_stats_subgroup");
pub const BATCHNORM_BACKWARD_REDUCE_SUBGROUP: Kernel =
    Kernel::new(&BATCHNORM_SUBGROUP, "batchnorm_backward_reduce_subgroup");

/// PyTorch's defaults.
pub const DEFAULT_EPS: f32 = 1e-5;
pub const DEFAULT_MOMENTUM: f32 = 0.1;

/// The shape and hyper-parameters of one batch normalisation: input `[n, c, h, w]` with
/// `hw = h * w`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormConfig {
    pub n: usize,
    pub c: usize,
    pub hw: usize,
    pub eps: f32,
    /// Weight of the batch statistic in the running averages.
    pub momentum: f32,
}

impl BatchNormConfig {
    /// `[n, c, h, w]` with PyTorch's default eps and momentum.
    pub fn new(n: usize, c: usize, h: usize, w: usize) -> BatchNormConfig {
        BatchNormConfig {
            n,
            c,
            hw: h * w,
            eps: DEFAULT_EPS,
            momentum: DEFAULT_MOMENTUM,
        }
    }

    /// Elements of x.
    pub fn len(&self) -> usize {
        self.n * self.c * self.hw
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements per channel, m = n * h * w.
    pub fn per_channel(&self) -> usize {
        self.n * self.hw
    }
}

/// Whether the statistics came from the batch (training) or are the running averages
/// (evaluation); only the backward needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchNormMode {
    Training,
    Evaluation,
}

/// How the per-channel reductions ([`batchnorm_stats_with`],
/// [`batchnorm_backward_reduce_with`]) sum a channel: both use one workgroup per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchNormReduction {
    /// A tree reduction in workgroup memory (log2(WG) barriers).
    Workgroup,
    /// Each subgroup sums in registers (`subgroupAdd`), one value per subgroup goes through
    /// workgroup memory (one barrier). Needs the device's SUBGROUP feature.
    Subgroup,
}

impl BatchNormReduction {
    pub const ALL: [BatchNormReduction; 2] =
        [BatchNormReduction::Workgroup, BatchNormReduction::Subgroup];

    pub fn name(self) -> &'static str {
        match self {
            BatchNormReduction::Workgroup => "workgroup",
            BatchNormReduction::Subgroup => "subgroup",
        }
    }

    pub fn from_name(name: &str) -> Option<BatchNormReduction> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// Why this variant cannot run on the current device, or `None` when it can.
    pub fn unavailable_reason(self) -> Option<String> {
        match self {
            BatchNormReduction::Workgroup => None,
            BatchNormReduction::Subgroup => subgroups_missing(),
        }
    }

    pub fn is_available(self) -> bool {
        self.unavailable_reason().is_none()
    }

    /// The variants the current device can run.
    pub fn available() -> Vec<BatchNormReduction> {
        Self::ALL.into_iter().filter(|v| v.is_available()).collect()
    }

    /// Subgroups where the device has them, else the workgroup tree.
    pub fn auto() -> BatchNormReduction {
        if BatchNormReduction::Subgroup.is_available() {
            BatchNormReduction::Subgroup
        } else {
            BatchNormReduction::Workgroup
        }
    }

    /// This variant's entry point (`baseline` or `subgroup`); panics, naming the launcher,
    /// where the device cannot run it.
    fn kernel(self, launcher: &str, baseline: Kernel, subgroup: Kernel) -> Kernel {
        if let Some(why) = self.unavailable_reason() {
            panic!("{launcher}: variant {} cannot run: {why}", self.name());
        }
        match self {
            BatchNormReduction::Workgroup => baseline,
            BatchNormReduction::Subgroup => subgroup,
        }
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
    momentum: f32,
    _pad: u32,
    training: u32,
}

fn params(cfg: &BatchNormConfig, training: bool) -> Params {
    let u = |v: usize| u32::try_from(v).expect("batchnorm: sizes must fit in u32");
    Params {
        n: u(cfg.n),
        c: u(cfg.c),
        hw: u(cfg.hw),
        total: u(cfg.len()),
        eps: cfg.eps,
        momentum: cfg.momentum,
        _pad: 0,
        training: training as u32,
    }
}

fn check_len(kernel: &str, what: &str, b: &GpuBuffer, want: usize, cfg: &BatchNormConfig) {
    assert_eq!(
        b.len(),
        want,
        "{kernel}: {what} has {} elements, expected {want} for n={} c={} hw={}",
        b.len(),
        cfg.n,
        cfg.c,
        cfg.hw
    );
}

/// Training statistics: `mean[c]`, `invstd[c] = 1/sqrt(var + eps)` with the biased batch
/// variance, and `running_mean`, `running_var` updated in place with momentum (the running
/// variance takes the unbiased batch variance). Needs more than one element per channel.
/// The reduction variant is [`BatchNormReduction::auto`].
pub fn batchnorm_stats(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    running_mean: &GpuBuffer,
    running_var: &GpuBuffer,
) {
    let variant = BatchNormReduction::auto();
    batchnorm_stats_with(variant, cfg, x, mean, invstd, running_mean, running_var);
}

/// [`batchnorm_stats`] with the reduction variant chosen by the caller.
pub fn batchnorm_stats_with(
    variant: BatchNormReduction,
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    running_mean: &GpuBuffer,
    running_var: &GpuBuffer,
) {
    let k = "batchnorm_stats";
    assert!(
        cfg.per_channel() > 1,
        "{k}: training needs more than one value per channel (n={} hw={})",
        cfg.n,
        cfg.hw
    );
    check_len(k, "x", x, cfg.len(), cfg);
    for (what, b) in [
        ("mean", mean),
        ("invstd", invstd),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ] {
        check_len(k, what, b, cfg.c, cfg);
    }
    let kernel = variant.kernel(k, BATCHNORM_STATS, BATCHNORM_STATS_SUBGROUP);
    let p = params(cfg, true);
    let buffers = [x, mean, invstd, running_mean, running_var];
    gpu().launch(
        &kernel,
        &[("WG", WG as f64)],
        &p,
        &buffers,
        p.c, // one workgroup per channel
    );
}

/// Evaluation statistics: `invstd[c] = 1/sqrt(var[c] + eps)` (pass the running variance).
pub fn batchnorm_invstd(cfg: &BatchNormConfig, var: &GpuBuffer, invstd: &GpuBuffer) {
    check_len("batchnorm_invstd", "var", var, cfg.c, cfg);
    check_len("batchnorm_invstd", "invstd", invstd, cfg.c, cfg);
    let p = params(cfg, false);
    gpu().launch(
        &BATCHNORM_INVSTD,
        &[("WG", WG as f64)],
        &p,
        &[var, invstd],
        groups_for(cfg.c),
    );
}

/// `y = (x - mean[c]) * invstd[c] * gamma[c] + beta[c]`.
pub fn batchnorm_apply(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    beta: &GpuBuffer,
    y: &GpuBuffer,
) {
    let k = "batchnorm_apply";
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
    let p = params(cfg, false);
    let buffers = [x, mean, invstd, gamma, beta, y];
    gpu().launch(
        &BATCHNORM_APPLY,
        &[("WG", WG as f64)],
        &p,
        &buffers,
        groups_for(cfg.len()),
    );
}

/// The per-channel sums of the backward, which are also the parameter gradients:
/// `gbeta[c] = sum(gy)`, `ggamma[c] = sum(gy * xhat)` (overwritten, not accumulated).
/// The reduction variant is [`BatchNormReduction::auto`].
pub fn batchnorm_backward_reduce(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
) {
    let variant = BatchNormReduction::auto();
    batchnorm_backward_reduce_with(variant, cfg, x, gy, mean, invstd, ggamma, gbeta);
}

/// [`batchnorm_backward_reduce`] with the reduction variant chosen by the caller.
#[allow(clippy::too_many_arguments)] // the variant, then one argument per binding
pub fn batchnorm_backward_reduce_with(
    variant: BatchNormReduction,
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
) {
    let k = "batchnorm_backward_reduce";
    check_len(k, "x", x, cfg.len(), cfg);
    check_len(k, "gy", gy, cfg.len(), cfg);
    for (what, b) in [
        ("mean", mean),
        ("invstd", invstd),
        ("ggamma", ggamma),
        ("gbeta", gbeta),
    ] {
        check_len(k, what, b, cfg.c, cfg);
    }
    let kernel = variant.kernel(
        k,
        BATCHNORM_BACKWARD_REDUCE,
        BATCHNORM_BACKWARD_REDUCE_SUBGROUP,
    );
    let p = params(cfg, false);
    let buffers = [x, gy, mean, invstd, ggamma, gbeta];
    gpu().launch(
        &kernel,
        &[("WG", WG as f64)],
        &p,
        &buffers,
        p.c, // one workgroup per channel
    );
}

/// The input gradient, from the sums [`batchnorm_backward_reduce`] left in `ggamma`, `gbeta`.
/// Training: `gx = gamma*invstd/m * (m*gy - gbeta - xhat*ggamma)`; evaluation:
/// `gx = gy * gamma * invstd`.
#[allow(clippy::too_many_arguments)] // one argument per binding
pub fn batchnorm_backward_apply(
    cfg: &BatchNormConfig,
    mode: BatchNormMode,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
    gx: &GpuBuffer,
) {
    let k = "batchnorm_backward_apply";
    for (what, b) in [("x", x), ("gy", gy), ("gx", gx)] {
        check_len(k, what, b, cfg.len(), cfg);
    }
    for (what, b) in [
        ("mean", mean),
        ("invstd", invstd),
        ("gamma", gamma),
        ("ggamma", ggamma),
        ("gbeta", gbeta),
    ] {
        check_len(k, what, b, cfg.c, cfg);
    }
    let p = params(cfg, mode == BatchNormMode::Training);
    let buffers = [x, gy, mean, invstd, gamma, ggamma, gbeta, gx];
    gpu().launch(
        &BATCHNORM_BACKWARD_APPLY,
        &[("WG", WG as f64)],
        &p,
        &buffers,
        groups_for(cfg.len()),
    );
}
