//! Linear: `y = x Wᵀ + b`, weight `[out, in]` as in PyTorch.

use atelier_tensor::Tensor;

use crate::module::{Init, Module};

pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// PyTorch's default initialisation: uniform in ±1/√in for weight and bias.
    pub fn new(init: &mut Init, in_features: usize, out_features: usize, bias: bool) -> Linear {
        let bound = 1.0 / (in_features as f32).sqrt();
        let weight = init
            .uniform(&[out_features, in_features], bound)
            .requires_grad_(true);
        let bias = bias.then(|| init.uniform(&[out_features], bound).requires_grad_(true));
        Linear { weight, bias }
    }
}

impl Module for Linear {
    /// `x` is `[N, in]` (or `[N, ...]`, flattened from axis 1) → `[N, out]`.
    fn forward(&self, x: &Tensor) -> Tensor {
        let x = if x.dims() == 2 {
            x.clone()
        } else {
            x.flatten_from(1)
        };
        let y = x.matmul(&self.weight.transpose(0, 1));
        match &self.bias {
            Some(b) => y.add(b),
            None => y,
        }
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut p = vec![("weight".to_string(), self.weight.clone())];
        p.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        p
    }
}
