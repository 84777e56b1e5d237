//! The registry of kernel families. `cargo xtask validate`, `cargo xtask bench`, the
//! criterion benches, the smoke test of every variant in `cargo test`, the PyTorch
//! side-by-side and the `ATELIER_KERNELS` setting all walk [`FAMILIES`]; a new family is
//! registered once, by its name in the list in `families/mod.rs`.

use crate::error::Error;
use crate::harness::{Bencher, Validator};
use crate::variant::Variant;

pub use crate::families::FAMILIES;

/// A kernel family: its name and what drives its checks and benchmarks.
pub struct Family {
    /// The family's folder, its key in `ATELIER_KERNELS`, the prefix of its kernels' names.
    pub name: &'static str,
    /// One line: what the family computes.
    pub summary: &'static str,
    /// Its variants (empty when it has one way to compute each kernel).
    pub variants: fn() -> Vec<VariantInfo>,
    /// Checks every kernel and variant against the CPU reference.
    pub validate: fn(&mut Validator),
    /// Its benchmark cases (none for families that are not worth timing alone).
    pub bench: fn(&mut dyn Bencher),
}

/// A variant's name, and why this device cannot run it (if it cannot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantInfo {
    pub name: &'static str,
    pub unavailable: Option<String>,
}

/// The family called `name`.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().copied().find(|f| f.name == name)
}

/// `Family::variants` for a family whose variants are `V`.
pub fn variant_names<V: Variant>() -> Vec<VariantInfo> {
    V::ALL
        .iter()
        .map(|v| VariantInfo {
            name: v.name(),
            unavailable: v.unavailable(),
        })
        .collect()
}

/// `Family::variants` for a family with one way to compute each kernel.
pub fn no_variants() -> Vec<VariantInfo> {
    Vec::new()
}

/// `Family::bench` for a family that is not timed alone.
pub fn no_bench(_: &mut dyn Bencher) {}

/// Checks one `family=value` of a kernel setting against the registry.
pub(crate) fn check_setting(family_name: &str, value: &str) -> Result<(), Error> {
    let Some(f) = family(family_name) else {
        let with_variants: Vec<&str> = FAMILIES
            .iter()
            .filter(|f| !(f.variants)().is_empty())
            .map(|f| f.name)
            .collect();
        return Err(Error::Config(format!(
            "no kernel family {family_name:?}; families with variants: {}",
            with_variants.join(", ")
        )));
    };
    let names: Vec<&str> = (f.variants)().iter().map(|v| v.name).collect();
    if names.is_empty() {
        return Err(Error::Config(format!(
            "{family_name} has one kernel for each job: there is no variant to choose"
        )));
    }
    let v = value.to_ascii_lowercase();
    if v == "auto" || v == "tune" || names.iter().any(|n| *n == v) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{family_name}={value:?} is not one of auto, tune, {}",
            names.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_names_are_unique_and_match_their_variants() {
        let mut names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
        assert_eq!(family("conv2d").map(|f| f.name), Some("conv2d"));
        let conv2d = family("conv2d").unwrap();
        let names: Vec<&str> = (conv2d.variants)().iter().map(|v| v.name).collect();
        assert_eq!(
            names,
            [
                "direct",
                "implicit_gemm",
                "implicit_gemm_8x8",
                "igemm128x128",
                "igemm128x64",
                "igemm64x128",
                "igemm64x64",
                "skinny_n",
                "split_dot",
                "coop_f16",
            ]
        );
    }

    #[test]
    fn settings_are_checked_against_the_registry() {
        assert!(check_setting("matmul", "tiled").is_ok());
        assert!(check_setting("matmul", "TUNE").is_ok());
        let e = check_setting("layout", "auto").unwrap_err().to_string();
        assert!(e.contains("no variant"), "{e}");
        let e = check_setting("fft", "auto").unwrap_err().to_string();
        assert!(e.contains("fft") && e.contains("conv2d"), "{e}");
    }
}
