//! Losses, composed from differentiable ops so their gradients come for free.

use crate::tensor::Tensor;

impl Tensor {
    /// Mean binary cross-entropy of logits `self` against targets in [0, 1], computed stably
    /// as softplus(x) − x·t (PyTorch's `binary_cross_entropy_with_logits`, mean reduction).
    pub fn bce_with_logits(&self, target: &Tensor) -> Tensor {
        assert_eq!(
            self.shape(),
            target.shape(),
            "bce_with_logits: logits {:?} and targets {:?} differ",
            self.shape(),
            target.shape()
        );
        self.softplus().sub(&self.mul(target)).mean_all()
    }

    /// Mean squared error.
    pub fn mse(&self, target: &Tensor) -> Tensor {
        assert_eq!(
            self.shape(),
            target.shape(),
            "mse: shapes {:?} and {:?} differ",
            self.shape(),
            target.shape()
        );
        self.sub(target).square().mean_all()
    }

    /// Mean absolute error.
    pub fn l1(&self, target: &Tensor) -> Tensor {
        assert_eq!(
            self.shape(),
            target.shape(),
            "l1: shapes {:?} and {:?} differ",
            self.shape(),
            target.shape()
        );
        self.sub(target).abs().mean_all()
    }
}
