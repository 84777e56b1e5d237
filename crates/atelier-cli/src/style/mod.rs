//! `atelier style`: neural style transfer, both ways.
//!
//! - `transfer`: optimise a photo's pixels towards a painting's style (Gatys et al.);
//! - `train`: train a feed-forward network on a folder of photos for one painting (Johnson et
//!   al.); `apply`: run a trained network on an image.

mod apply;
mod common;
mod runlog;
mod train;
mod transfer;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Transfer a painting's style onto a photo by optimising the photo's pixels.
    Transfer(transfer::Args),
    /// Train a feed-forward style network (pytorch/examples' TransformerNet) for one painting.
    Train(train::Args),
    /// Stylise an image with a trained network.
    Apply(apply::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Transfer(a) => transfer::run(a),
        Command::Train(a) => train::run(a),
        Command::Apply(a) => apply::run(a),
    }
}
