//! reduce: sums and maxima over any axes of a strided tensor, in three variants: `serial` (an
//! invocation per output), `workgroup` (a workgroup per output, a tree in workgroup memory)
//! and `subgroup` (the same with subgroup adds; only where the device has subgroups). Long
//! reductions run as accumulating slices (see `ReduceVariant::slice_len`).
//!
//! Files: `launch.rs` (spec, launchers), `reference.rs` (CPU), `validate.rs`, `bench.rs`,
//! `reduce.wgsl`, `reduce_subgroup.wgsl` (the subgroup variant, joined after `reduce.wgsl`).

mod bench;
pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::WG;
use crate::context::subgroups_missing;
use crate::registry::{Family, variant_names};
use crate::shader::Shader;
use crate::variant::Variant;

pub static REDUCE: Shader = Shader {
    name: "reduce/reduce.wgsl",
    parts: &[crate::wgsl!("reduce/reduce.wgsl")],
};
/// The subgroup variant: `reduce.wgsl` (bindings, helpers) and its own entry point.
pub static REDUCE_SUBGROUP_SHADER: Shader = Shader {
    name: "reduce/reduce_subgroup.wgsl",
    parts: &[
        crate::wgsl!("reduce/reduce.wgsl"),
        crate::wgsl!("reduce/reduce_subgroup.wgsl"),
    ],
};

pub const FAMILY: Family = Family {
    name: "reduce",
    summary: "sums and maxima over any axes",
    variants: variant_names::<ReduceVariant>,
    validate: validate::run,
    bench: bench::run,
};

/// How the reduction is spread over the GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceVariant {
    /// One invocation per output element.
    Serial,
    /// One workgroup per output element, with a tree reduction in workgroup memory.
    Workgroup,
    /// As `Workgroup`, but each subgroup reduces in registers (`subgroupAdd`) and only one
    /// value per subgroup goes through workgroup memory. Needs the device's SUBGROUP feature.
    Subgroup,
}

impl Variant for ReduceVariant {
    const FAMILY: &'static str = "reduce";
    const ALL: &'static [ReduceVariant] = &[
        ReduceVariant::Serial,
        ReduceVariant::Workgroup,
        ReduceVariant::Subgroup,
    ];
    /// (reduced elements per output, outputs).
    type Problem = (usize, usize);

    fn name(self) -> &'static str {
        match self {
            ReduceVariant::Serial => "serial",
            ReduceVariant::Workgroup => "workgroup",
            ReduceVariant::Subgroup => "subgroup",
        }
    }

    fn unavailable(self) -> Option<String> {
        match self {
            ReduceVariant::Serial | ReduceVariant::Workgroup => None,
            ReduceVariant::Subgroup => subgroups_missing(),
        }
    }

    /// A workgroup per output when each output reduces at least a workgroup's worth of
    /// elements (its threads then all have work, and the loop per thread stays short), or when
    /// there are too few outputs (under 4096) to fill the GPU with one thread each; otherwise a
    /// thread per output, which keeps every lane busy without a barrier. A workgroup per
    /// output is the subgroup variant where the device has subgroups.
    fn auto(&(reduced_count, out_count): &(usize, usize)) -> ReduceVariant {
        if reduced_count >= WG as usize || (out_count < 4096 && reduced_count > 16) {
            if ReduceVariant::Subgroup.unavailable().is_none() {
                ReduceVariant::Subgroup
            } else {
                ReduceVariant::Workgroup
            }
        } else {
            ReduceVariant::Serial
        }
    }
}
