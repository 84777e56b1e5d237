//! `atelier gan`: one module per subcommand.

mod compare;
mod eval;
mod interpolate;
mod runlog;
mod sample;
mod train;

use std::path::Path;

use atelier_tensor::Device;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a DCGAN on a folder of images, an IDX file or built-in procedural art.
    Train(train::Args),
    /// An image grid from a checkpoint's generator (its moving average when it has one).
    Sample(sample::Args),
    /// Frames along a spherical walk between latent seeds, as a strip and an animated GIF.
    Interpolate(interpolate::Args),
    /// SWD between real and generated images beside real vs real; FID, KID, precision and
    /// recall with --inception.
    Eval(eval::Args),
    /// Training runs side by side: SWD over the steps, D(x) and D(G(z)), in one picture.
    Compare(compare::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Train(a) => train::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Interpolate(a) => interpolate::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Compare(a) => compare::run(a),
    }
}

/// `--device`: cpu, reference, gpu or auto (also `ATELIER_DEVICE`).
pub(crate) fn device(name: &str) -> anyhow::Result<Device> {
    Device::from_name(name).map_err(anyhow::Error::msg)
}

/// `--truncation` must be positive.
pub(crate) fn check_truncation(t: Option<f32>) -> anyhow::Result<()> {
    if let Some(t) = t {
        anyhow::ensure!(
            t > 0.0 && t.is_finite(),
            "--truncation {t} must be positive (e.g. 0.7)"
        );
    }
    Ok(())
}

/// ", truncation T" or nothing.
pub(crate) fn truncation_note(t: Option<f32>) -> String {
    t.map_or(String::new(), |t| format!(", truncation {t}"))
}

/// Columns of a roughly square grid of `n` images.
pub(crate) fn grid_columns(n: usize) -> usize {
    ((n as f64).sqrt().ceil() as usize).max(1)
}

/// Padding around the tiles of a grid.
pub(crate) const GRID_PADDING: usize = 2;

/// Checks before any work that a grid of `n` images of `channels` × `size`² in `cols`
/// columns can be written to `out` (format, size limits, folder) and held in host memory
/// (the generated floats, the grid and its encoding).
pub(crate) fn check_grid_output(
    out: &Path,
    n: usize,
    channels: usize,
    size: usize,
    cols: usize,
) -> anyhow::Result<()> {
    let (w, h) = atelier_data::grid_size(n, size, size, cols, GRID_PADDING);
    atelier_data::check_image_output(out, w, h)?;
    let floats = (n as u128) * (channels * size * size) as u128 * 4;
    let grid = (w as u128) * (h as u128) * 3;
    let need = (floats + 2 * grid).min(u64::MAX as u128) as u64;
    atelier_fs::check_host_memory(&format!("a grid of {n} images ({w}×{h} pixels)"), need)?;
    Ok(())
}

/// A progress bar over `n` images made `batch` at a time (hidden when one batch does it).
pub(crate) fn progress(n: usize, batch: usize, what: &str) -> ProgressBar {
    if n <= batch {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} images [{{elapsed_precise}} < {{eta_precise}}]"
        ))
        .expect("template"),
    );
    bar
}
