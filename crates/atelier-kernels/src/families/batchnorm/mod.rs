//! batchnorm: 2-D batch normalisation (PyTorch's BatchNorm2d) as four kernels, the same
//! split as PyTorch's SyncBatchNorm CUDA kernels: statistics, apply, backward reduce,
//! backward apply. The two per-channel reductions come in two variants
//! ([`BatchNormReduction`]).
//!
//! Files: `launch.rs` (config, launchers), `reference.rs` (CPU), `validate.rs`, `bench.rs`,
//! `batchnorm.wgsl`, `batchnorm_subgroup.wgsl` (the subgroup reductions, joined after
//! `batchnorm.wgsl`), `batchnorm_act.wgsl` with `launch_act.rs` (apply fused with the ReLU or
//! LeakyReLU after it).

mod bench;
pub mod cpu;
mod launch;
mod launch_act;
pub mod reference;
mod validate;

pub use launch::*;
pub use launch_act::*;

use crate::context::subgroups_missing;
use crate::registry::{Family, variant_names};
use crate::shader::Shader;
use crate::variant::Variant;

pub static BATCHNORM: Shader = Shader {
    name: "batchnorm/batchnorm.wgsl",
    parts: &[crate::wgsl!("batchnorm/batchnorm.wgsl")],
};
/// The subgroup reductions: `batchnorm.wgsl` (bindings, helpers) and their entry points.
pub static BATCHNORM_SUBGROUP: Shader = Shader {
    name: "batchnorm/batchnorm_subgroup.wgsl",
    parts: &[
        crate::wgsl!("batchnorm/batchnorm.wgsl"),
        crate::wgsl!("batchnorm/batchnorm_subgroup.wgsl"),
    ],
};

/// `batchnorm_apply` fused with the ReLU or LeakyReLU after it: `batchnorm.wgsl` (bindings,
/// helpers) and `batchnorm_act.wgsl`.
pub static BATCHNORM_ACT: Shader = Shader {
    name: "batchnorm/batchnorm_act.wgsl",
    parts: &[
        crate::wgsl!("batchnorm/batchnorm.wgsl"),
        crate::wgsl!("batchnorm/batchnorm_act.wgsl"),
    ],
};

pub const FAMILY: Family = Family {
    name: "batchnorm",
    summary: "2-D batch normalisation, training and evaluation, forward and backward",
    variants: variant_names::<BatchNormReduction>,
    validate: validate::run,
    bench: bench::run,
};

/// How the per-channel reductions ([`batchnorm_stats_with`],
/// [`batchnorm_backward_reduce_with`]) sum a channel: both use one workgroup per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchNormReduction {
    /// A tree reduction in workgroup memory (log2(WG) barriers).
    Workgroup,
    /// Each subgroup sums in registers (`subgroupAdd`), one value per subgroup goes through
    /// workgroup memory (one barrier). Needs the device's SUBGROUP feature.
    Subgroup,
}

impl Variant for BatchNormReduction {
    const FAMILY: &'static str = "batchnorm";
    const ALL: &'static [BatchNormReduction] =
        &[BatchNormReduction::Workgroup, BatchNormReduction::Subgroup];
    /// (n, c, h·w).
    type Problem = (usize, usize, usize);

    fn name(self) -> &'static str {
        match self {
            BatchNormReduction::Workgroup => "workgroup",
            BatchNormReduction::Subgroup => "subgroup",
        }
    }

    fn unavailable(self) -> Option<String> {
        match self {
            BatchNormReduction::Workgroup => None,
            BatchNormReduction::Subgroup => subgroups_missing(),
        }
    }

    /// Subgroups where the device has them, else the workgroup tree.
    fn auto(_: &(usize, usize, usize)) -> BatchNormReduction {
        if BatchNormReduction::Subgroup.unavailable().is_none() {
            BatchNormReduction::Subgroup
        } else {
            BatchNormReduction::Workgroup
        }
    }
}
