//! Launchers for `instance_norm.wgsl`: 2-D instance normalisation (PyTorch's
//! InstanceNorm2d with affine=True; no running statistics).
//!
//! Forward: [`instance_norm_stats`] then [`instance_norm_apply`]. Backward:
//! [`instance_norm_backward_reduce`], [`instance_norm_backward_apply`] and
//! [`instance_norm_param_grads`]. Per-instance buffers (`mean`, `invstd`, `sum_gy`,
//! `sum_gy_xhat`) hold `n * c` values, instance `n * c + c`; `gamma`, `beta` and their gradients
//! hold `c`; x, y, gy and gx hold `n * c * hw`.

use bytemuck::{Pod, Zeroable};

use super::INSTANCE_NORM;
use crate::buffer_pool::GpuBuffer;
use crate::check::check_lens;
use crate::chunk::{Batched, chunk_items, count_chunk, mark_parents};
use crate::context::gpu;
use crate::pipeline::Kernel;

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

/// The buffers of one launch: full-size tensors (`[n, c, hw]`), per-instance inputs and
/// outputs (`[n, c]`) and per-channel inputs (`[c]`).
struct Buffers<'a> {
    big: &'a [(&'a str, &'a GpuBuffer)],
    instance_in: &'a [&'a GpuBuffer],
    channel_in: &'a [&'a GpuBuffer],
    instance_out: &'a [&'a GpuBuffer],
}

/// Parts of `buffers` for instances `first..first + len`, copied out.
fn parts(buffers: &[&GpuBuffer], first: usize, len: usize) -> Vec<GpuBuffer> {
    buffers
        .iter()
        .map(|b| {
            let part = GpuBuffer::uninit(len);
            gpu().copy(b, first, &part, 0, len);
            part
        })
        .collect()
}

/// Tensors larger than one binding: every instance is one `(n, c)` plane, so each image runs
/// in blocks of channels (a whole image per block when it fits), each block an instance
/// normalisation of `[1, block, hw]` over windows of the tensors, with its slice of the
/// per-instance and per-channel buffers copied in and its per-instance outputs copied back.
/// `run(cfg, big windows, [instance inputs, channel inputs, instance outputs])` launches one
/// block. Returns `false`, running nothing, when every tensor fits whole.
fn split(
    op: &str,
    cfg: &InstanceNormConfig,
    b: Buffers,
    mut run: impl FnMut(&InstanceNormConfig, &[GpuBuffer], [&[GpuBuffer]; 3]),
) -> bool {
    let limit = crate::chunk::binding_limit();
    if b.big.iter().all(|(_, t)| t.binding_bytes() <= limit) {
        return false;
    }
    let per_image = cfg.c * cfg.hw;
    for i in 0..cfg.n {
        let images: Vec<GpuBuffer> = b
            .big
            .iter()
            .map(|(_, t)| t.window(i * per_image, per_image))
            .collect();
        let batched: Vec<Batched> = b
            .big
            .iter()
            .zip(&images)
            .map(|((what, _), t)| Batched {
                what,
                buffer: t,
                per_item: cfg.hw,
            })
            .collect();
        let step = chunk_items(op, cfg.c, &batched).unwrap_or(cfg.c);
        for c0 in (0..cfg.c).step_by(step) {
            let cl = step.min(cfg.c - c0);
            let windows: Vec<GpuBuffer> = images
                .iter()
                .map(|t| t.window(c0 * cfg.hw, cl * cfg.hw))
                .collect();
            let instance_in = parts(b.instance_in, i * cfg.c + c0, cl);
            let channel_in = parts(b.channel_in, c0, cl);
            let instance_out: Vec<GpuBuffer> = b
                .instance_out
                .iter()
                .map(|_| GpuBuffer::uninit(cl))
                .collect();
            let chunk = InstanceNormConfig {
                n: 1,
                c: cl,
                ..*cfg
            };
            run(&chunk, &windows, [&instance_in, &channel_in, &instance_out]);
            for (part, out) in instance_out.iter().zip(b.instance_out) {
                gpu().copy(part, 0, out, i * cfg.c + c0, cl);
            }
            count_chunk();
        }
    }
    let big: Vec<&GpuBuffer> = b.big.iter().map(|(_, t)| *t).collect();
    mark_parents(&big);
    true
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
    let b = Buffers {
        big: &[("x", x)],
        instance_in: &[],
        channel_in: &[],
        instance_out: &[mean, invstd],
    };
    if split(k, cfg, b, |cfg, big, [_, _, out]| {
        instance_norm_stats(cfg, &big[0], &out[0], &out[1])
    }) {
        return;
    }
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
    let b = Buffers {
        big: &[("x", x), ("y", y)],
        instance_in: &[mean, invstd],
        channel_in: &[gamma, beta],
        instance_out: &[],
    };
    if split(k, cfg, b, |cfg, big, [i, c, _]| {
        instance_norm_apply(cfg, &big[0], &i[0], &i[1], &c[0], &c[1], &big[1])
    }) {
        return;
    }
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
    let b = Buffers {
        big: &[("x", x), ("gy", gy)],
        instance_in: &[mean, invstd],
        channel_in: &[],
        instance_out: &[sum_gy_xhat, sum_gy],
    };
    if split(k, cfg, b, |cfg, big, [i, _, o]| {
        instance_norm_backward_reduce(cfg, &big[0], &big[1], &i[0], &i[1], &o[0], &o[1])
    }) {
        return;
    }
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
    let b = Buffers {
        big: &[("x", x), ("gy", gy), ("gx", gx)],
        instance_in: &[mean, invstd, sum_gy_xhat, sum_gy],
        channel_in: &[gamma],
        instance_out: &[],
    };
    if split(k, cfg, b, |cfg, big, [i, c, _]| {
        let (x, gy, gx) = (&big[0], &big[1], &big[2]);
        instance_norm_backward_apply(cfg, x, gy, &i[0], &i[1], &c[0], &i[2], &i[3], gx)
    }) {
        return;
    }
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
    gpu().launch_elements(
        &INSTANCE_NORM_PARAM_GRADS,
        &[],
        &params(cfg),
        &buffers,
        cfg.c,
    );
}
