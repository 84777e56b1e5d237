//! resample: nearest-neighbour upsampling and reflection padding, forward and backward.
//!
//! Files: `launch.rs` (shape types, launchers), `reference.rs` (CPU), `cpu.rs` (the fast
//! CPU device), `validate.rs`, `resample.wgsl`.

pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static RESAMPLE: Shader = Shader {
    name: "resample/resample.wgsl",
    parts: &[crate::wgsl!("resample/resample.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "resample",
    summary: "nearest-neighbour upsampling and reflection padding, forward and backward",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
