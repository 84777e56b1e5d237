//! `atelier cyclegan`: unpaired image-to-image translation (CycleGAN).

mod apply;
mod runlog;
mod train;

use clap::Subcommand;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a CycleGAN between two unpaired sets of images (folders or built-in art).
    Train(Box<train::Args>),
    /// Translate an image, or a folder of images, with a trained generator.
    Apply(apply::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Train(a) => train::run(*a),
        Command::Apply(a) => apply::run(a),
    }
}
