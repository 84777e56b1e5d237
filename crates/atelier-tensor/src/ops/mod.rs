//! The tensor op API. Each op computes its output on the tensor's device (a kernel launch on
//! the GPU; on the CPU the fast CPU device's kernel, or the plain reference with
//! `ATELIER_DEVICE=reference` and for f64) and, when gradients are wanted, records how to
//! backpropagate through it.

pub mod conv;
pub mod elementwise;
pub mod layout;
pub mod loss;
pub mod matmul;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod resample;
pub(crate) mod run;
pub mod translate;

use crate::tensor::Tensor;

/// Panics unless `a` and `b` live on the same device, naming the op.
pub(crate) fn same_device(op: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(
        a.device(),
        b.device(),
        "{op}: operands on different devices ({:?} on {}, {:?} on {})",
        a.shape(),
        a.device(),
        b.shape(),
        b.device()
    );
}
