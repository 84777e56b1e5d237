//! `ResnetGenerator` of pytorch-CycleGAN-and-pix2pix (after Johnson et al.'s fast style
//! transfer network), with `norm_layer = InstanceNorm2d(affine=False)`, reflection padding,
//! no dropout (CycleGAN's default) and biases on (the repository turns them on for instance
//! norm). With `n_blocks = B` its `model` Sequential is:
//!
//! ```text
//! 0 ReflectionPad(3)  1 Conv 7×7 in→ngf  2 IN  3 ReLU
//! 4 Conv 3×3/2 ngf→2ngf  5 IN  6 ReLU     7 Conv 3×3/2 2ngf→4ngf  8 IN  9 ReLU
//! 10 … 9+B  ResnetBlock(4ngf): x + conv_block(x), conv_block = 0 ReflectionPad(1)
//!           1 Conv 3×3  2 IN  3 ReLU  4 ReflectionPad(1)  5 Conv 3×3  6 IN
//! 10+B ConvT 3×3/2 (padding 1, output_padding 1) 4ngf→2ngf  11+B IN  12+B ReLU
//! 13+B ConvT 2ngf→ngf  14+B IN  15+B ReLU
//! 16+B ReflectionPad(3)  17+B Conv 7×7 ngf→out  18+B Tanh
//! ```
//!
//! so its state_dict keys are `model.1.weight`, `model.10.conv_block.1.weight`, ...,
//! `model.{17+B}.bias`, the repository's. Every convolution but the last feeds an instance
//! norm, which makes its bias inert ([`InertBias`]).

use atelier_nn::module::prefixed;
use atelier_nn::{
    Conv2d, ConvTranspose2d, Init, InstanceNorm2d, Module, ReLU, ReflectionPad2d, Sequential, Tanh,
};
use atelier_tensor::{ConvTranspose2dParams, Tensor};
use serde::{Deserialize, Serialize};

use super::inert_bias::{InertBias, inert_biases};

/// A convolution that feeds an instance norm.
fn normed(
    init: &mut Init,
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
    pad: usize,
) -> InertBias<Conv2d> {
    InertBias(Conv2d::new(init, c_in, c_out, k, stride, pad, true))
}

/// The shape of one ResnetGenerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    pub input_nc: usize,
    pub output_nc: usize,
    pub ngf: usize,
    pub n_blocks: usize,
}

impl GeneratorConfig {
    /// The index in `model` of the first upsampling layer (after the blocks).
    pub fn first_up(&self) -> usize {
        10 + self.n_blocks
    }

    /// The index in `model` of the last convolution.
    pub fn last_conv(&self) -> usize {
        17 + self.n_blocks
    }
}

/// `x + conv_block(x)`, with `conv_block` as the repository's (keys `conv_block.1.weight`,
/// `conv_block.5.bias`, ...).
pub struct ResnetBlock {
    pub conv_block: Sequential,
}

impl ResnetBlock {
    pub fn new(init: &mut Init, dim: usize) -> ResnetBlock {
        let conv_block = Sequential::new()
            .with(ReflectionPad2d(1))
            .with(normed(init, dim, dim, 3, 1, 0))
            .with(InstanceNorm2d::new(init, dim, false))
            .with(ReLU)
            .with(ReflectionPad2d(1))
            .with(normed(init, dim, dim, 3, 1, 0))
            .with(InstanceNorm2d::new(init, dim, false));
        ResnetBlock { conv_block }
    }
}

impl Module for ResnetBlock {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.add(&self.conv_block.forward(x))
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        prefixed("conv_block", self.conv_block.named_parameters())
    }
    fn children(&self) -> Vec<&dyn Module> {
        vec![&self.conv_block]
    }
}

/// Images `[N, input_nc, H, W]` in [-1, 1] → `[N, output_nc, H, W]` in [-1, 1] (H and W
/// multiples of 4; see [`ResnetGenerator::translate`] for any size).
pub struct ResnetGenerator {
    pub model: Sequential,
    pub config: GeneratorConfig,
}

/// A transposed convolution that doubles the size exactly (output_padding 1) and feeds an
/// instance norm.
fn up(init: &mut Init, c_in: usize, c_out: usize) -> InertBias<ConvTranspose2d> {
    let mut layer = ConvTranspose2d::new(init, c_in, c_out, 3, 2, 1, true);
    layer.params = ConvTranspose2dParams {
        output_padding: (1, 1),
        ..layer.params
    };
    InertBias(layer)
}

impl ResnetGenerator {
    /// Layers with PyTorch's default initialisation drawn from `init`; the repository's own
    /// (normal, gain 0.02) is [`atelier_nn::init::normal`].
    pub fn new(init: &mut Init, config: GeneratorConfig) -> ResnetGenerator {
        let GeneratorConfig {
            input_nc,
            output_nc,
            ngf,
            n_blocks,
        } = config;
        let mut model = Sequential::new()
            .with(ReflectionPad2d(3))
            .with(normed(init, input_nc, ngf, 7, 1, 0))
            .with(InstanceNorm2d::new(init, ngf, false))
            .with(ReLU);
        // two stride-2 downsamplings
        for mult in [1, 2] {
            model = model
                .with(normed(init, ngf * mult, ngf * mult * 2, 3, 2, 1))
                .with(InstanceNorm2d::new(init, ngf * mult * 2, false))
                .with(ReLU);
        }
        for _ in 0..n_blocks {
            model.push(ResnetBlock::new(init, ngf * 4));
        }
        // two transposed convolutions back up (output_padding 1 doubles the size exactly)
        for mult in [4, 2] {
            model = model
                .with(up(init, ngf * mult, ngf * mult / 2))
                .with(InstanceNorm2d::new(init, ngf * mult / 2, false))
                .with(ReLU);
        }
        model = model
            .with(ReflectionPad2d(3))
            .with(Conv2d::new(init, ngf, output_nc, 7, 1, 0, true))
            .with(Tanh);
        debug_assert_eq!(model.len(), config.last_conv() + 2);
        ResnetGenerator { model, config }
    }

    /// The parameters that cannot change the output (biases feeding an instance norm, see
    /// [`InertBias`]): kept for the state_dict, never trained.
    pub fn inert_parameters(&self) -> Vec<String> {
        inert_biases(&self.model, "model")
    }
}

impl Module for ResnetGenerator {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.model.forward(x)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        prefixed("model", self.model.named_parameters())
    }
    fn children(&self) -> Vec<&dyn Module> {
        vec![&self.model]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_tensor::Device;

    #[test]
    fn keys_and_shapes_are_the_repositorys() {
        let config = GeneratorConfig {
            input_nc: 3,
            output_nc: 1,
            ngf: 4,
            n_blocks: 2,
        };
        let g = ResnetGenerator::new(&mut Init::new(Device::Cpu, 0), config);
        let named: Vec<(String, Vec<usize>)> = g
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape().to_vec()))
            .collect();
        let want: &[(&str, &[usize])] = &[
            ("model.1.weight", &[4, 3, 7, 7]),
            ("model.1.bias", &[4]),
            ("model.4.weight", &[8, 4, 3, 3]),
            ("model.4.bias", &[8]),
            ("model.7.weight", &[16, 8, 3, 3]),
            ("model.7.bias", &[16]),
            ("model.10.conv_block.1.weight", &[16, 16, 3, 3]),
            ("model.10.conv_block.1.bias", &[16]),
            ("model.10.conv_block.5.weight", &[16, 16, 3, 3]),
            ("model.10.conv_block.5.bias", &[16]),
            ("model.11.conv_block.1.weight", &[16, 16, 3, 3]),
            ("model.11.conv_block.1.bias", &[16]),
            ("model.11.conv_block.5.weight", &[16, 16, 3, 3]),
            ("model.11.conv_block.5.bias", &[16]),
            ("model.12.weight", &[16, 8, 3, 3]),
            ("model.12.bias", &[8]),
            ("model.15.weight", &[8, 4, 3, 3]),
            ("model.15.bias", &[4]),
            ("model.19.weight", &[1, 4, 7, 7]),
            ("model.19.bias", &[1]),
        ];
        let want: Vec<(String, Vec<usize>)> = want
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_vec()))
            .collect();
        assert_eq!(named, want);
        let y = g.forward(&Tensor::rand_uniform(
            &[2, 3, 12, 16],
            -1.0,
            1.0,
            1,
            Device::Cpu,
        ));
        assert_eq!(y.shape(), [2, 1, 12, 16]);
        assert!(y.to_vec().iter().all(|v| v.abs() <= 1.0));
    }
}
