//! Optimizers with PyTorch's semantics, updating parameters in place through the tensor ops
//! `adam_step_` and `sgd_step_` (on the GPU one fused kernel per parameter tensor; Adam's
//! [`AdamMoments`] step a whole model's parameters with the multi-tensor kernel there).
//! Their state (Adam's moments, SGD's momentum buffers) is allocated once, at construction,
//! so a step allocates nothing.

use atelier_tensor::{AdamMoments, AdamStep, SgdStep, Tensor};

/// What every optimizer does.
pub trait Optimizer {
    /// Applies one update from the parameters' current gradients (parameters without a
    /// gradient are left alone, as in PyTorch).
    fn step(&mut self);
    /// Clears every parameter's gradient.
    fn zero_grad(&self);
    /// The number of steps taken so far.
    fn steps(&self) -> u64;
}

/// Adam's hyper-parameters (PyTorch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW: decay the weights directly instead of adding an L2 term to the gradient.
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
        }
    }
}

/// Adam (Kingma & Ba), as torch.optim.Adam: bias-corrected moments, eps outside the sqrt.
pub struct Adam {
    pub config: AdamConfig,
    params: Vec<Tensor>,
    /// First and second moment per parameter.
    moments: AdamMoments,
    step: u64,
}

impl Adam {
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Adam {
        let moments = AdamMoments::zeros(&params);
        Adam {
            config,
            params,
            moments,
            step: 0,
        }
    }

    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The optimizer state, for checkpoints: (step, first moments, second moments).
    pub fn state(&self) -> (u64, &[Tensor], &[Tensor]) {
        (self.step, self.moments.m(), self.moments.v())
    }

    /// Restores the state written by [`Adam::state`].
    pub fn load_state(&mut self, step: u64, m: &[Tensor], v: &[Tensor]) {
        let (my_m, my_v) = (self.moments.m(), self.moments.v());
        assert!(
            m.len() == my_m.len() && v.len() == my_v.len(),
            "Adam::load_state: {} tensors for {} parameters",
            m.len(),
            my_m.len()
        );
        for (dst, src) in my_m.iter().zip(m).chain(my_v.iter().zip(v)) {
            dst.assign(&src.to_device(dst.device()));
        }
        self.step = step;
    }
}

impl Optimizer for Adam {
    fn step(&mut self) {
        self.step += 1;
        let c = &self.config;
        let hp = AdamStep {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            decoupled_weight_decay: c.decoupled_weight_decay,
            step: self.step,
        };
        self.moments.step(&hp, &self.params);
    }

    fn zero_grad(&self) {
        self.params.iter().for_each(|p| p.zero_grad());
    }

    fn steps(&self) -> u64 {
        self.step
    }
}

/// SGD's hyper-parameters (PyTorch's defaults apart from the learning rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-2,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.
pub struct Sgd {
    pub config: SgdConfig,
    params: Vec<Tensor>,
    momentum: Vec<Tensor>,
    step: u64,
}

impl Sgd {
    pub fn new(params: Vec<Tensor>, config: SgdConfig) -> Sgd {
        let momentum = if config.momentum != 0.0 {
            params.iter().map(|p| p.zeros_like()).collect()
        } else {
            Vec::new()
        };
        Sgd {
            config,
            params,
            momentum,
            step: 0,
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) {
        self.step += 1;
        let c = &self.config;
        let hp = SgdStep {
            lr: c.lr,
            momentum: c.momentum,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
            nesterov: c.nesterov,
            step: self.step,
        };
        for (i, p) in self.params.iter().enumerate() {
            let Some(g) = p.grad() else { continue };
            p.sgd_step_(&hp, &g, self.momentum.get(i));
        }
    }

    fn zero_grad(&self) {
        self.params.iter().for_each(|p| p.zero_grad());
    }

    fn steps(&self) -> u64 {
        self.step
    }
}
