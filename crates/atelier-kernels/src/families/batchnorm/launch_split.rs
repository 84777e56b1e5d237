//! Launchers of `batchnorm_split.wgsl`: the `split` variant of the two per-channel
//! reductions. Each channel's `m = n * h * w` elements are cut into [`split_blocks`] blocks,
//! one workgroup per (channel, block) writes partial results, and a second dispatch merges
//! them per channel. Called by [`super::batchnorm_stats_with`] and
//! [`super::batchnorm_backward_reduce_with`] (and the fused activation's backward) after their
//! checks and batch chunking.

use super::launch::{Act, act_constants, params};
use super::{BATCHNORM_SPLIT, BATCHNORM_SPLIT_ACT, BatchNormConfig, SPLIT_BLOCK, SPLIT_MAX_BLOCKS};
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const BATCHNORM_SPLIT_STATS: Kernel = Kernel::new(&BATCHNORM_SPLIT, "batchnorm_split_stats");
pub const BATCHNORM_SPLIT_STATS_MERGE: Kernel =
    Kernel::new(&BATCHNORM_SPLIT, "batchnorm_split_stats_merge");
pub const BATCHNORM_SPLIT_REDUCE_MERGE: Kernel =
    Kernel::new(&BATCHNORM_SPLIT, "batchnorm_split_reduce_merge");

/// Blocks per channel of `per_channel` elements: about [`SPLIT_BLOCK`] elements each, at
/// most [`SPLIT_MAX_BLOCKS`].
pub fn split_blocks(per_channel: usize) -> usize {
    per_channel.div_ceil(SPLIT_BLOCK).clamp(1, SPLIT_MAX_BLOCKS)
}

/// Workgroups of the first pass: one per (channel, block).
fn grid(cfg: &BatchNormConfig, blocks: usize) -> u32 {
    u32::try_from(cfg.c * blocks).expect("batchnorm split: channels * blocks fit in u32")
}

/// `batchnorm_stats` as two dispatches: per-block means and squared deviations, merged.
pub(super) fn stats(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    running_mean: &GpuBuffer,
    running_var: &GpuBuffer,
) {
    let blocks = split_blocks(cfg.per_channel());
    let mut p = params(cfg, true);
    p.blocks = blocks as u32;
    let part = GpuBuffer::uninit(2 * cfg.c * blocks);
    gpu().launch(
        &BATCHNORM_SPLIT_STATS,
        &[],
        &p,
        &[x, &part],
        grid(cfg, blocks),
    );
    let merged = [&part, mean, invstd, running_mean, running_var];
    gpu().launch_elements(&BATCHNORM_SPLIT_STATS_MERGE, &[], &p, &merged, cfg.c);
}

/// `batchnorm_backward_reduce` (of the fused activation's gradient when `act` is given) as
/// two dispatches: per-block sums, added up per channel.
#[allow(clippy::too_many_arguments)] // one argument per binding
pub(super) fn backward_reduce(
    cfg: &BatchNormConfig,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    act: Act,
    mean: &GpuBuffer,
    invstd: &GpuBuffer,
    ggamma: &GpuBuffer,
    gbeta: &GpuBuffer,
) {
    let blocks = split_blocks(cfg.per_channel());
    let mut p = params(cfg, false);
    p.blocks = blocks as u32;
    let (part_gbeta, part_ggamma) = (
        GpuBuffer::uninit(cfg.c * blocks),
        GpuBuffer::uninit(cfg.c * blocks),
    );
    let shader = if act.is_some() {
        &BATCHNORM_SPLIT_ACT
    } else {
        &BATCHNORM_SPLIT
    };
    let mut buffers = vec![x, gy, mean, invstd, &part_gbeta, &part_ggamma];
    buffers.extend(act.map(|(y, _)| y));
    let pass = Kernel::new(shader, "batchnorm_split_reduce");
    gpu().launch(&pass, &act_constants(act), &p, &buffers, grid(cfg, blocks));
    let merged = [&part_gbeta, &part_ggamma, ggamma, gbeta];
    gpu().launch_elements(&BATCHNORM_SPLIT_REDUCE_MERGE, &[], &p, &merged, cfg.c);
}
