//! atelier-cyclegan: unpaired image-to-image translation (Zhu, Park, Isola & Efros, "Unpaired
//! Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV 2017), as
//! junyanz/pytorch-CycleGAN-and-pix2pix builds and trains it, on atelier's own kernels.
//!
//! - [`model`]: the ResnetGenerator and the PatchGAN NLayerDiscriminator, with the
//!   repository's state_dict keys; generators from plain state_dicts.
//! - [`step`]: one training step in the repository's order ([`CycleGan`]).
//! - [`loss`], [`pool`], [`schedule`]: the GAN losses, the image pool, the learning rate.
//! - [`data`]: the two unpaired domains, loaded, randomly cropped and flipped.
//! - [`trainer`]: the training loop with run folders, checkpoints, resume, samples, metrics.
//! - [`apply`]: translating images of any size with a trained generator.

pub mod apply;
pub mod data;
pub mod loss;
pub mod model;
pub mod pool;
pub mod schedule;
pub mod step;
pub mod trainer;

pub use loss::GanMode;
pub use model::{
    CycleGanConfig, DiscriminatorConfig, GeneratorConfig, NLayerDiscriminator, ResnetGenerator,
    StateDict,
};
pub use schedule::Schedule;
pub use step::{CycleGan, LossConfig, Losses, StepOutputs};
