//! instance_norm: instance normalisation (affine), statistics and backward per instance.
//!
//! Files: `launch.rs` (shape types, launchers), `reference.rs` (CPU), `cpu.rs` (the fast
//! CPU device), `validate.rs`, `instance_norm.wgsl`.

pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static INSTANCE_NORM: Shader = Shader {
    name: "instance_norm/instance_norm.wgsl",
    parts: &[crate::wgsl!("instance_norm/instance_norm.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "instance_norm",
    summary: "instance normalisation (affine), statistics and backward per instance",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
