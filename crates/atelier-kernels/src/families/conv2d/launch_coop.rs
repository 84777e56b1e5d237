//! Launchers of variant `coop_f16` (`coop.rs`): the igemm launch (split-K by [`split_k`],
//! the slices summed with the bias by igemm's `igemm_sum_splits`), with the coop shader's
//! kernels, its 64x64 tiles and the adapter's subgroup size as one more override constant.
//!
//! [`split_k`]: super::igemm::split_k

use super::coop::{self, BM, BN, COOP_BACKWARD_DATA, COOP_FORWARD};
use super::igemm::IGEMM_64X64;
use super::launch::Params;
use super::launch_igemm::{ConvGemm, geometry};
use super::spec::Conv2dSpec;
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;

/// The geometry and the subgroup size SG ([`coop::constants`]).
fn constants(spec: &Conv2dSpec) -> Vec<(&'static str, f64)> {
    let sg = coop::subgroup_size(gpu()).unwrap_or_else(|e| panic!("atelier: coop_f16: {e}"));
    coop::constants(&geometry(spec), sg)
}

fn tiles(m: usize, n: usize) -> usize {
    m.div_ceil(BM) * n.div_ceil(BN)
}

/// y = conv2d(x, weight) (+ bias) by `coop_f16`.
pub(super) fn forward(
    spec: &Conv2dSpec,
    params: Params,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    ConvGemm::forward(spec, params, x, w, bias, y).run(
        COOP_FORWARD,
        IGEMM_64X64.sum_splits(),
        &constants(spec),
        tiles,
    );
}

/// gx = conv2d's backward-data (+ bias: conv_transpose2d's forward) by `coop_f16`.
pub(super) fn backward_data(
    spec: &Conv2dSpec,
    params: Params,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    gx: &GpuBuffer,
) {
    ConvGemm::backward_data(spec, params, gy, w, bias, gx).run(
        COOP_BACKWARD_DATA,
        IGEMM_64X64.sum_splits(),
        &constants(spec),
        tiles,
    );
}
