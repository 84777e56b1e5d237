//! What the style commands share: device and feature selection, output checks, progress bars.

use std::path::Path;

use anyhow::{Context, bail};
use atelier_style::loss::{DEEPEST_LAYER, LossValues};
use atelier_style::vgg::{Features, RANDOM_FEATURES_NOTE, Vgg19};
use atelier_tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};

/// `--device`: cpu, gpu or auto; says so when the CPU reference will do the work.
pub fn device(name: &str) -> anyhow::Result<Device> {
    let device = Device::from_name(name).map_err(anyhow::Error::msg)?;
    if device == Device::Cpu {
        eprintln!("device: the CPU reference (slow; a GPU is used when there is one)");
    }
    Ok(device)
}

/// `--features`: VGG-19 up to relu5_1, with the plain warning when its weights are random.
pub fn vgg(features: &str, device: Device) -> anyhow::Result<Vgg19> {
    let features = Features::parse(features);
    if features.is_random() {
        eprintln!("{RANDOM_FEATURES_NOTE}");
    }
    Vgg19::new(&features, DEEPEST_LAYER, device).context("loading --features")
}

/// An error now, before any work, when `path` could not be written later.
pub fn check_output(path: &Path, flag: &str, extension: &str) -> anyhow::Result<()> {
    let ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(extension));
    if !ok {
        bail!(
            "{flag} {}: the file name must end in .{extension}",
            path.display()
        );
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent.filter(|d| !d.is_dir()) {
        bail!(
            "{flag} {}: folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// An error unless `path` names an existing file.
pub fn check_input(path: &Path, flag: &str) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!("{flag} {}: no such file", path.display());
    }
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
