//! What validation and benchmarks need, shared by every family's `validate.rs` and `bench.rs`
//! and by their drivers (`cargo xtask validate`, `cargo xtask bench`, the criterion benches,
//! the smoke test in `cargo test`).
//!
//! - [`validate`]: the [`Validator`] (random inputs, poisoned outputs, relative errors, the
//!   table), at two levels (full, smoke).
//! - [`numeric`]: f64 helpers and central finite differences for checking the references'
//!   backward formulas.
//! - [`bench`]: the [`Bencher`] a family's benchmark cases run through, and the PyTorch
//!   equivalent each case names ([`TorchOp`]).
//! - [`work`]: FLOPs and compulsory bytes of a run, with the formula per family.
//! - [`inputs`]: random input buffers, and how many copies to rotate through.
//! - [`networks`]: the layer shapes that matter (DCGAN, VGG-19).

pub mod bench;
pub mod inputs;
pub mod networks;
pub mod numeric;
pub mod validate;
pub mod work;

pub use bench::{BenchDevice, BenchRow, Bencher, CPU_VARIANT, TorchOp};
pub use inputs::Inputs;
pub use validate::{Level, TOL_FORWARD, TOL_GRAD, Validator, relative_error};
pub use work::Work;
