//! atelier-kernels: the GPU side of atelier, one folder per kernel family.
//!
//! A **family** ([`families`]) is everything about one kind of kernel in one folder, the way
//! llm.c's dev/cuda keeps a kernel beside its reference: the shape type and its checks, the
//! variants, the launchers, the WGSL beside them, the plain-Rust CPU reference (`reference.rs`,
//! the ground truth), the validation cases (`validate.rs`), and the benchmark shapes with their
//! FLOP and byte counts (`bench.rs`). [`registry::FAMILIES`] lists them once (in
//! `families/mod.rs`); `cargo xtask validate`, `cargo xtask bench`, the criterion benches,
//! the smoke test and the PyTorch side-by-side all walk it. See this crate's README for the
//! layout and for adding an op.
//!
//! The machinery every family shares:
//! - [`cpu`]: the fast CPU device's thread pool, GEMM and scratch, and the mode that picks
//!   between it and the reference (`ATELIER_DEVICE=reference`).
//! - [`context`]: adapter and device selection, features and limits, the shared [`Gpu`].
//! - [`buffer_pool`]: pooled GPU buffers ([`GpuBuffer`]), and windows of them; [`memory`]: the
//!   device's memory where it can be known, and the error of an allocation past it.
//! - [`chunk`]: launching over tensors larger than one storage binding, in batch chunks;
//!   [`blocks`]: strided kernels (copies, reductions, products) in boxes of their index space.
//! - [`shader`] and [`pipeline`]: WGSL sources (each joined onto `prelude.wgsl`), entry
//!   points ([`Kernel`]) and the pipeline cache, with bind-group layouts read from the WGSL;
//!   [`shader_checks`]: wgpu's runtime checks in the modules, or trusted modules
//!   (`ATELIER_SHADER_CHECKS`).
//! - [`recorder`]: the open command encoder and compute pass, launches (with a bind-group
//!   cache), uploads and read-backs.
//! - [`variant`] and [`tune`]: how every family picks a variant (`ATELIER_KERNELS`), and
//!   timing the candidates on first use, kept in a cache file per adapter and driver.
//! - [`profiler`]: GPU time per kernel from timestamp queries (`ATELIER_PROFILE=1`), and
//!   [`trace`]: every dispatch as a timeline Perfetto opens (`ATELIER_PROFILE=FILE.json`).
//! - [`harness`]: what validation and benchmarks need (the [`harness::Validator`], random
//!   inputs, the network shapes, FLOP and byte counts, the [`harness::Bencher`] interface).

mod bind_groups;
mod bind_layout;
pub mod blocks;
pub mod buffer_pool;
pub mod check;
pub mod chunk;
pub mod context;
pub mod cpu;
pub mod error;
pub mod families;
pub mod harness;
pub mod memory;
pub mod pipeline;
pub mod precision;
pub mod profiler;
mod real;
pub mod recorder;
pub mod registry;
pub mod shader;
pub mod shader_checks;
pub mod shader_dump;
mod stats;
pub mod trace;
pub mod tune;
pub mod variant;

pub use buffer_pool::GpuBuffer;
pub use context::{DevicePreference, Gpu, gpu, gpu_available, try_gpu};
pub use error::Error;
// every family at the crate's root: `atelier_kernels::conv2d::Conv2dSpec`
pub use families::*;
pub use pipeline::Kernel;
pub use real::Real;
pub use shader::Shader;
pub use stats::DeviceStats;

/// Invocations per workgroup of the one-invocation-per-element kernels: `prelude.wgsl`'s
/// `WG`, which `linear_id` and [`Gpu::launch_elements`] assume.
pub const WG: u32 = 256;
