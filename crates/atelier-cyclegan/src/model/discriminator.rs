//! `NLayerDiscriminator` of pytorch-CycleGAN-and-pix2pix: the PatchGAN. With `n_layers = n`
//! (3 by default: each output sees a 70×70 patch) its `model` Sequential is
//!
//! ```text
//! 0 Conv 4×4/2 in→ndf  1 LeakyReLU(0.2)
//! then for k = 1 … n−1:  Conv 4×4/2 ndf·min(2^(k−1),8) → ndf·min(2^k,8)  IN  LeakyReLU(0.2)
//! then                   Conv 4×4/1 → ndf·min(2^n,8)  IN  LeakyReLU(0.2)
//! then                   Conv 4×4/1 → 1
//! ```
//!
//! every convolution with padding 1 and a bias, instance norm without affine parameters: keys
//! `model.0.weight`, `model.2.weight`, `model.5.weight`, ... as in the repository. The output is
//! a map of logits, one per patch, `[N, 1, h, w]` (no sigmoid: the losses take logits). The
//! biases of the convolutions that feed an instance norm are inert ([`InertBias`]).

use atelier_nn::module::prefixed;
use atelier_nn::{Conv2d, Init, InstanceNorm2d, LeakyReLU, Module, Sequential};
use atelier_tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::inert_bias::{InertBias, inert_biases};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscriminatorConfig {
    pub input_nc: usize,
    pub ndf: usize,
    pub n_layers: usize,
}

pub struct NLayerDiscriminator {
    pub model: Sequential,
    pub config: DiscriminatorConfig,
}

impl NLayerDiscriminator {
    pub fn new(init: &mut Init, config: DiscriminatorConfig) -> NLayerDiscriminator {
        let DiscriminatorConfig {
            input_nc,
            ndf,
            n_layers,
        } = config;
        let width = |k: usize| ndf * (1usize << k.min(3));
        let mut model = Sequential::new()
            .with(Conv2d::new(init, input_nc, ndf, 4, 2, 1, true))
            .with(LeakyReLU(0.2));
        for k in 1..=n_layers {
            // the last of these keeps the resolution (stride 1)
            let stride = if k < n_layers { 2 } else { 1 };
            model = model
                .with(InertBias(Conv2d::new(
                    init,
                    width(k - 1),
                    width(k),
                    4,
                    stride,
                    1,
                    true,
                )))
                .with(InstanceNorm2d::new(init, width(k), false))
                .with(LeakyReLU(0.2));
        }
        model = model.with(Conv2d::new(init, width(n_layers), 1, 4, 1, 1, true));
        NLayerDiscriminator { model, config }
    }

    /// The parameters that cannot change the output (see [`InertBias`]).
    pub fn inert_parameters(&self) -> Vec<String> {
        inert_biases(&self.model, "model")
    }
}

impl Module for NLayerDiscriminator {
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
    fn the_70px_patchgan_has_the_repositorys_keys_and_patch_map() {
        let config = DiscriminatorConfig {
            input_nc: 3,
            ndf: 2,
            n_layers: 3,
        };
        let d = NLayerDiscriminator::new(&mut Init::new(Device::Cpu, 0), config);
        let named: Vec<(String, Vec<usize>)> = d
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.shape().to_vec()))
            .collect();
        let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "model.0.weight",
                "model.0.bias",
                "model.2.weight",
                "model.2.bias",
                "model.5.weight",
                "model.5.bias",
                "model.8.weight",
                "model.8.bias",
                "model.11.weight",
                "model.11.bias"
            ]
        );
        assert_eq!(named[6].1, [16, 8, 4, 4]);
        assert_eq!(named[8].1, [1, 16, 4, 4]);
        // 64 px → 32 → 16 → 8 → 7 → 6: a 6×6 map of patch logits
        let y = d.forward(&Tensor::rand_uniform(
            &[2, 3, 64, 64],
            -1.0,
            1.0,
            1,
            Device::Cpu,
        ));
        assert_eq!(y.shape(), [2, 1, 6, 6]);
    }
}
