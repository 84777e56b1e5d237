//! What one run of a kernel must do, at the least: its floating-point operations and its
//! compulsory memory traffic (every input read once, every output written once, 4 bytes an
//! element). GFLOP/s and GB/s in every report divide these by the measured time, so a kernel
//! that re-reads its inputs shows a lower GB/s than the bytes it really moved: these are
//! effective rates, the roofline's convention.
//!
//! FLOPs by family (a multiply-add counts as 2):
//! - conv2d, every direction: 2·N·K·P·Q·C·R·S (every tap, padded ones included: the
//!   convention of cuDNN's and PyTorch's benchmark numbers). backward-bias: N·K·P·Q adds.
//! - conv_transpose2d, every direction: 2·N·C_in·H_in·W_in·C_out·R·S (the same count for the
//!   convolution it is the backward of).
//! - matmul: 2·M·N·K.
//! - batchnorm, per element: stats 4 (a sum for the mean; subtract, multiply, add for the
//!   squared deviations), apply 4 (subtract, multiply, multiply, add), backward_reduce 5
//!   (add; subtract, multiply for xhat; multiply-add), backward_apply 8 (xhat 2, two scaled
//!   sums 3, two subtractions, a final scale).
//! - elementwise, per element: fill 0, every other op 1 (a transcendental counts as one).
//! - reduce: one add per input element.
//! - peak: see `crate::peak::FmaPeak::flops`; copy 0.

use crate::conv2d::{Conv2dSpec, ConvTranspose2dSpec};

const F32: f64 = 4.0;

/// FLOPs and compulsory bytes of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Work {
    pub flops: f64,
    pub bytes: f64,
}

impl Work {
    /// `flops` operations over `elements` f32s of compulsory traffic.
    pub fn new(flops: f64, elements: usize) -> Work {
        Work {
            flops,
            bytes: elements as f64 * F32,
        }
    }

    /// FLOPs per byte: the roofline's x axis.
    pub fn intensity(&self) -> f64 {
        self.flops / self.bytes
    }
}

/// Multiply-adds of a convolution, the same in every direction.
pub fn conv2d_macs(spec: &Conv2dSpec) -> f64 {
    (spec.n * spec.k * spec.p() * spec.q()) as f64 * (spec.c * spec.r * spec.s) as f64
}

/// One conv2d direction. Each touches the three tensors once: forward reads x and the weight
/// and writes y; backward-data reads gy and the weight and writes gx; backward-weight reads x
/// and gy and writes gw.
pub fn conv2d(spec: &Conv2dSpec) -> Work {
    Work::new(
        2.0 * conv2d_macs(spec),
        spec.x_len() + spec.w_len() + spec.y_len(),
    )
}

/// conv2d's bias gradient: one add per element of gy.
pub fn conv2d_backward_bias(spec: &Conv2dSpec) -> Work {
    Work::new(spec.y_len() as f64, spec.y_len() + spec.k)
}

/// One conv_transpose2d direction: the same work as the convolution of `as_conv`.
pub fn conv_transpose2d(spec: &ConvTranspose2dSpec) -> Work {
    conv2d(&spec.as_conv())
}

/// conv_transpose2d's bias gradient: one add per element of gy.
pub fn conv_transpose2d_backward_bias(spec: &ConvTranspose2dSpec) -> Work {
    Work::new(spec.y_len() as f64, spec.y_len() + spec.c_out)
}

/// `[m, k] · [k, n]`.
pub fn matmul(m: usize, n: usize, k: usize) -> Work {
    Work::new(2.0 * (m * n * k) as f64, m * k + k * n + m * n)
}

/// The batchnorm kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchNormKernel {
    Stats,
    Apply,
    BackwardReduce,
    BackwardApply,
}

/// One batchnorm kernel over `len` elements of `channels` channels.
pub fn batchnorm(kernel: BatchNormKernel, len: usize, channels: usize) -> Work {
    let (flops_per, tensors, per_channel) = match kernel {
        // x → mean, invstd, running mean and variance (read and written)
        BatchNormKernel::Stats => (4, 1, 6),
        // x → y; mean, invstd, gamma, beta
        BatchNormKernel::Apply => (4, 2, 4),
        // x, gy → ggamma, gbeta; mean, invstd
        BatchNormKernel::BackwardReduce => (5, 2, 4),
        // x, gy → gx; mean, invstd, gamma, ggamma, gbeta
        BatchNormKernel::BackwardApply => (8, 3, 5),
    };
    Work::new(
        (flops_per * len) as f64,
        tensors * len + per_channel * channels,
    )
}

/// A pointwise kernel over `len` outputs, reading `inputs` tensors of the same length and
/// doing `flops_per` operations an element.
pub fn pointwise(len: usize, inputs: usize, flops_per: usize) -> Work {
    Work::new((flops_per * len) as f64, (inputs + 1) * len)
}

/// A reduction of `input` elements to `outputs`.
pub fn reduce(input: usize, outputs: usize) -> Work {
    Work::new(input as f64, input + outputs)
}
