//! Variant `coop_f16` (`coop.rs`) as launched by `launch_igemm::ConvGemm` (split-K, the
//! slices summed with the bias): the coop shader's kernels, its 64x64 tiles and the adapter's
//! subgroup size as one more override constant.

use super::coop::{self, BM, BN, COOP_BACKWARD_DATA, COOP_FORWARD};
use super::launch_igemm::{GemmKernel, geometry};
use super::spec::Conv2dSpec;
use super::variant::ConvDirection;
use crate::context::gpu;

/// The geometry and the subgroup size SG ([`coop::constants`]).
fn constants(spec: &Conv2dSpec) -> Vec<(&'static str, f64)> {
    let sg = coop::subgroup_size(gpu()).unwrap_or_else(|e| panic!("atelier: coop_f16: {e}"));
    coop::constants(&geometry(spec), sg)
}

/// `coop_f16`'s kernel for forward or backward-data: 64x64 tiles.
pub(super) fn coop_f16(direction: ConvDirection, spec: &Conv2dSpec) -> GemmKernel {
    let kernel = match direction {
        ConvDirection::Forward => COOP_FORWARD,
        _ => COOP_BACKWARD_DATA,
    };
    GemmKernel {
        kernel,
        constants: constants(spec),
        tile: (BM, BN),
    }
}
