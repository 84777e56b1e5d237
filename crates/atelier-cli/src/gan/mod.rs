//! `atelier gan`: one module per subcommand.

mod eval;
mod interpolate;
mod runlog;
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
    /// An image grid from a checkpoint's generator.
    Sample(sample::Args),
    /// A strip of images along a spherical walk between two latent seeds.
    Interpolate(interpolate::Args),
    /// Sliced Wasserstein distance between real and generated images, beside real vs real.
    Eval(eval::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Train(a) => train::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Interpolate(a) => interpolate::run(a),
        Command::Eval(a) => eval::run(a),
    }
}

/// `--device`: cpu, gpu or auto (also `ATELIER_DEVICE`).
pub(crate) fn device(name: &str) -> anyhow::Result<Device> {
    Device::from_name(name).map_err(anyhow::Error::msg)
}

/// Columns of a roughly square grid of `n` images.
pub(crate) fn grid_columns(n: usize) -> usize {
    ((n as f64).sqrt().ceil() as usize).max(1)
}
