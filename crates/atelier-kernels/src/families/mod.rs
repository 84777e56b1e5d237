//! The kernel families, one folder each: shapes and their checks, variants, launchers, WGSL,
//! the CPU reference, validation cases and benchmark shapes side by side.
//!
//! The list below is the registry ([`FAMILIES`]): each family's module, and its `FAMILY`
//! registered once, for validation, benchmarks, the smoke test and the settings. (Plain `mod`
//! declarations, not a macro, so that `cargo fmt` reaches every family's files.)

use crate::registry::Family;

pub mod batchnorm;
pub mod conv2d;
pub mod elementwise;
pub mod instance_norm;
pub mod layout;
pub mod loss;
pub mod matmul;
pub mod optim;
pub mod peak;
pub mod pool2d;
pub mod reduce;
pub mod resample;
pub mod translate;

/// Every kernel family, in the order reports list them.
pub const FAMILIES: &[&Family] = &[
    &elementwise::FAMILY,
    &layout::FAMILY,
    &reduce::FAMILY,
    &matmul::FAMILY,
    &optim::FAMILY,
    &loss::FAMILY,
    &batchnorm::FAMILY,
    &instance_norm::FAMILY,
    &pool2d::FAMILY,
    &resample::FAMILY,
    &translate::FAMILY,
    &conv2d::FAMILY,
    &peak::FAMILY,
];
