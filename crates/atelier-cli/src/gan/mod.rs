//! `atelier gan`: one module per subcommand.

mod compare;
mod eval;
mod interpolate;
mod sample;
mod train;

use atelier_tensor::Device;
use clap::Subcommand;

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

/// `--device`: cpu, gpu or auto (also `ATELIER_DEVICE`).
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
