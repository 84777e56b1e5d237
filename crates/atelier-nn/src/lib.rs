//! atelier-nn: what models are built from.
//!
//! - [`module`]: the [`Module`] trait (forward, parameters, PyTorch state_dict names,
//!   train/eval) and [`Init`], which places new parameters on a device with seeded values.
//! - [`layers`]: Conv2d, ConvTranspose2d, BatchNorm2d, InstanceNorm2d, ReflectionPad2d, Linear,
//!   activations, [`Sequential`].
//! - [`init`]: DCGAN's initialisation, and the normal one of pytorch-CycleGAN-and-pix2pix.
//! - [`checkpoint`]: safetensors files with PyTorch's key names, optimizer and trainer state;
//!   [`kind`]: what a weights file is; [`finite`]: NaN and infinity found on the device.
//! - [`optim`]: Adam and SGD, updating parameters in place.

pub mod checkpoint;
pub mod finite;
pub mod init;
pub mod kind;
pub mod layers;
pub mod module;
pub mod optim;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use finite::find_non_finite;
pub use layers::{
    BatchNorm2d, Conv2d, ConvTranspose2d, InstanceNorm2d, LeakyReLU, Linear, ReLU, ReflectionPad2d,
    Sequential, Sigmoid, Tanh,
};
pub use module::{Init, Module};
pub use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
