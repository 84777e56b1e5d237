//! elementwise: pointwise kernels. `fill`, `unary` and `unary_backward` (the ops and their
//! derivatives), `binary` (same shapes) and `binary_broadcast` (NumPy broadcasting, rank <= 8).
//! Every op is one row of the tables in [`ops`]: its WGSL, its CPU formula, its derivative,
//! its validation inputs and its PyTorch equivalent.
//!
//! Files: `ops.rs` (the op tables), `launch.rs` (launchers), `reference.rs` (CPU),
//! `validate.rs`, `bench.rs`, `elementwise.wgsl`.

mod bench;
pub mod cpu;
mod launch;
pub mod ops;
pub mod reference;
mod validate;

pub use launch::*;
pub use ops::{BinaryOp, UnaryOp};

use crate::pipeline::Kernel;
use crate::registry::{Family, no_variants};
use crate::shader::Shader;

pub static SHADER: Shader = Shader {
    name: "elementwise/elementwise.wgsl",
    parts: &[
        crate::wgsl!("elementwise/elementwise.wgsl"),
        ops::UNARY_WGSL,
        ops::BINARY_WGSL,
    ],
};

pub const FILL: Kernel = Kernel::new(&SHADER, "fill");
pub const UNARY: Kernel = Kernel::new(&SHADER, "unary");
pub const UNARY_BACKWARD: Kernel = Kernel::new(&SHADER, "unary_backward");
pub const BINARY: Kernel = Kernel::new(&SHADER, "binary");
pub const BINARY_BROADCAST: Kernel = Kernel::new(&SHADER, "binary_broadcast");

pub const FAMILY: Family = Family {
    name: "elementwise",
    summary: "pointwise ops (the op tables in ops.rs), same-shape and broadcasting",
    variants: no_variants,
    validate: validate::run,
    bench: bench::run,
};
