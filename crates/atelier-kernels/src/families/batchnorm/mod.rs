//! batchnorm: 2-D batch normalisation (PyTorch's BatchNorm2d) as four kernels, the same
//! split as PyTorch's SyncBatchNorm CUDA kernels: statistics, apply, backward reduce,
//! backward apply. The two per-channel reductions come in three variants
//! ([`BatchNormReduction`]).
//!
//! Files: `launch.rs` (config, launchers), `launch_split.rs` (the split reductions),
//! `launch_act.rs` (batch norm fused with the ReLU or LeakyReLU after it, forward and
//! backward), `reference.rs` (CPU), `cpu.rs` (fast CPU), `validate.rs`, `bench.rs`, and the
//! WGSL: `batchnorm.wgsl` (the baseline kernels), `batchnorm_subgroup.wgsl` (the subgroup
//! reductions), `batchnorm_split.wgsl` (the split reductions), `batchnorm_act.wgsl` (the fused
//! activation's entry points), and `batchnorm_gy.wgsl` or `batchnorm_gy_act.wgsl` last in each
//! module: what the reductions read as the output gradient, as it is or through the fused
//! activation's derivative.

mod bench;
pub mod cpu;
mod launch;
mod launch_act;
mod launch_split;
pub mod reference;
mod validate;

pub use launch::*;
pub use launch_act::*;

use crate::context::subgroups_missing;
use crate::registry::{Family, variant_names};
use crate::shader::Shader;
use crate::variant::Variant;

const BASE: &str = crate::wgsl!("batchnorm/batchnorm.wgsl");
const SUBGROUP: &str = crate::wgsl!("batchnorm/batchnorm_subgroup.wgsl");
const SPLIT: &str = crate::wgsl!("batchnorm/batchnorm_split.wgsl");
const GY: &str = crate::wgsl!("batchnorm/batchnorm_gy.wgsl");
const GY_ACT: &str = crate::wgsl!("batchnorm/batchnorm_gy_act.wgsl");

pub static BATCHNORM: Shader = Shader {
    name: "batchnorm/batchnorm.wgsl",
    parts: &[BASE, GY],
};
/// The subgroup reductions: `batchnorm.wgsl` (bindings, helpers) and their entry points.
pub static BATCHNORM_SUBGROUP: Shader = Shader {
    name: "batchnorm/batchnorm_subgroup.wgsl",
    parts: &[BASE, SUBGROUP, GY],
};
/// The reductions split over many workgroups per channel, and their merges.
pub static BATCHNORM_SPLIT: Shader = Shader {
    name: "batchnorm/batchnorm_split.wgsl",
    parts: &[BASE, SPLIT, GY],
};

/// `batchnorm_apply` fused with the ReLU or LeakyReLU after it, and the fused backward: the
/// baseline reductions and `batchnorm_backward_apply_act` of the activation's gradient
/// (`batchnorm_gy_act.wgsl`).
pub static BATCHNORM_ACT: Shader = Shader {
    name: "batchnorm/batchnorm_act.wgsl",
    parts: &[BASE, GY_ACT, crate::wgsl!("batchnorm/batchnorm_act.wgsl")],
};
/// The subgroup reductions of the activation's gradient.
pub static BATCHNORM_SUBGROUP_ACT: Shader = Shader {
    name: "batchnorm/batchnorm_subgroup_act.wgsl",
    parts: &[BASE, SUBGROUP, GY_ACT],
};
/// The split reductions of the activation's gradient.
pub static BATCHNORM_SPLIT_ACT: Shader = Shader {
    name: "batchnorm/batchnorm_split_act.wgsl",
    parts: &[BASE, SPLIT, GY_ACT],
};

pub const FAMILY: Family = Family {
    name: "batchnorm",
    summary: "2-D batch normalisation, training and evaluation, forward and backward",
    variants: variant_names::<BatchNormReduction>,
    validate: validate::run,
    bench: bench::run,
};

/// How the per-channel reductions ([`batchnorm_stats_with`],
/// [`batchnorm_backward_reduce_with`]) sum a channel: one workgroup per channel (`workgroup`,
/// `subgroup`), or many (`split`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchNormReduction {
    /// A tree reduction in workgroup memory (log2(WG) barriers).
    Workgroup,
    /// Each subgroup sums in registers (`subgroupAdd`), one value per subgroup goes through
    /// workgroup memory (one barrier). Needs the device's SUBGROUP feature.
    Subgroup,
    /// Each channel split into blocks of about [`SPLIT_BLOCK`] elements, one workgroup per
    /// (channel, block) writing partial results, then a merge per channel: a second dispatch,
    /// for many more workgroups when there are few channels of many elements.
    Split,
}

/// Elements per block of the `split` variant (at most [`SPLIT_MAX_BLOCKS`] blocks a channel).
pub const SPLIT_BLOCK: usize = 4096;
pub const SPLIT_MAX_BLOCKS: usize = 256;

/// The automatic rule takes `split` for fewer channels than this (fewer workgroups than a
/// large GPU has multiprocessors: 132 on an H100)...
pub const SPLIT_AUTO_MAX_CHANNELS: usize = 128;
/// ... of at least this many elements each (16 blocks, so 16 times the workgroups).
pub const SPLIT_AUTO_MIN_PER_CHANNEL: usize = 16 * SPLIT_BLOCK;

impl Variant for BatchNormReduction {
    const FAMILY: &'static str = "batchnorm";
    const ALL: &'static [BatchNormReduction] = &[
        BatchNormReduction::Workgroup,
        BatchNormReduction::Subgroup,
        BatchNormReduction::Split,
    ];
    /// (n, c, h·w).
    type Problem = (usize, usize, usize);

    fn name(self) -> &'static str {
        match self {
            BatchNormReduction::Workgroup => "workgroup",
            BatchNormReduction::Subgroup => "subgroup",
            BatchNormReduction::Split => "split",
        }
    }

    fn unavailable(self) -> Option<String> {
        match self {
            BatchNormReduction::Workgroup | BatchNormReduction::Split => None,
            BatchNormReduction::Subgroup => subgroups_missing(),
        }
    }

    /// `split` on a hardware GPU for few channels of many elements (the
    /// one-workgroup-per-channel kernels would leave most of its multiprocessors idle: a
    /// choice by construction, conservative until measured; a software adapter's few threads
    /// are busy either way); otherwise subgroups where the device has them, else the
    /// workgroup tree.
    fn auto(&(n, c, hw): &(usize, usize, usize)) -> BatchNormReduction {
        let software = crate::context::gpu().is_software();
        if !software && c < SPLIT_AUTO_MAX_CHANNELS && n * hw >= SPLIT_AUTO_MIN_PER_CHANNEL {
            BatchNormReduction::Split
        } else if BatchNormReduction::Subgroup.unavailable().is_none() {
            BatchNormReduction::Subgroup
        } else {
            BatchNormReduction::Workgroup
        }
    }
}
