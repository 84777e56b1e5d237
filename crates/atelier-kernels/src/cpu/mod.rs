//! The fast CPU device: what every family's `cpu.rs` shares, as `context`, `buffer_pool` and
//! `recorder` are what every family's GPU launchers share.
//!
//! - [`mode`]: whether f32 work on the CPU runs the fast kernels (the default) or the plain
//!   reference (`ATELIER_DEVICE=reference`, or [`with_cpu_mode`] in a test).
//! - [`threads`]: the thread pool (rayon), sized by `ATELIER_THREADS` or all cores, and the
//!   helpers that split an op's work over it (small work runs on the calling thread: waking
//!   the pool costs more than an op on a few thousand elements).
//! - [`gemm`]: the one matrix product every GEMM-shaped kernel calls (matmul, and the
//!   convolutions as im2col GEMMs), on the `gemm` crate (SIMD microkernels chosen at run time,
//!   multi-threaded on the same pool).
//! - [`lanes`]: eight-lane sums the compiler vectorises.
//! - [`host_pool`]: pooled host vectors for CPU tensors' f32 storage, so a training loop
//!   that repeats its shapes stops allocating outputs after its first step.
//! - [`peak`]: the CPU's FMA and copy ceilings, for `cargo xtask bench --device cpu`.
//! - [`scratch`]: reused host vectors for a kernel's temporaries (the im2col matrix), so a
//!   training loop does not allocate them per op.
//!
//! Each family's fast implementation lives in its own folder (`families/conv2d/cpu.rs`),
//! beside its WGSL and its plain reference (`reference.rs`, the ground truth it is validated
//! against by `cargo xtask validate`). f64 work (gradient checks) always runs the reference.

pub mod gemm;
pub mod host_pool;
pub mod lanes;
pub mod mode;
pub mod peak;
pub mod scratch;
pub mod threads;

pub use mode::{CpuMode, cpu_mode, set_default_cpu_mode, with_cpu_mode};
pub use threads::{for_chunks, for_chunks_mut, for_ranges, install, threads};
