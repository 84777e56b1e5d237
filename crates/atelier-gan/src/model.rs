//! DCGAN's generator and discriminator, layer for layer as pytorch/examples/dcgan, so that
//! state_dict keys (`main.0.weight`, `main.1.running_mean`, ...) match PyTorch's.
//!
//! At 64×64 (the example's size) the generator is
//! `ConvT(nz→8·ngf, 4,1,0) BN ReLU, ConvT(8→4·ngf, 4,2,1) BN ReLU, ConvT(4→2·ngf) BN ReLU,
//! ConvT(2→1·ngf) BN ReLU, ConvT(ngf→nc, 4,2,1) Tanh` and the discriminator
//! `Conv(nc→ndf, 4,2,1) LReLU(0.2), Conv(ndf→2·ndf) BN LReLU, Conv(2→4·ndf) BN LReLU,
//! Conv(4→8·ndf) BN LReLU, Conv(8·ndf→1, 4,1,0)`: a logit, no sigmoid (the loss takes
//! logits). 32×32 drops the widest stage and 128×128 adds one in front (16·ngf), so each
//! stride-2 stage doubles the resolution from 4×4. No convolution has a bias.

use atelier_nn::module::prefixed;
use atelier_nn::{
    BatchNorm2d, Conv2d, ConvTranspose2d, Init, LeakyReLU, Module, ReLU, Sequential, Tanh,
};
use atelier_tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The shape of a DCGAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcganConfig {
    /// Latent size.
    pub nz: usize,
    /// Generator width (channels of its last hidden layer).
    pub ngf: usize,
    /// Discriminator width (channels of its first layer).
    pub ndf: usize,
    /// Image channels (1 grey, 3 RGB).
    pub channels: usize,
    /// 32, 64 or 128.
    pub image_size: usize,
}

impl Default for DcganConfig {
    fn default() -> Self {
        DcganConfig {
            nz: 100,
            ngf: 64,
            ndf: 64,
            channels: 3,
            image_size: 64,
        }
    }
}

impl DcganConfig {
    pub const IMAGE_SIZES: [usize; 3] = [32, 64, 128];

    /// An error a user can act on when the sizes cannot make a DCGAN.
    pub fn validate(&self) -> Result<(), String> {
        if !Self::IMAGE_SIZES.contains(&self.image_size) {
            return Err(format!(
                "image size {} is not supported (use 32, 64 or 128)",
                self.image_size
            ));
        }
        if self.nz == 0 || self.ngf == 0 || self.ndf == 0 {
            return Err("nz, ngf and ndf must be at least 1".into());
        }
        if self.channels != 1 && self.channels != 3 {
            return Err(format!(
                "images must have 1 or 3 channels, not {}",
                self.channels
            ));
        }
        Ok(())
    }

    /// Stride-2 stages from 4×4 to the image size: 3 at 32, 4 at 64, 5 at 128.
    pub fn stages(&self) -> usize {
        (self.image_size / 4).trailing_zeros() as usize
    }
}

/// z `[N, nz, 1, 1]` → images `[N, channels, size, size]` in [-1, 1].
pub struct Generator {
    pub main: Sequential,
    pub config: DcganConfig,
}

impl Generator {
    /// Layers with PyTorch's default initialisation from `init`; DCGAN's own comes from
    /// [`atelier_nn::init::dcgan`].
    pub fn new(init: &mut Init, config: DcganConfig) -> Generator {
        config
            .validate()
            .unwrap_or_else(|e| panic!("Generator: {e}"));
        let s = config.stages();
        let mut width = config.ngf << (s - 1);
        let mut main = Sequential::new()
            .with(ConvTranspose2d::new(init, config.nz, width, 4, 1, 0, false))
            .with(BatchNorm2d::new(init, width))
            .with(ReLU);
        for _ in 1..s {
            main = main
                .with(ConvTranspose2d::new(init, width, width / 2, 4, 2, 1, false))
                .with(BatchNorm2d::new(init, width / 2))
                .with(ReLU);
            width /= 2;
        }
        main = main
            .with(ConvTranspose2d::new(
                init,
                width,
                config.channels,
                4,
                2,
                1,
                false,
            ))
            .with(Tanh);
        Generator { main, config }
    }
}

impl Module for Generator {
    fn forward(&self, z: &Tensor) -> Tensor {
        self.main.forward(z)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        prefixed("main", self.main.named_parameters())
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        prefixed("main", self.main.named_buffers())
    }
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        prefixed("main", self.main.named_tensors())
    }
    fn set_training(&self, training: bool) {
        self.main.set_training(training)
    }
    fn children(&self) -> Vec<&dyn Module> {
        vec![&self.main]
    }
}

/// images `[N, channels, size, size]` → logits `[N]`.
pub struct Discriminator {
    pub main: Sequential,
    pub config: DcganConfig,
}

impl Discriminator {
    pub fn new(init: &mut Init, config: DcganConfig) -> Discriminator {
        config
            .validate()
            .unwrap_or_else(|e| panic!("Discriminator: {e}"));
        let s = config.stages();
        let mut width = config.ndf;
        let mut main = Sequential::new()
            .with(Conv2d::new(init, config.channels, width, 4, 2, 1, false))
            .with(LeakyReLU(0.2));
        for _ in 1..s {
            main = main
                .with(Conv2d::new(init, width, width * 2, 4, 2, 1, false))
                .with(BatchNorm2d::new(init, width * 2))
                .with(LeakyReLU(0.2));
            width *= 2;
        }
        main = main.with(Conv2d::new(init, width, 1, 4, 1, 0, false));
        Discriminator { main, config }
    }
}

impl Module for Discriminator {
    fn forward(&self, x: &Tensor) -> Tensor {
        let n = x.shape()[0];
        self.main.forward(x).reshape(&[n])
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        prefixed("main", self.main.named_parameters())
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        prefixed("main", self.main.named_buffers())
    }
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        prefixed("main", self.main.named_tensors())
    }
    fn set_training(&self, training: bool) {
        self.main.set_training(training)
    }
    fn children(&self) -> Vec<&dyn Module> {
        vec![&self.main]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_tensor::Device;

    #[test]
    fn every_image_size_maps_noise_to_images_to_one_logit() {
        for (size, g_layers, d_layers) in [(32, 11, 9), (64, 14, 12), (128, 17, 15)] {
            let config = DcganConfig {
                nz: 4,
                ngf: 2,
                ndf: 2,
                channels: 1,
                image_size: size,
            };
            let mut init = Init::new(Device::Cpu, 0);
            let g = Generator::new(&mut init, config);
            let d = Discriminator::new(&mut init, config);
            assert_eq!((g.main.len(), d.main.len()), (g_layers, d_layers), "{size}");
            let x = g.forward(&crate::latent::noise(2, 4, 1, Device::Cpu));
            assert_eq!(x.shape(), [2, 1, size, size]);
            assert!(x.to_vec().iter().all(|v| v.abs() <= 1.0), "tanh range");
            assert_eq!(d.forward(&x).shape(), [2]);
            // pytorch/examples' names: the first layer and the last of G, D's last conv
            let names: Vec<String> = g.named_tensors().into_iter().map(|(n, _)| n).collect();
            assert_eq!(names[0], "main.0.weight");
            assert_eq!(
                *names.last().unwrap(),
                format!("main.{}.weight", g_layers - 2)
            );
        }
    }

    #[test]
    fn unsupported_sizes_are_refused_with_a_reason() {
        let config = DcganConfig {
            image_size: 48,
            ..DcganConfig::default()
        };
        assert!(config.validate().unwrap_err().contains("48"));
    }
}
