//! `atelier`: the command-line tool. One module per subcommand; each has an `Args` struct
//! (clap) and a `run(args)` that returns an error a user can act on.

mod export;
mod gan;
mod info;
mod style;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "atelier",
    version,
    about = "GANs for art and neural style transfer on a from-scratch GPU engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the GPU adapter atelier picks, its features and limits, and every adapter wgpu sees.
    Info(info::Args),
    /// Neural style transfer: optimise a photo (transfer), or train and apply a network.
    Style(style::Args),
    /// Train a DCGAN on artworks, sample it, walk its latent space, measure it (SWD).
    Gan(Box<gan::Args>),
    /// Write a network as a file PyTorch loads (--format pth: a state_dict, zip format).
    Export(export::Args),
}

fn main() -> ExitCode {
    // ATELIER_PROFILE=1: per-kernel GPU times on stderr at exit
    let _profile = atelier_kernels::profiler::ReportAtExit;
    let result = match Cli::parse().command {
        Command::Info(args) => info::run(args),
        Command::Style(args) => style::run(args),
        Command::Gan(args) => gan::run(*args),
        Command::Export(args) => export::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atelier: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
