//! pool2d: 2-D max and average pooling, forward and backward.
//!
//! Files: `launch.rs` (shape types, launchers), `reference.rs` (CPU), `cpu.rs` (the fast
//! CPU device), `validate.rs`, `pool2d.wgsl`.

pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static POOL: Shader = Shader {
    name: "pool2d/pool2d.wgsl",
    parts: &[crate::wgsl!("pool2d/pool2d.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "pool2d",
    summary: "2-D max and average pooling, forward and backward",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
