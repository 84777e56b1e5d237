//! The [`Module`] trait, and [`Init`]: where new parameters live and where their values come
//! from.

use std::any::Any;

use atelier_tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// A layer or a model. State names follow PyTorch's `state_dict` (`0.weight`,
/// `1.running_mean`, ...; a model holding a [`Sequential`](crate::Sequential) called `main`
/// prefixes them with `main.`), so checkpoints move between the two.
pub trait Module: Any {
    fn forward(&self, x: &Tensor) -> Tensor;

    /// The trainable tensors with their names, in PyTorch's registration order.
    fn named_parameters(&self) -> Vec<(String, Tensor)>;

    /// Tensors that are state but not trained (running statistics, counters).
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// The whole state: what PyTorch's `state_dict()` holds, in its order (each module's
    /// parameters, then its buffers, module by module).
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut all = self.named_parameters();
        all.extend(self.named_buffers());
        all
    }

    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Training mode (batch statistics) or evaluation mode (running statistics). Modules
    /// start in training mode, as in PyTorch.
    fn set_training(&self, _training: bool) {}

    /// The modules directly inside this one (for [`visit`]).
    fn children(&self) -> Vec<&dyn Module> {
        Vec::new()
    }
}

/// Calls `f` on `module` and, depth first, on every module inside it.
pub fn visit(module: &dyn Module, f: &mut dyn FnMut(&dyn Module)) {
    f(module);
    for child in module.children() {
        visit(child, f);
    }
}

/// `module` as `T`, if it is one (for initialisers that treat layer types differently).
pub fn downcast<T: Module>(module: &dyn Module) -> Option<&T> {
    let any: &dyn Any = module;
    any.downcast_ref::<T>()
}

/// Prefixes every name with `prefix.`.
pub fn prefixed(prefix: &str, named: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    named
        .into_iter()
        .map(|(n, t)| (format!("{prefix}.{n}"), t))
        .collect()
}

/// Whether a state entry is an integer in PyTorch (BatchNorm's `num_batches_tracked`, an
/// int64 there; a CPU f32 scalar here, exact up to 2^24 batches). Checkpoints store it as I64.
pub fn is_integer_buffer(name: &str) -> bool {
    name.ends_with("num_batches_tracked")
}

/// Where new parameters are created and the seeded generator their initial values come
/// from: the same seed gives the same model on every device.
pub struct Init {
    device: Device,
    rng: StdRng,
}

impl Init {
    pub fn new(device: Device, seed: u64) -> Init {
        Init {
            device,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Values uniform in [-bound, bound).
    pub fn uniform(&mut self, shape: &[usize], bound: f32) -> Tensor {
        Tensor::from_vec(self.uniform_values(shape, bound), shape, self.device)
    }

    /// Normal values with the given mean and standard deviation.
    pub fn normal(&mut self, shape: &[usize], mean: f32, std: f32) -> Tensor {
        Tensor::from_vec(self.normal_values(shape, mean, std), shape, self.device)
    }

    pub fn uniform_values(&mut self, shape: &[usize], bound: f32) -> Vec<f32> {
        let n = shape.iter().product();
        if bound <= 0.0 {
            return vec![0.0; n];
        }
        let dist = Uniform::new(-bound, bound).expect("bound > 0");
        (0..n).map(|_| dist.sample(&mut self.rng)).collect()
    }

    pub fn normal_values(&mut self, shape: &[usize], mean: f32, std: f32) -> Vec<f32> {
        let n = shape.iter().product();
        (0..n)
            .map(|_| {
                let z: f32 = StandardNormal.sample(&mut self.rng);
                mean + std * z
            })
            .collect()
    }
}
