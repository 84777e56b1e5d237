//! optim: fused optimizer steps (Adam, SGD), one dispatch per tensor, and Adam on a group
//! of tensors in one dispatch ([`adam_group`], variants [`AdamVariant`]).
//!
//! Files: `launch.rs` (shape types, launchers), `multi.rs` (the group's flat moments, the
//! multi-tensor launcher), `variant.rs`, `reference.rs` (CPU), `cpu.rs` (fast CPU),
//! `validate.rs`, `optim.wgsl`, `adam_multi.wgsl` (the multi-tensor kernel's template).

pub mod cpu;
mod launch;
mod multi;
pub mod reference;
mod validate;
mod variant;

pub use launch::*;
pub use multi::*;
pub use variant::AdamVariant;

use crate::registry::{Family, no_bench, variant_names};
use crate::shader::Shader;

pub static OPTIM: Shader = Shader {
    name: "optim/optim.wgsl",
    parts: &[
        crate::wgsl!("optim/adam_params.wgsl"),
        crate::wgsl!("optim/optim.wgsl"),
    ],
};

pub const FAMILY: Family = Family {
    name: "optim",
    summary: "fused optimizer steps (Adam, SGD); Adam on many tensors in one dispatch",
    variants: variant_names::<AdamVariant>,
    validate: validate::run,
    bench: no_bench,
};
