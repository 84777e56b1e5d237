//! translate: per-image whole-pixel translation with zero fill (DiffAugment's
//! `rand_translation`), forward and backward (the same gather with the shifts negated).
//!
//! Files: `launch.rs` (shape type, launcher), `reference.rs` (CPU), `cpu.rs` (the fast CPU
//! device), `validate.rs`, `translate.wgsl`.

pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static TRANSLATE: Shader = Shader {
    name: "translate/translate.wgsl",
    parts: &[crate::wgsl!("translate/translate.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "translate",
    summary: "per-image whole-pixel translation with zero fill (DiffAugment), forward and backward",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
