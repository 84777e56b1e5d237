//! matmul: batched products `[batch, m, k] · [batch, k, n]` of strided operands (transposes
//! and broadcasts are strides), in two variants: `naive` (one invocation per output) and
//! `tiled` (64×64 workgroup tiles through workgroup memory, 4×4 register blocks).
//!
//! Files: `launch.rs` (spec, launchers), `gram.rs` (F·Fᵀ and its gradient, in row blocks
//! when F is larger than a binding), `reference.rs` (CPU), `validate.rs`, `bench.rs`,
//! `matmul.wgsl`.

mod bench;
pub mod cpu;
mod gram;
mod launch;
pub mod reference;
mod validate;

pub use gram::{gram, gram_backward};
pub use launch::*;

use crate::registry::{Family, variant_names};
use crate::shader::Shader;
use crate::variant::Variant;

pub static MATMUL: Shader = Shader {
    name: "matmul/matmul.wgsl",
    parts: &[crate::wgsl!("matmul/matmul.wgsl")],
};

pub const FAMILY: Family = Family {
    name: "matmul",
    summary: "batched strided matrix products",
    variants: variant_names::<MatmulVariant>,
    validate: validate::run,
    bench: bench::run,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulVariant {
    /// One invocation per output element.
    Naive,
    /// 64×64 workgroup tiles through workgroup memory, 4×4 register blocks.
    Tiled,
}

impl Variant for MatmulVariant {
    const FAMILY: &'static str = "matmul";
    const ALL: &'static [MatmulVariant] = &[MatmulVariant::Naive, MatmulVariant::Tiled];
    type Problem = MatmulSpec;

    fn name(self) -> &'static str {
        match self {
            MatmulVariant::Naive => "naive",
            MatmulVariant::Tiled => "tiled",
        }
    }

    /// The tiled kernel wastes most of a 64×64 tile when both M and N are tiny (a loss's
    /// 1-column product, say); there the naive kernel's 16×16 grid fits better.
    fn auto(spec: &MatmulSpec) -> MatmulVariant {
        if spec.m * spec.n < 64 * 16 {
            MatmulVariant::Naive
        } else {
            MatmulVariant::Tiled
        }
    }
}
