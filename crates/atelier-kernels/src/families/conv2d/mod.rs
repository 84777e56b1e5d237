//! conv2d: 2-D convolution and transposed convolution (groups = 1), forward, backward-data,
//! backward-weight and the bias gradients, in PyTorch's layouts. Three variants
//! ([`ConvVariant`]): `direct` (an invocation per output, the readable baseline),
//! `implicit_gemm` (a tiled product over the implicit im2col matrix, 4x4 register blocks in
//! 64x64 tiles) and `implicit_gemm_8x8` (8x8 blocks in 128x128 tiles). A transposed
//! convolution runs on the same kernels: its forward is conv2d's backward-data.
//!
//! Files:
//! - `spec.rs`: the shapes ([`Conv2dSpec`], [`ConvTranspose2dSpec`]) and their checks;
//! - `variant.rs`: the variants, the rule that picks one, the implicit GEMM's tiles;
//! - `launch.rs`: the launchers (each direction chooses, or takes a variant: `_with`);
//! - `channels.rs`: one image larger than a storage binding, run in blocks of channels;
//! - `skinny.rs`: the variants `skinny_n` (GEMM N <= 4) and `split_dot` (few outputs, long
//!   reduction), with `skinny.wgsl`;
//! - `latent_gemm.rs`: a transposed convolution of a 1×1 input (G's first layer) as plain
//!   matrix products (validated and benchmarked; not chosen automatically yet);
//! - `reference.rs`: the CPU reference; `validate.rs`; `bench.rs` (DCGAN and VGG-19 layers);
//! - `direct.wgsl`, `implicit_gemm.wgsl` with its register blocks `implicit_gemm_4x4.wgsl`
//!   and `implicit_gemm_8x8.wgsl` (each declares TM and TN, joined after the GEMM's source);
//!   `conv_gather.wgsl`, joined before both implicit GEMMs (`implicit_gemm.wgsl` and the
//!   igemm template): their Params, tile numbering, image bounds and stride phases.

mod bench;
mod channels;
pub mod coop;
#[cfg(test)]
mod coop_check;
#[cfg(test)]
mod coop_emulation;
pub mod cpu;
pub mod igemm;
mod latent_gemm;
mod launch;
mod launch_coop;
mod launch_igemm;
pub mod reference;
mod skinny;
mod spec;
#[cfg(test)]
mod spirv_check;
mod validate;
mod validate_coop;
mod variant;

pub use launch::*;
pub use spec::{Conv2dSpec, ConvTranspose2dSpec};
pub use variant::{
    ConvDirection, ConvProblem, ConvVariant, GemmKernels, GemmTiles, IMPLICIT_GEMM,
    IMPLICIT_GEMM_8X8, MAX_SPLIT_LEN, TILES, TILES_8X8, gemm_shape,
};

use crate::pipeline::Kernel;
use crate::registry::{Family, variant_names};
use crate::shader::Shader;

pub static DIRECT: Shader = Shader {
    name: "conv2d/direct.wgsl",
    parts: &[crate::wgsl!("conv2d/direct.wgsl")],
};
/// The implicit GEMM with 4x4 register blocks (variant `implicit_gemm`).
pub static IMPLICIT_GEMM_4X4_SHADER: Shader = Shader {
    name: "conv2d/implicit_gemm_4x4.wgsl",
    parts: &[
        crate::wgsl!("conv2d/conv_gather.wgsl"),
        crate::wgsl!("conv2d/implicit_gemm.wgsl"),
        crate::wgsl!("conv2d/implicit_gemm_4x4.wgsl"),
    ],
};
/// The implicit GEMM with 8x8 register blocks (variant `implicit_gemm_8x8`).
pub static IMPLICIT_GEMM_8X8_SHADER: Shader = Shader {
    name: "conv2d/implicit_gemm_8x8.wgsl",
    parts: &[
        crate::wgsl!("conv2d/conv_gather.wgsl"),
        crate::wgsl!("conv2d/implicit_gemm.wgsl"),
        crate::wgsl!("conv2d/implicit_gemm_8x8.wgsl"),
    ],
};

pub const FORWARD_DIRECT: Kernel = Kernel::new(&DIRECT, "forward_direct");
pub const BACKWARD_DATA_DIRECT: Kernel = Kernel::new(&DIRECT, "backward_data_direct");
pub const BACKWARD_WEIGHT_DIRECT: Kernel = Kernel::new(&DIRECT, "backward_weight_direct");
pub const CHANNEL_SUM: Kernel = Kernel::new(&DIRECT, "channel_sum");

pub const FAMILY: Family = Family {
    name: "conv2d",
    summary: "2-D convolution and transposed convolution, every direction",
    variants: variant_names::<ConvVariant>,
    validate: validate::run,
    bench: bench::run,
};
