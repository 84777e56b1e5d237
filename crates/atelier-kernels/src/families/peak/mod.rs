//! peak: the machine's ceilings: an FMA-bound kernel and a vec4 copy.
//!
//! Files: `launch.rs` (shape types, launchers), `reference.rs` (CPU), `validate.rs`,
//! `peak.wgsl`.

mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static PEAK: Shader = Shader {
    name: "peak/peak.wgsl",
    parts: &[crate::wgsl!("peak/peak.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "peak",
    summary: "the machine's ceilings: an FMA-bound kernel and a vec4 copy",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
