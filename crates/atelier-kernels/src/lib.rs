//! atelier-kernels: the GPU side of atelier.
//!
//! - [`context`]: adapter and device selection, features and limits, the shared [`Gpu`].
//! - [`pool`]: pooled GPU buffers ([`GpuBuffer`]).
//! - [`pipeline`]: WGSL shaders, entry points ([`Kernel`]) and the pipeline cache, with
//!   bind-group layouts read from the WGSL (`bind_layout`).
//! - [`recorder`]: the open command encoder and compute pass, launches (with a bind-group
//!   cache, `bind_groups`), uploads and read-backs.
//! - [`profiler`]: GPU time per kernel from timestamp queries (`ATELIER_PROFILE=1`).
//! - [`kernels`]: one module per WGSL file, one launcher per entry point.
//! - [`reference`]: a plain-Rust CPU version of every kernel, the ground truth.

mod bind_groups;
mod bind_layout;
pub mod context;
pub mod error;
pub mod kernels;
pub mod pipeline;
pub mod pool;
pub mod profiler;
pub mod recorder;
pub mod reference;
pub mod shaders;
mod stats;

pub use context::{DevicePreference, Gpu, gpu, gpu_available, try_gpu};
pub use error::Error;
pub use pipeline::{Kernel, Shader};
pub use pool::GpuBuffer;
pub use stats::DeviceStats;
