//! What the style commands share: device and feature selection, output checks, progress bars.

use std::path::Path;

use anyhow::Context;
use atelier_style::loss::{DEEPEST_LAYER, LossValues};
use atelier_style::vgg::{Features, RANDOM_FEATURES_NOTE, Vgg19};
use atelier_tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};

use crate::usage;

/// `--device`: cpu, reference, gpu or auto; says so when the CPU will do the work.
pub fn device(name: &str) -> anyhow::Result<Device> {
    let device = Device::from_name(name).map_err(anyhow::Error::msg)?;
    if device == Device::Cpu {
        eprintln!(
            "device: the {} (a hardware GPU is used when there is one)",
            atelier_kernels::cpu::cpu_mode()
        );
    }
    Ok(device)
}

/// `--features` (clap value parser): random, random:SEED, or a weights file.
pub fn features(s: &str) -> Result<Features, String> {
    Features::from_arg(s)
}

/// `--features`: VGG-19 up to relu5_1, with the plain warning when its weights are random.
pub fn vgg(features: &Features, device: Device) -> anyhow::Result<Vgg19> {
    if features.is_random() {
        eprintln!("{RANDOM_FEATURES_NOTE}");
    }
    if let Features::File(path) = features {
        check_input(path, "--features")?;
    }
    Vgg19::new(features, DEEPEST_LAYER, device).context("loading --features")
}

/// An error now, before any work, when the file `path` (which must end in `.extension`)
/// could not be written later: a usage error for the name, a runtime error for the folder.
pub fn check_output(path: &Path, flag: &str, extension: &str) -> anyhow::Result<()> {
    let ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(extension));
    if !ok {
        usage!(
            "{flag} {}: the file name must end in .{extension}",
            path.display()
        );
    }
    atelier_fs::check_output_file(path).with_context(|| flag.to_string())?;
    Ok(())
}

/// An error now, before any work, when an image of `width` × `height` could not be written to
/// `path` later (its format follows the extension).
pub fn check_image_output(path: &Path, flag: &str, width: u64, height: u64) -> anyhow::Result<()> {
    atelier_data::check_image_output(path, width, height).with_context(|| flag.to_string())?;
    Ok(())
}

/// An error unless `path` names an existing regular file.
pub fn check_input(path: &Path, flag: &str) -> anyhow::Result<()> {
    atelier_fs::check_regular_file(path).with_context(|| flag.to_string())?;
    Ok(())
}

/// An error, before any work, when `device` cannot hold a tensor of `shapes` (NCHW), or its
/// memory (the host's on the CPU or a software GPU) cannot hold `total_bytes`. Every op of the style
/// commands splits a tensor larger than one binding (convolutions, normalisation, pooling,
/// padding, upsampling and Gram matrices into blocks of `(n, c)` planes; reductions, slices and
/// broadcasts into boxes): each tensor must fit one buffer, and one plane one binding.
pub fn check_fits(
    shapes: &[(String, Vec<usize>)],
    total_bytes: u128,
    what: &str,
    device: Device,
    hint: &'static str,
) -> anyhow::Result<()> {
    atelier_tensor::limits::check_all_planes_fit(shapes, device).map_err(|error| {
        atelier_style::StyleError::TooLarge {
            error: Box::new(error),
            hint,
        }
    })?;
    device.check_memory(what, total_bytes)?;
    Ok(())
}

/// A bar of `len` steps: "{prefix} [bar] pos/len elapsed<eta msg" (hidden off a terminal).
pub fn progress_bar(len: usize, prefix: String) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_prefix(prefix);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise}<{eta_precise} {msg}",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar
}

/// The three weighted losses, for a bar's message or a log line.
pub fn format_losses(l: &LossValues) -> String {
    format!(
        "content {:.3e}  style {:.3e}  tv {:.3e}",
        l.content, l.style, l.tv
    )
}

/// A non-negative, finite loss weight (clap value parser).
pub fn weight(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        _ => Err(format!("{s:?} is not a non-negative number")),
    }
}
