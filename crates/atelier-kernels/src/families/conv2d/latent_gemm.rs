//! A transposed convolution of a 1×1 input without padding (DCGAN G's first layer: the latent
//! vector to a 4×4 map) is a plain matrix product. With x `[N, C_in]` and the weight
//! `[C_in, C_out·R·S]` in their own layouts,
//!
//!   y  `[N, C_out·R·S]` = x · w            (the forward, no bias)
//!   gx `[N, C_in]`      = gy · wᵀ          (backward-data)
//!   gw `[C_in, C_out·R·S]` = xᵀ · gy       (backward-weight)
//!
//! The convolution kernels would run these as a strided backward-data convolution, an im2col
//! forward and a backward-weight reduction over R·S taps of a one-pixel image, most of each
//! tile idle; the matmul family runs them directly (its variant chosen by its own rule),
//! the transposes as strides, nothing copied. `validate.rs` checks it and `bench.rs` times it
//! (rows `gemm`). The launchers do not choose it yet: on lavapipe at batch 1 the matmul was
//! slower than `direct`, and only a GPU measurement at DCGAN's batches can say where it pays.

use super::ConvTranspose2dSpec;
use crate::buffer_pool::GpuBuffer;
use crate::check::check_len;
use crate::chunk::binding_limit;
use crate::matmul::{MatmulSpec, matmul};

/// Whether `spec` is such a layer: a 1×1 input, no padding, no output padding, no dilation
/// (the stride does not matter with one input pixel), with an output that fits one binding
/// (the matmul family does not split batches; the convolution launchers do).
pub fn is_plain_gemm(spec: &ConvTranspose2dSpec) -> bool {
    spec.h_in == 1
        && spec.w_in == 1
        && spec.pad == (0, 0)
        && spec.output_padding == (0, 0)
        && spec.dilation == (1, 1)
        && (spec.y_len().max(spec.w_len()) as u64) * 4 <= binding_limit()
}

/// Reads operand A (`a`) or B of `spec` transposed from a row-major matrix whose rows hold
/// `row_len` elements: element (i, j) of the operand at `j * row_len + i`.
fn transposed_strides(spec: &mut MatmulSpec, a: bool, row_len: usize) {
    if a {
        (spec.a_row_stride, spec.a_col_stride) = (1, row_len);
    } else {
        (spec.b_row_stride, spec.b_col_stride) = (1, row_len);
    }
}

/// The input-, weight- and output-shaped buffers of `kernel` hold what `spec` needs.
fn check_lens(
    kernel: &str,
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    y: &GpuBuffer,
) {
    check_len(kernel, "input", x, spec.x_len(), spec);
    check_len(kernel, "weight", w, spec.w_len(), spec);
    check_len(kernel, "output", y, spec.y_len(), spec);
}

/// `C_out·R·S`: one input channel's share of the weight, one image's output.
fn outputs(spec: &ConvTranspose2dSpec) -> usize {
    spec.c_out * spec.r * spec.s
}

/// The forward without bias, as `x · w`.
pub fn forward(spec: &ConvTranspose2dSpec, x: &GpuBuffer, w: &GpuBuffer, y: &GpuBuffer) {
    check_lens("conv_transpose2d_forward", spec, x, w, y);
    let mm = MatmulSpec::contiguous(1, spec.n, outputs(spec), spec.c_in);
    matmul(&mm, x, w, y);
}

/// The input gradient, `gy · wᵀ`.
pub fn backward_data(spec: &ConvTranspose2dSpec, gy: &GpuBuffer, w: &GpuBuffer, gx: &GpuBuffer) {
    check_lens("conv_transpose2d_backward_data", spec, gx, w, gy);
    let mut mm = MatmulSpec::contiguous(1, spec.n, spec.c_in, outputs(spec));
    // B[k][col] = w[col][k]: w is [C_in, C_out·R·S]
    transposed_strides(&mut mm, false, outputs(spec));
    matmul(&mm, gy, w, gx);
}

/// The weight gradient, `xᵀ · gy` (overwritten, as the convolution kernels do).
pub fn backward_weight(spec: &ConvTranspose2dSpec, x: &GpuBuffer, gy: &GpuBuffer, gw: &GpuBuffer) {
    check_lens("conv_transpose2d_backward_weight", spec, x, gw, gy);
    let mut mm = MatmulSpec::contiguous(1, spec.c_in, outputs(spec), spec.n);
    // A[row][k] = x[k][row]: x is [N, C_in]
    transposed_strides(&mut mm, true, spec.c_in);
    matmul(&mm, x, gy, gw);
}
