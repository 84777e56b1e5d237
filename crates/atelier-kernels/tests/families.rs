//! Every kernel family of the registry, every kernel and variant, against its CPU reference
//! on a few small cases (the smoke level of `cargo xtask validate`), so a broken variant fails
//! `cargo test` and not only `cargo xtask validate`.

use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::harness::{Level, Validator};
use atelier_kernels::registry::FAMILIES;

#[test]
fn every_family_and_variant_matches_its_reference_on_small_cases() {
    if !gpu_for_tests() {
        return;
    }
    let mut v = Validator::new(None, 7, Level::Smoke);
    for family in FAMILIES {
        (family.validate)(&mut v);
    }
    let failures = v.failures();
    assert!(
        failures.is_empty(),
        "failed:\n{}\n{}",
        failures.join("\n"),
        v.table()
    );

    // every variant the device can run ran at least one case
    let checked = v.checked();
    for family in FAMILIES {
        for variant in (family.variants)() {
            if variant.unavailable.is_some() {
                continue;
            }
            assert!(
                checked
                    .iter()
                    .any(|(kernel, v)| kernel.starts_with(family.name) && v == variant.name),
                "{} variant {} ran no case:\n{}",
                family.name,
                variant.name,
                v.table()
            );
        }
        assert!(
            checked
                .iter()
                .any(|(kernel, _)| kernel.starts_with(family.name)
                    || (family.name == "conv2d" && kernel.starts_with("conv_transpose2d"))),
            "family {} checked nothing",
            family.name
        );
    }
}
