//! atelier-tensor: f32 tensors on the CPU or the GPU, with reverse-mode autograd.
//!
//! Model code calls tensor ops; a GPU tensor's op records a kernel launch into the device's
//! open command encoder (nothing is submitted or read back), a CPU tensor's op runs the
//! plain-Rust reference of the kernel's family (`atelier_kernels::<family>::reference`). So any model runs on both devices
//! and the two can be compared. CPU tensors may also hold f64 (`to_f64`), which gradient checks
//! use for exact finite differences.
//!
//! Autograd is PyTorch's design in micrograd's size: every op that has an input requiring
//! gradients attaches a [`autograd::Node`] (the op's name, its inputs, and a closure that maps
//! the output's gradient to the inputs' gradients). `backward` sorts the graph topologically,
//! runs the closures in reverse, accumulates gradients into leaves, and frees the graph.

pub mod autograd;
pub mod device;
pub mod gradcheck;
pub mod limits;
pub mod ops;
mod storage;
mod tensor;

pub use atelier_kernels::elementwise::{BinaryOp, UnaryOp};
pub use autograd::{is_grad_enabled, no_grad};
pub use device::{DType, Device};
pub use limits::{TooLarge, check_tensor_fits, max_binding_bytes, max_tensor_bytes};
pub use ops::conv::{Conv2dParams, ConvTranspose2dParams};
pub use ops::optim::{AdamMoments, AdamStep, SgdStep};
pub use tensor::Tensor;
