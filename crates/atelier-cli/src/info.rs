//! `atelier info`: which device atelier computes on and what it offers.
//!
//! Prints the adapter the GPU context chose (name, backend, device type, driver), the optional
//! features it got, the limits kernels care about (beside WebGPU's defaults), and every adapter
//! wgpu can see, the chosen one marked. When no GPU is in use it says why and which CPU
//! device runs instead (the fast one, or the reference); that is not an error. A bad `ATELIER_DEVICE` value, an
//! `ATELIER_ADAPTER` that matches nothing, or `ATELIER_DEVICE=gpu` without a GPU is.

use anyhow::bail;
use atelier_kernels::context::{self, DevicePreference, OPTIONAL_FEATURES, SOFTWARE_VULKAN_HINT};
use atelier_kernels::cpu::CpuMode;
use atelier_kernels::shader_checks::ShaderChecks;
use atelier_kernels::{Gpu, try_gpu};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    let preference = DevicePreference::from_env()?;
    let wanted_adapter = std::env::var("ATELIER_ADAPTER").ok();
    println!(
        "selection    ATELIER_DEVICE={}, ATELIER_ADAPTER={}",
        std::env::var("ATELIER_DEVICE").unwrap_or_else(|_| "(unset: auto)".into()),
        wanted_adapter
            .as_deref()
            .unwrap_or("(unset: hardware before software)")
    );
    match preference {
        DevicePreference::Cpu | DevicePreference::Reference => {
            let value = std::env::var("ATELIER_DEVICE").unwrap_or_default();
            print_cpu(&format!("ATELIER_DEVICE={value} asks for the CPU"));
            println!("to use a GPU unset ATELIER_DEVICE, or set it to auto or gpu");
            print_adapters(&context::list_adapters(), None);
            return Ok(());
        }
        DevicePreference::Auto if wanted_adapter.is_none() => {
            let choice = context::auto_choice();
            if !choice.gpu {
                print_cpu(&choice.reason);
                let adapters = context::list_adapters();
                if adapters.is_empty() {
                    println!(
                        "software GPU {SOFTWARE_VULKAN_HINT} (slower than the fast CPU device)"
                    );
                }
                print_adapters(&adapters, None);
                return Ok(());
            }
            println!("why          {}", choice.reason);
        }
        _ => {}
    }
    match try_gpu() {
        Ok(gpu) => {
            print_device(gpu);
            print_kernels()?;
            print_tune_cache(gpu);
            print_adapters(&context::list_adapters(), Some(&gpu.info));
            Ok(())
        }
        Err(reason) if wanted_adapter.is_some() => {
            bail!(
                "{reason} (adapters wgpu sees: {})",
                adapter_names(&context::list_adapters())
            )
        }
        Err(reason) if preference == DevicePreference::Gpu => {
            bail!("ATELIER_DEVICE=gpu, but there is no GPU device: {reason}")
        }
        Err(reason) => {
            let adapters = context::list_adapters();
            // the context's message already ends with the hint; print it once, on its own line
            let reason = reason.replace(&format!("; {SOFTWARE_VULKAN_HINT}"), "");
            print_cpu(&reason);
            print_adapters(&adapters, None);
            Ok(())
        }
    }
}

/// The CPU device in use (fast or reference), its threads, and why it was picked.
fn print_cpu(why: &str) {
    let mode = atelier_kernels::cpu::cpu_mode();
    println!();
    println!("device       the CPU: {mode}");
    println!("why          {why}");
    match mode {
        CpuMode::Fast => println!(
            "what runs    each kernel family's cpu.rs (GEMMs on the gemm crate, loops on {} threads; \
             ATELIER_THREADS sets them); f64 work and ops without a fast kernel run the reference",
            atelier_kernels::cpu::threads()
        ),
        CpuMode::Reference => println!(
            "what runs    each kernel family's reference.rs, the plain loops every kernel is \
             checked against: correct, but slow (ATELIER_DEVICE=cpu runs the fast CPU device)"
        ),
    }
}

/// The families with more than one variant: how each picks (`ATELIER_KERNELS`), and the
/// variants this device can and cannot run.
fn print_kernels() -> anyhow::Result<()> {
    let settings = atelier_kernels::variant::env_settings()?;
    println!();
    println!(
        "kernels      ATELIER_KERNELS={}",
        if settings.is_empty() {
            "(unset: each family's rule)".to_string()
        } else {
            settings.to_string()
        }
    );
    for family in atelier_kernels::registry::FAMILIES {
        let variants = (family.variants)();
        if variants.is_empty() {
            continue;
        }
        let listed: Vec<String> = variants
            .iter()
            .map(|v| match &v.unavailable {
                Some(why) => format!("{} (not here: {why})", v.name),
                None => v.name.to_string(),
            })
            .collect();
        println!(
            "  {:<14} {:<6} {}",
            family.name,
            settings.get(family.name).unwrap_or("auto"),
            listed.join(", ")
        );
    }
    let checks = atelier_kernels::shader_checks::env_setting()?;
    println!(
        "shader checks {} ({})",
        checks.name(),
        match checks {
            ShaderChecks::On => {
                "wgpu's runtime checks in every kernel; ATELIER_SHADER_CHECKS=off builds trusted modules"
            }
            ShaderChecks::Off =>
                "trusted modules: the validated kernels without wgpu's runtime checks",
        }
    );
    Ok(())
}

/// Where tuning results are kept for this adapter, how many it holds, and whether the
/// automatic selection uses them here.
fn print_tune_cache(gpu: &Gpu) {
    let cache = atelier_kernels::tune::cache_summary();
    let env = atelier_kernels::tune::setting::ENV;
    match &cache.path {
        Ok(path) => {
            let held = if path.exists() {
                format!("{} tuned choices for this adapter", cache.choices)
            } else {
                "no file yet: `=tune` writes one".to_string()
            };
            println!("tune cache   {} ({held})", path.display());
        }
        Err(why) => println!("tune cache   off ({why}): tuned choices last for one run"),
    }
    if let Some(why) = &cache.ignored {
        println!("             the file is ignored ({why}); the next tuning rewrites it");
    }
    if let Some(e) = &cache.write_error {
        println!("             the last write failed: {e}");
    }
    println!(
        "             {}; {env}=off|FOLDER turns it off or moves it",
        if gpu.is_software() {
            "used by families set to `tune` (a software adapter keeps each family's rule for `auto`)"
        } else {
            "used by `auto` and `tune` (a choice found there replaces the family's rule)"
        }
    );
}

fn print_device(gpu: &Gpu) {
    let info = &gpu.info;
    println!();
    println!("adapter      {}", info.name);
    println!("backend      {:?}", info.backend);
    println!("device type  {}", device_type(info.device_type));
    if gpu.is_software() {
        println!(
            "             a software rasteriser: correct and fine for tests, slow for training"
        );
    }
    println!("driver       {}", or_unknown(&info.driver));
    println!("driver info  {}", or_unknown(&info.driver_info));
    println!(
        "vendor id    {:#06x}, device id {:#06x}",
        info.vendor, info.device
    );
    match gpu.memory {
        Some(m) => println!(
            "memory       {} ({})",
            atelier_fs::memory::human_bytes(m.bytes),
            m.source
        ),
        None if gpu.is_software() => println!("memory       the host's"),
        None => println!("memory       not reported (wgpu reports none; Vulkan's heaps are read)"),
    }
    if info.subgroup_max_size > 0 {
        println!(
            "subgroups    {} to {} invocations",
            info.subgroup_min_size, info.subgroup_max_size
        );
    }

    let got = gpu.feature_names();
    let missing: Vec<&str> = OPTIONAL_FEATURES
        .iter()
        .map(|(_, name)| *name)
        .filter(|name| !got.contains(name))
        .collect();
    println!();
    println!("features     {}", list_or_none(&got));
    println!("not offered  {}", list_or_none(&missing));
    if gpu.has_feature(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        let configs = gpu.cooperative_matrix_names();
        let configs: Vec<&str> = configs.iter().map(String::as_str).collect();
        println!("coop matrix  {}", list_or_none(&configs));
    }

    let l = &gpu.limits;
    let d = wgpu::Limits::defaults();
    println!();
    println!(
        "{:<34} {:>22} {:>22}",
        "limit", "this device", "WebGPU default"
    );
    let rows: [(&str, u64, u64, bool); 7] = [
        (
            "max buffer size",
            l.max_buffer_size,
            d.max_buffer_size,
            true,
        ),
        (
            "max storage binding size",
            l.max_storage_buffer_binding_size,
            d.max_storage_buffer_binding_size,
            true,
        ),
        (
            "max workgroup storage",
            l.max_compute_workgroup_storage_size.into(),
            d.max_compute_workgroup_storage_size.into(),
            true,
        ),
        (
            "max invocations per workgroup",
            l.max_compute_invocations_per_workgroup.into(),
            d.max_compute_invocations_per_workgroup.into(),
            false,
        ),
        (
            "max workgroups per dimension",
            l.max_compute_workgroups_per_dimension.into(),
            d.max_compute_workgroups_per_dimension.into(),
            false,
        ),
        (
            "storage buffers per stage",
            l.max_storage_buffers_per_shader_stage.into(),
            d.max_storage_buffers_per_shader_stage.into(),
            false,
        ),
        (
            "min uniform offset alignment",
            l.min_uniform_buffer_offset_alignment.into(),
            d.min_uniform_buffer_offset_alignment.into(),
            true,
        ),
    ];
    for (name, this, default, is_bytes) in rows {
        let show = |v: u64| if is_bytes { bytes(v) } else { v.to_string() };
        println!("{name:<34} {:>22} {:>22}", show(this), show(default));
    }
}

fn print_adapters(adapters: &[wgpu::Adapter], chosen: Option<&wgpu::AdapterInfo>) {
    println!();
    if adapters.is_empty() {
        println!("adapters     wgpu sees none");
        return;
    }
    println!(
        "adapters wgpu sees, best first{}:",
        if chosen.is_some() {
            " (* = in use)"
        } else {
            ""
        }
    );
    for adapter in adapters {
        let info = adapter.get_info();
        let mark = if chosen.is_some_and(|c| same_adapter(c, &info)) {
            '*'
        } else {
            ' '
        };
        println!(
            "  {mark} {}  [{:?}, {}, {} {}]",
            info.name,
            info.backend,
            device_type(info.device_type),
            or_unknown(&info.driver),
            info.driver_info
        );
    }
}

/// Two enumerations return fresh adapter objects; identify them by what the driver reports.
fn same_adapter(a: &wgpu::AdapterInfo, b: &wgpu::AdapterInfo) -> bool {
    a.name == b.name && a.backend == b.backend && a.vendor == b.vendor && a.device == b.device
}

fn adapter_names(adapters: &[wgpu::Adapter]) -> String {
    if adapters.is_empty() {
        return "none".into();
    }
    let names: Vec<String> = adapters
        .iter()
        .map(|a| format!("{:?}", a.get_info().name))
        .collect();
    names.join(", ")
}

fn device_type(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete GPU",
        wgpu::DeviceType::IntegratedGpu => "integrated GPU",
        wgpu::DeviceType::VirtualGpu => "virtual GPU",
        wgpu::DeviceType::Cpu => "CPU (software)",
        wgpu::DeviceType::Other => "other",
    }
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "(not reported)" } else { s }
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// `134217728` -> `128 MiB`; `2147483647` -> `2.00 GiB`; below 1 KiB, plain bytes.
fn bytes(v: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if v < 1024 {
        return format!("{v} B");
    }
    let exponent = ((63 - v.leading_zeros()) / 10).min(6);
    let scale = 1u64 << (10 * exponent);
    let x = v as f64 / scale as f64;
    let unit = UNITS[exponent as usize - 1];
    if v.is_multiple_of(scale) {
        format!("{x} {unit}")
    } else {
        format!("{x:.2} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn bytes_are_readable() {
        assert_eq!(bytes(32), "32 B");
        assert_eq!(bytes(16 * 1024), "16 KiB");
        assert_eq!(bytes(128 << 20), "128 MiB");
        assert_eq!(bytes((1 << 31) - 1), "2.00 GiB");
        assert_eq!(bytes(u64::MAX), "16.00 EiB");
    }
}
