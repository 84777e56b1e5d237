//! Launchers of variant `coop_f16` (`coop.rs`): the igemm launch (split-K by [`split_k`],
//! the slices summed with the bias by igemm's `igemm_sum_splits`), with the coop shader's
//! kernels, its 64x64 tiles and the adapter's subgroup size as one more override constant.
//!
//! [`split_k`]: super::igemm::split_k

use super::coop::{self, BM, BN, COOP_BACKWARD_DATA, COOP_FORWARD};
use super::igemm::IGEMM_64X64;
use super::launch::Params;
use super::launch_igemm::{Launch, geometry, phase_taps};
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

/// y = conv2d(x, weight) (+ bias): M = N*P*Q pixels x N = K channels, reduction C*R*S.
pub(super) fn forward(
    spec: &Conv2dSpec,
    params: Params,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    let pq = spec.p() * spec.q();
    Launch {
        kernel: COOP_FORWARD,
        sum: IGEMM_64X64.sum_splits(),
        constants: &constants(spec),
        params,
        inputs: &[x, w, bias.unwrap_or(w)],
        out: y,
        bias,
        workgroups_per_slice: tiles(spec.n * pq, spec.k),
        k: spec.c * spec.r * spec.s,
        plane: pq,
        channels: spec.k,
    }
    .run();
}

/// gx = conv2d's backward-data (+ bias: conv_transpose2d's forward), one GEMM per stride
/// phase, each tiled for the largest phase.
pub(super) fn backward_data(
    spec: &Conv2dSpec,
    params: Params,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    gx: &GpuBuffer,
) {
    let (sh, sw) = spec.stride;
    let m = spec.n * spec.h.div_ceil(sh) * spec.w.div_ceil(sw);
    let k = spec.k
        * phase_taps(spec.r, sh, spec.dilation.0)
        * phase_taps(spec.s, sw, spec.dilation.1);
    Launch {
        kernel: COOP_BACKWARD_DATA,
        sum: IGEMM_64X64.sum_splits(),
        constants: &constants(spec),
        params,
        inputs: &[gy, w, bias.unwrap_or(w)],
        out: gx,
        bias,
        workgroups_per_slice: sh * sw * tiles(m, spec.c),
        k,
        plane: spec.h * spec.w,
        channels: spec.c,
    }
    .run();
}
