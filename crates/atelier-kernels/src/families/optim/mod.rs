//! optim: fused optimizer steps (Adam, SGD), one dispatch per tensor.
//!
//! Files: `launch.rs` (shape types, launchers), `reference.rs` (CPU), `validate.rs`,
//! `optim.wgsl`.

pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static OPTIM: Shader = Shader {
    name: "optim/optim.wgsl",
    parts: &[crate::wgsl!("optim/optim.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "optim",
    summary: "fused optimizer steps (Adam, SGD), one dispatch per tensor",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
