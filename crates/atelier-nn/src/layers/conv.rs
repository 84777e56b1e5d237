//! Conv2d and ConvTranspose2d (groups 1), with PyTorch's weight layouts and default
//! initialisation (uniform in ±1/√fan_in, which is what kaiming_uniform(a = √5) comes to).

use atelier_tensor::{Conv2dParams, ConvTranspose2dParams, Tensor};

use crate::module::{Init, Module};

/// 2-D convolution: weight `[out, in, k, k]`, optional bias `[out]`.
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub params: Conv2dParams,
}

impl Conv2d {
    /// A square `kernel`, with `stride` and `padding` on both axes.
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
    ) -> Conv2d {
        let fan_in = in_channels * kernel * kernel;
        let bound = 1.0 / (fan_in as f32).sqrt();
        let weight = init
            .uniform(&[out_channels, in_channels, kernel, kernel], bound)
            .requires_grad_(true);
        let bias = bias.then(|| init.uniform(&[out_channels], bound).requires_grad_(true));
        Conv2d {
            weight,
            bias,
            params: Conv2dParams::new(stride, padding),
        }
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.conv2d(&self.weight, self.bias.as_ref(), self.params)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut p = vec![("weight".to_string(), self.weight.clone())];
        p.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        p
    }
}

/// 2-D transposed convolution: weight `[in, out, k, k]`, optional bias `[out]`.
pub struct ConvTranspose2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub params: ConvTranspose2dParams,
}

impl ConvTranspose2d {
    pub fn new(
        init: &mut Init,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
    ) -> ConvTranspose2d {
        // PyTorch takes fan_in from dimension 1 of the weight, which is `out` here
        let fan_in = out_channels * kernel * kernel;
        let bound = 1.0 / (fan_in as f32).sqrt();
        let weight = init
            .uniform(&[in_channels, out_channels, kernel, kernel], bound)
            .requires_grad_(true);
        let bias = bias.then(|| init.uniform(&[out_channels], bound).requires_grad_(true));
        ConvTranspose2d {
            weight,
            bias,
            params: ConvTranspose2dParams::new(stride, padding),
        }
    }
}

impl Module for ConvTranspose2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.conv_transpose2d(&self.weight, self.bias.as_ref(), self.params)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut p = vec![("weight".to_string(), self.weight.clone())];
        p.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        p
    }
}
