//! atelier-gan: DCGAN for art imitation.
//!
//! - [`model`]: the generator and discriminator of pytorch/examples/dcgan.
//! - [`step`]: one training step in PyTorch's order ([`Dcgan`]).
//! - [`latent`]: seeded noise and spherical interpolation.
//! - [`trainer`]: the training loop with run folders, checkpoints, resume, samples, metrics.
//! - [`run`]: what every trainer's run folder shares (CycleGAN's too).
//! - [`swd`]: the sliced Wasserstein distance of Karras et al. (2018), on the CPU.

pub mod latent;
pub mod model;
pub mod run;
pub mod step;
pub mod swd;
pub mod trainer;

pub use model::{DcganConfig, Discriminator, Generator};
pub use step::{Dcgan, StepOutputs, StepValues};
