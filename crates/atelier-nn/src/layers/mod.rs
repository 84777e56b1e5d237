//! The layers: convolutions, normalisation, padding, linear, activations, and the sequential
//! container.

mod activation;
mod conv;
mod linear;
mod norm;
mod pad;
mod sequential;

pub use activation::{LeakyReLU, ReLU, Sigmoid, Tanh};
pub use conv::{Conv2d, ConvTranspose2d};
pub use linear::Linear;
pub use norm::{BatchNorm2d, InstanceNorm2d};
pub use pad::ReflectionPad2d;
pub use sequential::Sequential;
