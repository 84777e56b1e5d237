//! Launcher for `loss.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::LOSS;
use crate::buffer_pool::GpuBuffer;
use crate::check::{check_len, u32_of};
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const BCE_WITH_LOGITS: Kernel = Kernel::new(&LOSS, "bce_with_logits");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    inv_n: f32,
    _pad: [u32; 2],
}

/// The mean binary cross-entropy of the `n` logits `x` against the targets `t` into
/// `loss[0]`, and its gradient with respect to the logits into `grad` (`n` elements), in one
/// dispatch. `n` must be at least 1.
pub fn bce_with_logits(n: usize, x: &GpuBuffer, t: &GpuBuffer, loss: &GpuBuffer, grad: &GpuBuffer) {
    assert!(n >= 1, "bce_with_logits: no logits");
    check_len("bce_with_logits", "x", x, n, &n);
    check_len("bce_with_logits", "t", t, n, &n);
    check_len("bce_with_logits", "loss", loss, 1, &n);
    check_len("bce_with_logits", "grad", grad, n, &n);
    let p = Params {
        n: u32_of("bce_with_logits", n),
        // as PyTorch's mean: the sum times 1/n, the reciprocal formed in f64
        inv_n: (1.0 / n as f64) as f32,
        _pad: [0; 2],
    };
    gpu().launch(&BCE_WITH_LOGITS, &[], &p, &[x, t, loss, grad], 1);
}
