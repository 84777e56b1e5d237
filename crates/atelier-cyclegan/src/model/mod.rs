//! The networks of junyanz/pytorch-CycleGAN-and-pix2pix (`models/networks.py`), layer for
//! layer, so that state_dict keys match that repository's (`model.1.weight`,
//! `model.10.conv_block.1.weight`, ...): the [`ResnetGenerator`] and the PatchGAN
//! [`NLayerDiscriminator`], both with instance norm without affine parameters (the
//! repository's `--norm instance`) and biases on every convolution.

mod discriminator;
mod generator;
mod inert_bias;
mod memory;
mod state_dict;

pub use discriminator::{DiscriminatorConfig, NLayerDiscriminator};
pub use generator::{GeneratorConfig, ResnetBlock, ResnetGenerator};
pub use inert_bias::InertBias;
pub use state_dict::{ArchitectureError, StateDict, state_dict_of};

use serde::{Deserialize, Serialize};

/// The shape of a whole CycleGAN: G_A maps A → B and G_B maps B → A (ResnetGenerators);
/// D_A judges images of B and D_B images of A (NLayerDiscriminators).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleGanConfig {
    /// Channels of domain A's images (1 grey, 3 RGB).
    pub nc_a: usize,
    /// Channels of domain B's images.
    pub nc_b: usize,
    /// Generator width (channels after its first convolution).
    pub ngf: usize,
    /// Discriminator width (channels of its first convolution).
    pub ndf: usize,
    /// Residual blocks in each generator (the repository: 9 at 256 px, 6 at 128 px).
    pub n_blocks: usize,
    /// Stride-2 convolutions in each discriminator (3: the 70×70 PatchGAN).
    pub n_layers_d: usize,
}

impl Default for CycleGanConfig {
    /// The repository's defaults: RGB both ways, ngf = ndf = 64, 9 blocks, 3 layers.
    fn default() -> Self {
        CycleGanConfig {
            nc_a: 3,
            nc_b: 3,
            ngf: 64,
            ndf: 64,
            n_blocks: 9,
            n_layers_d: 3,
        }
    }
}

impl CycleGanConfig {
    /// The repository's block count for a crop size: 9 from 256 px up, 6 below (its
    /// `resnet_9blocks` / `resnet_6blocks`).
    pub fn default_blocks(crop_size: usize) -> usize {
        if crop_size >= 256 { 9 } else { 6 }
    }

    /// G_A: A → B.
    pub fn g_a(&self) -> GeneratorConfig {
        GeneratorConfig {
            input_nc: self.nc_a,
            output_nc: self.nc_b,
            ngf: self.ngf,
            n_blocks: self.n_blocks,
        }
    }

    /// G_B: B → A.
    pub fn g_b(&self) -> GeneratorConfig {
        GeneratorConfig {
            input_nc: self.nc_b,
            output_nc: self.nc_a,
            ngf: self.ngf,
            n_blocks: self.n_blocks,
        }
    }

    /// D_A: judges domain B.
    pub fn d_a(&self) -> DiscriminatorConfig {
        DiscriminatorConfig {
            input_nc: self.nc_b,
            ndf: self.ndf,
            n_layers: self.n_layers_d,
        }
    }

    /// D_B: judges domain A.
    pub fn d_b(&self) -> DiscriminatorConfig {
        DiscriminatorConfig {
            input_nc: self.nc_a,
            ndf: self.ndf,
            n_layers: self.n_layers_d,
        }
    }

    /// An error a user can act on when these sizes cannot make a CycleGAN.
    pub fn validate(&self) -> Result<(), String> {
        for (name, c) in [("domain A", self.nc_a), ("domain B", self.nc_b)] {
            if c != 1 && c != 3 {
                return Err(format!("{name} images must have 1 or 3 channels, not {c}"));
            }
        }
        if self.ngf == 0 || self.ndf == 0 {
            return Err("--ngf and --ndf must be at least 1".into());
        }
        if self.n_layers_d == 0 {
            return Err("--n-layers-d must be at least 1".into());
        }
        Ok(())
    }

    /// The smallest square crop the networks take. The discriminator halves the side
    /// `n_layers_d` times, then two 4×4 stride-1 convolutions (padding 1) each take a pixel
    /// off, and one output must remain: `3 · 2^n_layers_d`. The generator's reflection
    /// padding at a quarter of the size needs 2 pixels there: 8.
    pub fn min_crop(&self) -> usize {
        ((1usize << self.n_layers_d) * 3).max(8)
    }
}
