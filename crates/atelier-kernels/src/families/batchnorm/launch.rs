//! Launchers for `batchnorm.wgsl`: 2-D batch normalisation (PyTorch's BatchNorm2d).
//!
//! Training forward: [`batchnorm_stats`] then [`batchnorm_apply`]. Evaluation forward:
//! [`batchnorm_invstd`] on `running_var`, then [`batchnorm_apply`] with `running_mean` as the
//! mean. Backward: [`batchnorm_backward_reduce`] then [`batchnorm_backward_apply`], fed the
//! statistics the forward used. Per-channel buffers (`mean`, `invstd`, `gamma`, ...) hold `c`
//! values; x, y, gy and gx hold `n * c * hw`.
//!
//! The two per-channel reductions come in three variants ([`BatchNormReduction`]): the
//! baseline tree in workgroup memory, subgroup operations (`batchnorm_subgroup.wgsl`) where the
//! device has them, and many workgroups per channel (`batchnorm_split.wgsl`, `launch_split.rs`).
//! [`batchnorm_stats`] and [`batchnorm_backward_reduce`] choose (by `ATELIER_KERNELS`, the rule
//! by default); the `_with` launchers take the variant. The backward of batch norm fused with
//! its activation (`launch_act.rs`) runs the same launchers with the activation's output.

use bytemuck::{Pod, Zeroable};

use super::{
    BATCHNORM, BATCHNORM_ACT, BATCHNORM_SUBGROUP, BATCHNORM_SUBGROUP_ACT, BatchNormReduction,
};
use crate::buffer_pool::GpuBuffer;
use crate::check::check_len;
use crate::chunk::{Batched, chunk_items, split_batch, split_batch_summed};
use crate::context::gpu;
use crate::elementwise::{BinaryOp, binary, fill};
use crate::pipeline::Kernel;
use crate::variant::Variant;

pub const BATCHNORM_STATS: Kernel = Kernel::new(&BATCHNORM, "batchnorm_stats");
pub const BATCHNORM_INVSTD: Kernel = Kernel::new(&BATCHNORM, "batchnorm_invstd");
pub const BATCHNORM_APPLY: Kernel = Kernel::new(&BATCHNORM, "batchnorm_apply");
pub const BATCHNORM_BACKWARD_REDUCE: Kernel = Kernel::new(&BATCHNORM, "batchnorm_backward_reduce");
pub const BATCHNORM_BACKWARD_APPLY: Kernel = Kernel::new(&BATCHNORM, "batchnorm_backward_apply");
pub const BATCHNORM_BACKWARD_APPLY_ACT: Kernel =
    Kernel::new(&BATCHNORM_ACT, "batchnorm_backward_apply_act");
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

    /// (n, c, h·w): what the variant choice looks at.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.n, self.c, self.hw)
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

/// The fused activation of a backward: the activation's output `y` (the fused forward's) and
/// its slope, from which the kernels recompute its derivative (`batchnorm_gy_act.wgsl`).
pub(super) type Act<'a> = Option<(&'a GpuBuffer, f32)>;

/// The override constants of a kernel with the fused activation `act`.
pub(super) fn act_constants(act: Act) -> Vec<(&'static str, f64)> {
    act.map(|(_, slope)| ("SLOPE", slope as f64))
        .into_iter()
        .collect()
}

impl BatchNormReduction {
    /// Panics, naming the launcher, where the device cannot run this variant.
    fn check_available(self, launcher: &str) {
        if let Some(why) = self.unavailable() {
            panic!("{launcher}: variant {} cannot run: {why}", self.name());
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(super) struct Params {
    n: u32,
    c: u32,
    hw: u32,
    total: u32,
    eps: f32,
    momentum: f32,
    /// Elements per channel of the whole batch (the training backward's m), which a chunk's
    /// `n * hw` is not.
    m: u32,
    training: u32,
    /// Blocks per channel of the split reductions (1 for the others).
    pub(super) blocks: u32,
    _pad: [u32; 3],
}

pub(super) fn params(cfg: &BatchNormConfig, training: bool) -> Params {
    let u = |v: usize| u32::try_from(v).expect("batchnorm: sizes must fit in u32");
    Params {
        n: u(cfg.n),
        c: u(cfg.c),
        hw: u(cfg.hw),
        total: u(cfg.len()),
        eps: cfg.eps,
        momentum: cfg.momentum,
        m: u(cfg.per_channel()),
        training: training as u32,
        blocks: 1,
        _pad: [0; 3],
    }
}

/// Training statistics: `mean[c]`, `invstd[c] = 1/sqrt(var + eps)` with the biased batch
/// variance, and `running_mean`, `running_var` updated in place with momentum (the running
/// variance takes the unbiased batch variance). Needs more than one element per channel.
/// The reduction variant is the one `ATELIER_KERNELS` asks for (the rule by default).
pub fn batchnorm_stats(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    running_mean: &GpuBuffer,
    running_var: &GpuBuffer,
) {
    // tuning runs the candidates several times: on copies of the running statistics, which
    // each run updates in place
    let variant = crate::variant::choose(&cfg.shape(), &mut |v| {
        let (rm, rv) = (GpuBuffer::uninit(cfg.c), GpuBuffer::uninit(cfg.c));
        gpu().copy(running_mean, 0, &rm, 0, cfg.c);
        gpu().copy(running_var, 0, &rv, 0, cfg.c);
        batchnorm_stats_with(v, cfg, x, mean, invstd, &rm, &rv);
    });
    crate::variant::launching(variant, &cfg.shape(), false, |v| {
        batchnorm_stats_with(v, cfg, x, mean, invstd, running_mean, running_var)
    });
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
    if chunk_items(k, cfg.n, &[batched("x", x, cfg)]).is_some() {
        stats_in_chunks(variant, cfg, x, mean, invstd, running_mean, running_var);
        return;
    }
    variant.check_available(k);
    let kernel = match variant {
        BatchNormReduction::Split => {
            super::launch_split::stats(cfg, x, mean, invstd, running_mean, running_var);
            return;
        }
        BatchNormReduction::Workgroup => BATCHNORM_STATS,
        BatchNormReduction::Subgroup => BATCHNORM_STATS_SUBGROUP,
    };
    let p = params(cfg, true);
    let buffers = [x, mean, invstd, running_mean, running_var];
    gpu().launch(
        &kernel,
        &[],
        &p,
        &buffers,
        p.c, // one workgroup per channel
    );
}

/// `b`, holding `[n, c, hw]`, for the chunk helpers.
pub(super) fn batched<'a>(what: &'a str, b: &'a GpuBuffer, cfg: &BatchNormConfig) -> Batched<'a> {
    Batched {
        what,
        buffer: b,
        per_item: cfg.c * cfg.hw,
    }
}

/// A buffer of `len` copies of `value`.
fn filled(len: usize, value: f32) -> GpuBuffer {
    let b = GpuBuffer::uninit(len);
    fill(&b, value);
    b
}

/// `out = a * b + c * d`, elementwise (per-channel buffers).
fn mul_add(a: &GpuBuffer, b: &GpuBuffer, c: &GpuBuffer, d: &GpuBuffer, out: &GpuBuffer) {
    let (ab, cd) = (GpuBuffer::uninit(out.len()), GpuBuffer::uninit(out.len()));
    binary(BinaryOp::Mul, a, b, &ab);
    binary(BinaryOp::Mul, c, d, &cd);
    binary(BinaryOp::Add, &ab, &cd, out);
}

/// [`batchnorm_stats_with`] for x larger than one binding. The statistics kernel needs a
/// channel's whole batch at once, so the chunked path builds them from sums the backward's
/// reduction gives chunk by chunk (with gy = x: `sum(gy) = sum(x)`, and with the batch mean as
/// `mean` and invstd 1, `sum(gy * xhat) = sum(x * (x - mean))`, the sum of squared
/// deviations): two passes over x, as the kernel makes, then a few per-channel ops.
fn stats_in_chunks(
    variant: BatchNormReduction,
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    running_mean: &GpuBuffer,
    running_var: &GpuBuffer,
) {
    let c = cfg.c;
    let m = cfg.per_channel() as f32;
    let (ones, zeros, inv_m) = (filled(c, 1.0), filled(c, 0.0), filled(c, 1.0 / m));
    let (sum, squares, unused) = (
        GpuBuffer::uninit(c),
        GpuBuffer::uninit(c),
        GpuBuffer::uninit(c),
    );
    batchnorm_backward_reduce_with(variant, cfg, x, x, &zeros, &ones, &unused, &sum);
    binary(BinaryOp::Mul, &sum, &inv_m, mean);
    batchnorm_backward_reduce_with(variant, cfg, x, x, mean, &ones, &squares, &unused);
    let biased_var = GpuBuffer::uninit(c);
    binary(BinaryOp::Mul, &squares, &inv_m, &biased_var);
    batchnorm_invstd(cfg, &biased_var, invstd);
    // running = (1 - momentum) * running + momentum * batch (unbiased variance)
    let keep = filled(c, 1.0 - cfg.momentum);
    let take = filled(c, cfg.momentum);
    let take_unbiased = filled(c, cfg.momentum * m / (m - 1.0));
    let updated = GpuBuffer::uninit(c);
    mul_add(&keep, running_mean, &take, mean, &updated);
    gpu().copy(&updated, 0, running_mean, 0, c);
    mul_add(&keep, running_var, &take_unbiased, &biased_var, &updated);
    gpu().copy(&updated, 0, running_var, 0, c);
}

/// Evaluation statistics: `invstd[c] = 1/sqrt(var[c] + eps)` (pass the running variance).
pub fn batchnorm_invstd(cfg: &BatchNormConfig, var: &GpuBuffer, invstd: &GpuBuffer) {
    check_len("batchnorm_invstd", "var", var, cfg.c, cfg);
    check_len("batchnorm_invstd", "invstd", invstd, cfg.c, cfg);
    let p = params(cfg, false);
    gpu().launch_elements(&BATCHNORM_INVSTD, &[], &p, &[var, invstd], cfg.c);
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
    apply_checked(
        k,
        &BATCHNORM_APPLY,
        &[],
        cfg,
        x,
        mean,
        invstd,
        gamma,
        beta,
        y,
    );
}

/// Checks the buffers of an apply (`kernel`, named `k` in messages: [`batchnorm_apply`], or
/// the fused activation's) and launches it, in chunks of items when x is larger than a
/// binding.
#[allow(clippy::too_many_arguments)] // the kernel, then one argument per binding
pub(super) fn apply_checked(
    k: &str,
    kernel: &Kernel,
    constants: &[(&str, f64)],
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    beta: &GpuBuffer,
    y: &GpuBuffer,
) {
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
        apply_checked(
            k, kernel, constants, &chunk, &win[0], mean, invstd, gamma, beta, &win[1],
        )
    }) {
        return;
    }
    let p = params(cfg, false);
    let buffers = [x, mean, invstd, gamma, beta, y];
    gpu().launch_elements(kernel, constants, &p, &buffers, cfg.len());
}

/// The per-channel sums of the backward, which are also the parameter gradients:
/// `gbeta[c] = sum(gy)`, `ggamma[c] = sum(gy * xhat)` (overwritten, not accumulated).
/// The reduction variant is the one `ATELIER_KERNELS` asks for (the rule by default).
pub fn batchnorm_backward_reduce(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
) {
    crate::variant::run(&cfg.shape(), |v| {
        batchnorm_backward_reduce_with(v, cfg, x, gy, mean, invstd, ggamma, gbeta)
    });
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
    backward_reduce(variant, cfg, x, gy, None, mean, invstd, ggamma, gbeta);
}

/// [`batchnorm_backward_reduce_with`] of the gradient `gy` of the fused activation `act`
/// when given (its derivative applied on the way in), else of `gy` itself.
#[allow(clippy::too_many_arguments)] // the variant, then one argument per binding
pub(super) fn backward_reduce(
    variant: BatchNormReduction,
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    act: Act,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
) {
    let k = if act.is_some() {
        "batchnorm_backward_reduce_act"
    } else {
        "batchnorm_backward_reduce"
    };
    check_len(k, "x", x, cfg.len(), cfg);
    check_len(k, "gy", gy, cfg.len(), cfg);
    if let Some((y, _)) = act {
        check_len(k, "y", y, cfg.len(), cfg);
    }
    for (what, b) in [
        ("mean", mean),
        ("invstd", invstd),
        ("ggamma", ggamma),
        ("gbeta", gbeta),
    ] {
        check_len(k, what, b, cfg.c, cfg);
    }
    variant.check_available(k);
    // sums over the batch: chunks of items, their sums added up
    let mut chunks = vec![batched("x", x, cfg), batched("gy", gy, cfg)];
    chunks.extend(act.map(|(y, _)| batched("y", y, cfg)));
    if split_batch_summed(k, cfg.n, &chunks, &[ggamma, gbeta], |_, n, win, out| {
        let chunk = BatchNormConfig { n, ..*cfg };
        let act = act.map(|(_, slope)| (&win[2], slope));
        backward_reduce(
            variant, &chunk, &win[0], &win[1], act, mean, invstd, out[0], out[1],
        )
    }) {
        return;
    }
    let kernel = match (variant, act.is_some()) {
        (BatchNormReduction::Split, _) => {
            super::launch_split::backward_reduce(cfg, x, gy, act, mean, invstd, ggamma, gbeta);
            return;
        }
        (BatchNormReduction::Workgroup, false) => BATCHNORM_BACKWARD_REDUCE,
        (BatchNormReduction::Workgroup, true) => {
            Kernel::new(&BATCHNORM_ACT, "batchnorm_backward_reduce")
        }
        (BatchNormReduction::Subgroup, false) => BATCHNORM_BACKWARD_REDUCE_SUBGROUP,
        (BatchNormReduction::Subgroup, true) => Kernel::new(
            &BATCHNORM_SUBGROUP_ACT,
            "batchnorm_backward_reduce_subgroup",
        ),
    };
    let p = params(cfg, false);
    let mut buffers = vec![x, gy, mean, invstd, ggamma, gbeta];
    buffers.extend(act.map(|(y, _)| y));
    gpu().launch(
        &kernel,
        &act_constants(act),
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
    backward_apply_checked(
        cfg, mode, x, gy, None, mean, invstd, gamma, ggamma, gbeta, gx,
    );
}

/// [`batchnorm_backward_apply`] of the gradient `gy` of the fused activation `act` when
/// given, else of `gy` itself: checks the buffers, then launches.
#[allow(clippy::too_many_arguments)] // one argument per binding
pub(super) fn backward_apply_checked(
    cfg: &BatchNormConfig,
    mode: BatchNormMode,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    act: Act,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
    gx: &GpuBuffer,
) {
    let k = if act.is_some() {
        "batchnorm_backward_apply_act"
    } else {
        "batchnorm_backward_apply"
    };
    let y = act.map(|(y, _)| ("y", y));
    for (what, b) in [("x", x), ("gy", gy), ("gx", gx)].into_iter().chain(y) {
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
    backward_apply(p, x, gy, act, mean, invstd, gamma, ggamma, gbeta, gx);
}

/// Launches [`batchnorm_backward_apply`] with `p`, in chunks of items when x is larger than a
/// binding (each chunk keeps the whole batch's `m`).
#[allow(clippy::too_many_arguments)] // one argument per binding
fn backward_apply(
    p: Params,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    act: Act,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    gamma: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
    gx: &GpuBuffer,
) {
    let per_item = (p.c * p.hw) as usize;
    let y = act.map(|(y, _)| ("y", y));
    let chunks: Vec<Batched> = [("x", x), ("gy", gy), ("gx", gx)]
        .into_iter()
        .chain(y)
        .map(|(what, buffer)| Batched {
            what,
            buffer,
            per_item,
        })
        .collect();
    if split_batch(
        "batchnorm_backward_apply",
        p.n as usize,
        &chunks,
        |_, n, win| {
            let chunk = Params {
                n: n as u32,
                total: (n * per_item) as u32,
                ..p
            };
            let act = act.map(|(_, slope)| (&win[3], slope));
            backward_apply(
                chunk, &win[0], &win[1], act, mean, invstd, gamma, ggamma, gbeta, &win[2],
            )
        },
    ) {
        return;
    }
    let mut buffers = vec![x, gy, mean, invstd, gamma, ggamma, gbeta, gx];
    buffers.extend(act.map(|(y, _)| y));
    let kernel = if act.is_some() {
        BATCHNORM_BACKWARD_APPLY_ACT
    } else {
        BATCHNORM_BACKWARD_APPLY
    };
    let constants = act_constants(act);
    gpu().launch_elements(&kernel, &constants, &p, &buffers, p.total as usize);
}
