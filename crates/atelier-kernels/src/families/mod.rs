//! The kernel families, one folder each: shapes and their checks, variants, launchers, WGSL,
//! the CPU reference, validation cases and benchmark shapes side by side.
//!
//! The list below is the registry ([`FAMILIES`]): each name declares the family's module and
//! registers its `FAMILY` once, for validation, benchmarks, the smoke test and the settings.

use crate::registry::Family;

macro_rules! register {
    ($($family:ident),+ $(,)?) => {
        $(pub mod $family;)+

        /// Every kernel family, in the order reports list them.
        pub const FAMILIES: &[&Family] = &[$(&$family::FAMILY),+];
    };
}

register! {
    elementwise,
    layout,
    reduce,
    matmul,
    optim,
    loss,
    batchnorm,
    instance_norm,
    pool2d,
    resample,
    translate,
    conv2d,
    peak,
}
