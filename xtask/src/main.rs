//! `cargo xtask validate` checks every GPU kernel against its CPU reference;
//! `cargo xtask bench` runs the benchmark suite.

mod validate;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "atelier's developer tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every GPU kernel (every variant) against its CPU reference.
    Validate {
        /// Only kernels whose name contains this string.
        #[arg(long)]
        filter: Option<String>,
        /// Seed for the random inputs.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

fn main() -> anyhow::Result<()> {
    // ATELIER_PROFILE=1: per-kernel GPU times on stderr at exit
    let _profile = atelier_kernels::profiler::ReportAtExit;
    match Cli::parse().task {
        Task::Validate { filter, seed } => validate::run(filter, seed),
    }
}
