//! loss: losses computed in one kernel with their gradient. Today `bce_with_logits`: the mean
//! binary cross-entropy of logits and its gradient with respect to the logits, in one
//! dispatch, where the composed ops (softplus, mul, sub, mean and their backwards) took about
//! nine. The tensor op keeps the gradient and scales it by the upstream one in its backward.
//!
//! Files: `launch.rs` (shape type, launcher), `reference.rs` (CPU), `validate.rs`,
//! `loss.wgsl`.

mod launch;
pub mod reference;
mod validate;

pub use launch::*;

use crate::registry::{Family, no_bench, no_variants};
use crate::shader::Shader;

pub static LOSS: Shader = Shader {
    name: "loss/loss.wgsl",
    parts: &[crate::wgsl!("loss/loss.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "loss",
    summary: "losses with their gradient in one kernel (BCE with logits)",
    variants: no_variants,
    validate: validate::run,
    bench: no_bench,
};
