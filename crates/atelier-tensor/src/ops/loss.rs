//! Losses: BCE with logits as one kernel with its gradient (the loss family); the others
//! composed from differentiable ops, so their gradients come for free.

use atelier_kernels::loss::{self as k, reference as r};

use super::run::kernel_op;
use crate::tensor::Tensor;

impl Tensor {
    /// Mean binary cross-entropy of logits `self` against targets in [0, 1], computed stably
    /// as max(x, 0) − x·t + log(1 + exp(−|x|)) (PyTorch's `binary_cross_entropy_with_logits`,
    /// mean reduction). One kernel (the loss family's) computes the loss and its gradient
    /// with respect to the logits together; the backward only scales that gradient by the
    /// upstream one. Targets get a gradient too when they require one (−x / n).
    pub fn bce_with_logits(&self, target: &Tensor) -> Tensor {
        assert_eq!(
            self.shape(),
            target.shape(),
            "bce_with_logits: logits {:?} and targets {:?} differ",
            self.shape(),
            target.shape()
        );
        let n = self.numel();
        assert!(
            n >= 1,
            "bce_with_logits: no logits (shape {:?})",
            self.shape()
        );
        let shape = self.shape().to_vec();
        let scalar: &[usize] = &[];
        let mut out = kernel_op!(
            "bce_with_logits",
            [self, target],
            [scalar, &shape],
            gpu | i,
            o | k::bce_with_logits(n, i[0], i[1], o[0], o[1]),
            cpu | i,
            o | {
                let (loss, grad) = o.split_at_mut(1);
                r::bce_with_logits(i[0], i[1], &mut loss[0], &mut grad[0])
            }
        );
        let grad = out.pop().expect("two outputs");
        let loss = out.pop().expect("two outputs");
        let logits = target.requires_grad().then(|| self.detach());
        loss.with_node("bce_with_logits", &[self, target], move |gy| {
            let gt = logits
                .as_ref()
                .map(|x| x.mul(gy).mul_scalar(-1.0 / n as f32));
            vec![Some(grad.mul(gy)), gt]
        })
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
