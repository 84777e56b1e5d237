//! BatchNorm2d, as PyTorch's: affine, running statistics updated by the op itself in
//! training mode (momentum 0.1, unbiased variance), used in evaluation mode. InstanceNorm2d,
//! as PyTorch's: statistics of each image's channel, affine or not, no running statistics.

use std::cell::Cell;

use atelier_tensor::{Device, Tensor};

use crate::module::{Init, Module};

pub struct BatchNorm2d {
    /// γ, `[C]`.
    pub weight: Tensor,
    /// β, `[C]`.
    pub bias: Tensor,
    pub running_mean: Tensor,
    pub running_var: Tensor,
    /// Training-mode forward passes so far: a CPU scalar counted on the host (no GPU work),
    /// an int64 in PyTorch and in checkpoints.
    pub num_batches_tracked: Tensor,
    pub momentum: f32,
    pub eps: f32,
    training: Cell<bool>,
}

impl BatchNorm2d {
    /// γ = 1, β = 0, running mean 0 and variance 1, momentum 0.1, eps 1e-5.
    pub fn new(init: &mut Init, channels: usize) -> BatchNorm2d {
        let device = init.device();
        let c = [channels];
        BatchNorm2d {
            weight: Tensor::ones(&c, device).requires_grad_(true),
            bias: Tensor::zeros(&c, device).requires_grad_(true),
            running_mean: Tensor::zeros(&c, device),
            running_var: Tensor::ones(&c, device),
            num_batches_tracked: Tensor::scalar(0.0, Device::Cpu),
            momentum: 0.1,
            eps: 1e-5,
            training: Cell::new(true),
        }
    }

    pub fn is_training(&self) -> bool {
        self.training.get()
    }

    /// The value of `num_batches_tracked`.
    pub fn batches_tracked(&self) -> u64 {
        self.num_batches_tracked.cpu_f32()[0] as u64
    }
}

impl BatchNorm2d {
    /// This layer followed by a LeakyReLU of `slope` (ReLU at 0, at least 0), in one kernel
    /// on the GPU ([`Tensor::batch_norm2d_act`]): what [`Sequential`](crate::Sequential) runs
    /// for a BatchNorm2d directly followed by a ReLU or LeakyReLU.
    pub fn forward_act(&self, x: &Tensor, slope: f32) -> Tensor {
        let training = self.count_batch();
        x.batch_norm2d_act(
            &self.weight,
            &self.bias,
            &self.running_mean,
            &self.running_var,
            training,
            self.momentum,
            self.eps,
            slope,
        )
    }

    /// Whether this forward pass trains; counts it in `num_batches_tracked` if so.
    fn count_batch(&self) -> bool {
        let training = self.training.get();
        if training {
            self.num_batches_tracked.cpu_f32_mut()[0] += 1.0;
        }
        training
    }
}

impl Module for BatchNorm2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let training = self.count_batch();
        x.batch_norm2d(
            &self.weight,
            &self.bias,
            &self.running_mean,
            &self.running_var,
            training,
            self.momentum,
            self.eps,
        )
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("running_mean".into(), self.running_mean.clone()),
            ("running_var".into(), self.running_var.clone()),
            (
                "num_batches_tracked".into(),
                self.num_batches_tracked.clone(),
            ),
        ]
    }

    fn set_training(&self, training: bool) {
        self.training.set(training);
    }
}

/// `InstanceNorm2d(channels, affine)` without running statistics (`track_running_stats=False`,
/// PyTorch's default): the same in training and evaluation. With `affine`, γ = 1 and β = 0 as
/// parameters `weight` and `bias`; without, no state at all.
pub struct InstanceNorm2d {
    /// γ and β, `[C]` each, when affine.
    pub affine: Option<(Tensor, Tensor)>,
    pub channels: usize,
    pub eps: f32,
}

impl InstanceNorm2d {
    pub fn new(init: &mut Init, channels: usize, affine: bool) -> InstanceNorm2d {
        let device = init.device();
        let c = [channels];
        InstanceNorm2d {
            affine: affine.then(|| {
                (
                    Tensor::ones(&c, device).requires_grad_(true),
                    Tensor::zeros(&c, device).requires_grad_(true),
                )
            }),
            channels,
            eps: 1e-5,
        }
    }
}

impl Module for InstanceNorm2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        match &self.affine {
            Some((gamma, beta)) => x.instance_norm2d(gamma, beta, self.eps),
            None => x.instance_norm2d_no_affine(self.eps),
        }
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        match &self.affine {
            Some((gamma, beta)) => vec![
                ("weight".into(), gamma.clone()),
                ("bias".into(), beta.clone()),
            ],
            None => Vec::new(),
        }
    }
}
