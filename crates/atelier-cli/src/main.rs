//! `atelier`: the command-line tool. One module per subcommand; each has an `Args` struct
//! (clap) and a `run(args)` that returns an error a user can act on. Exit codes: 0 done, 1 a
//! runtime error, 2 a usage error, 128 + N stopped by signal N with a checkpoint (see `exit`).

mod args;
mod cyclegan;
mod data;
mod exit;
mod export;
mod gan;
mod info;
mod runlog;
mod signals;
mod style;
mod training;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

use atelier_kernels::memory::OutOfDeviceMemory;

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
    /// Train a CycleGAN between two unpaired image sets (photo ↔ painting) and apply it.
    Cyclegan(cyclegan::Args),
    /// Datasets as atelier sees them: dump one as a folder of PNGs.
    Data(data::Args),
    /// Export a trained network for other tools: ONNX (--format onnx) or a PyTorch state_dict
    /// (--format pth).
    Export(export::Args),
}

fn main() -> ExitCode {
    // ATELIER_PROFILE=1: per-kernel GPU times on stderr at exit
    let _profile = atelier_kernels::profiler::ReportAtExit;
    let cli = Cli::parse();
    // a misspelt ATELIER_KERNELS is an error before any work, not a panic in the middle of it
    if let Err(e) = atelier_kernels::variant::check_settings() {
        eprintln!("atelier: error: {e}");
        return ExitCode::FAILURE;
    }
    // an allocation the GPU cannot make is an error (exit 1), not a panic: the buffer pool
    // panics with an `OutOfDeviceMemory` payload from deep inside an op, and it ends here
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<OutOfDeviceMemory>().is_none() {
            default_hook(info);
        }
    }));
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| match cli.command {
        Command::Info(args) => info::run(args),
        Command::Style(args) => style::run(args),
        Command::Gan(args) => gan::run(*args),
        Command::Cyclegan(args) => cyclegan::run(args),
        Command::Export(args) => export::run(args),
        Command::Data(args) => data::run(args),
    }));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => ExitCode::from(exit::report(&e)),
        Err(payload) => match payload.downcast::<OutOfDeviceMemory>() {
            Ok(oom) => ExitCode::from(exit::report(&anyhow::anyhow!(*oom))),
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}
