//! `cargo xtask validate`: every kernel family in the registry, every kernel and variant,
//! against its CPU reference (`atelier_kernels::harness::Validator`, full level), with the
//! shader modules `ATELIER_SHADER_CHECKS` asks for (wgpu's runtime checks by default; `off`
//! validates the trusted modules).

use atelier_kernels::harness::{Level, Validator};
use atelier_kernels::registry::FAMILIES;

pub fn run(filter: Option<String>, seed: u64) -> anyhow::Result<()> {
    atelier_kernels::variant::check_settings()?;
    let g = atelier_kernels::try_gpu().map_err(|e| anyhow::anyhow!("cannot validate: {e}"))?;
    println!(
        "atelier validate: {} ({:?}, {}), seed {seed}, shader checks {}",
        g.info.name,
        g.info.backend,
        g.info.driver_info,
        atelier_kernels::shader_checks::current().name()
    );
    let mut v = Validator::new(filter, seed, Level::Full);
    for family in FAMILIES {
        (family.validate)(&mut v);
        g.release_free_buffers();
    }
    if v.row_count() == 0 {
        anyhow::bail!("no kernel matches the filter");
    }
    println!("\n{}", v.table());
    let failures = v.failures();
    println!(
        "{} kernel variants, {} failed",
        v.row_count(),
        failures.len()
    );
    if !failures.is_empty() {
        anyhow::bail!("{} kernel variants failed validation", failures.len());
    }
    Ok(())
}
