//! atelier-gan: DCGAN for art imitation.
//!
//! - [`augment`], [`ada`], [`ema`]: DiffAugment, the adaptive augmentation probability and
//!   the generator's moving average, for small collections.
//! - [`model`]: the generator and discriminator of pytorch/examples/dcgan.
//! - [`step`]: one training step in PyTorch's order ([`Dcgan`]).
//! - [`latent`]: seeded noise and spherical interpolation.
//! - [`trainer`]: the training loop with run folders, checkpoints, resume, samples, metrics.
//! - [`plan`]: every tensor a DCGAN makes at a batch size, checked against the device first.
//! - [`sampling`]: many images in batches that fit the device.
//! - [`inception`], [`quality`]: pytorch-fid's Inception network on atelier's kernels, and
//!   FID, KID, precision and recall on its features.
//! - [`run`]: what every trainer's run folder shares (CycleGAN's too).
//! - [`swd`]: the sliced Wasserstein distance of Karras et al. (2018), on the CPU.

pub mod ada;
pub mod augment;
pub mod ema;
pub mod inception;
pub mod latent;
pub mod model;
pub mod plan;
pub mod quality;
pub mod run;
pub mod sampling;
pub mod step;
pub mod swd;
pub mod trainer;

pub use model::{DcganConfig, Discriminator, Generator};
pub use step::{Dcgan, StepOutputs, StepValues};
