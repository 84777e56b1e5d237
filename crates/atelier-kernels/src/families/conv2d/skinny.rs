//! Two variants for the matrix products the tiled GEMMs serve badly (`skinny.wgsl`):
//!
//! - `skinny_n`, for a GEMM whose N is at most 4 (the 3-channel layers: G's last transposed
//!   convolution, whose forward is a backward-data with N = C = 3, and the backward-data of
//!   D's first convolution). A 64-wide N tile would be 95 % padding; here each of the 256
//!   invocations owns 4 rows of M (strided by 256, so neighbouring invocations gather
//!   neighbouring pixels) and all of N in one `vec4` accumulator per row. Per step of 64
//!   reduction elements the weight operand (64 x 4) is staged in workgroup memory, one element
//!   per invocation, and every element of the gathered operand is read from global memory
//!   once and used for its 4 columns. The reduction index is walked (no division in the K
//!   loop) and split like the igemm variants' (split-K, [`super::igemm::split_k`]) when there
//!   are too few rows to fill [`super::igemm::TARGET_WORKGROUPS`]. Forward (K <= 4 output
//!   channels) and backward-data (C <= 4 input channels).
//! - `split_dot`, for a forward whose output is a few dot products over a long reduction
//!   (D's last layer: M = batch, N = 1, C·R·S = 8,192 at ndf 64). One workgroup per output
//!   element and slice of the reduction: its 256 invocations take every 256th element, sum
//!   their shares as a tree in workgroup memory, and the slices are added by the split sum.
//!   A batch-128 layer runs several hundred workgroups instead of 128 invocations each
//!   looping 8,192 times. Forward only, at most [`SPLIT_DOT_MAX_OUTPUTS`] outputs and a
//!   reduction of at least [`SPLIT_DOT_MIN_LEN`].
//!
//! Both are launched by `launch_igemm::ConvGemm` (the geometry as override constants, the split
//! chosen for the GPU, the slices summed with the bias by `igemm_sum_splits`).

use super::launch_igemm::{GemmKernel, geometry};
use super::spec::Conv2dSpec;
use super::variant::{ConvDirection, ConvProblem};
use crate::pipeline::Kernel;
use crate::shader::Shader;

/// The widest GEMM N `skinny_n` computes (one `vec4` per row).
pub const SKINNY_MAX_N: usize = 4;
/// Rows of M per `skinny_n` workgroup: 256 invocations of 4 rows.
const SKINNY_ROWS: usize = 1024;
/// `split_dot` serves at most this many outputs (M·N): one workgroup each (and per slice)...
pub const SPLIT_DOT_MAX_OUTPUTS: usize = 4096;
/// ...and reductions of at least this many elements: one per invocation.
pub const SPLIT_DOT_MIN_LEN: usize = 256;

pub static SKINNY_SHADER: Shader = Shader {
    name: "conv2d/skinny.wgsl",
    parts: &[
        crate::wgsl!("conv2d/conv_gather.wgsl"),
        crate::wgsl!("conv2d/skinny.wgsl"),
    ],
};
const SKINNY_FORWARD: Kernel = Kernel::new(&SKINNY_SHADER, "skinny_forward");
const SKINNY_BACKWARD_DATA: Kernel = Kernel::new(&SKINNY_SHADER, "skinny_backward_data");
const SPLIT_DOT_FORWARD: Kernel = Kernel::new(&SKINNY_SHADER, "split_dot_forward");

/// Whether `skinny_n` computes `p`: forward with K <= 4, backward-data with C <= 4.
pub(super) fn skinny_handles(p: &ConvProblem) -> bool {
    match p.direction {
        ConvDirection::Forward => p.spec.k <= SKINNY_MAX_N,
        ConvDirection::BackwardData => p.spec.c <= SKINNY_MAX_N,
        ConvDirection::BackwardWeight => false,
    }
}

/// Whether `split_dot` computes `p`: a forward of few outputs and a long reduction.
pub(super) fn split_dot_handles(p: &ConvProblem) -> bool {
    let s = &p.spec;
    p.direction == ConvDirection::Forward
        && s.y_len() <= SPLIT_DOT_MAX_OUTPUTS
        && s.c * s.r * s.s >= SPLIT_DOT_MIN_LEN
}

/// `skinny_n`'s kernel for forward (M = N·P·Q pixels x K <= 4 channels) or backward-data
/// (per stride phase: M = the phase's input pixels x C <= 4 channels).
pub(super) fn skinny_n(direction: ConvDirection, spec: &Conv2dSpec) -> GemmKernel {
    let kernel = match direction {
        ConvDirection::Forward => SKINNY_FORWARD,
        _ => SKINNY_BACKWARD_DATA,
    };
    GemmKernel {
        kernel,
        constants: geometry(spec).to_vec(),
        tile: (SKINNY_ROWS, SKINNY_MAX_N),
    }
}

/// `split_dot`'s forward kernel: a workgroup per element of y (and slice).
pub(super) fn split_dot(spec: &Conv2dSpec) -> GemmKernel {
    GemmKernel {
        kernel: SPLIT_DOT_FORWARD,
        constants: geometry(spec).to_vec(),
        tile: (1, 1),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shader_is_valid_wgsl() {
        let src = super::SKINNY_SHADER.source();
        let module = wgpu::naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&src)));
        wgpu::naga::valid::Validator::new(
            wgpu::naga::valid::ValidationFlags::all(),
            wgpu::naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{e:?}"));
    }
}
