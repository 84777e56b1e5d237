//! atelier-style: neural style transfer, both ways.
//!
//! - [`vgg`]: VGG-19's convolutional part with the literature's layer names, torchvision's
//!   weights (safetensors) or seeded random ones.
//! - [`loss`]: content, style (Gram matrices) and total-variation losses.
//! - [`gatys`]: optimisation-based transfer (Gatys et al. 2016): optimise the pixels, with
//!   Adam or [`lbfgs`], coarse to fine, optionally keeping the content's colours.
//! - [`transformer_net`] and [`train`]: feed-forward transfer (Johnson et al. 2016) with
//!   pytorch/examples' TransformerNet, its state_dict names kept.

pub mod color;
pub mod error;
pub mod gatys;
pub mod image_io;
pub mod lbfgs;
pub mod loss;
pub mod memory;
pub mod score;
pub mod train;
pub mod transformer_net;
pub mod vgg;
pub mod weights;

pub use error::{Result, StyleError};
pub use lbfgs::{Lbfgs, LbfgsConfig};
pub use transformer_net::TransformerNet;
pub use vgg::{Features, Vgg19};
