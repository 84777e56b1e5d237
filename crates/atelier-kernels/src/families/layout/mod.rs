//! layout: strided copies (permute, slice, concat, broadcast expansion).
//!
//! Files: `launch.rs` (shape types, launchers), `reference.rs` (CPU), `cpu.rs` (the fast
//! CPU device), `validate.rs`, `layout.wgsl`.

pub mod cpu;
mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static LAYOUT: Shader = Shader {
    name: "layout/layout.wgsl",
    parts: &[crate::wgsl!("layout/layout.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "layout",
    summary: "strided copies (permute, slice, concat, broadcast expansion)",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
