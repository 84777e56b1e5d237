//! `cargo xtask validate` checks every GPU kernel against its CPU reference;
//! `cargo xtask bench` runs the benchmark suite; `cargo xtask compare` writes BENCHMARKS.md
//! from a bench run and PyTorch's times at the same shapes.

mod bench;
mod compare;
mod validate;

use std::path::PathBuf;

use atelier_kernels::harness::BenchDevice;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "atelier's developer tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every GPU kernel (every family and variant in the registry) against its CPU reference.
    Validate {
        /// Only kernels whose name contains this string.
        #[arg(long)]
        filter: Option<String>,
        /// Seed for the random inputs.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Measure the machine's FMA and bandwidth ceilings, then time every kernel family and
    /// variant in the registry at its shapes (DCGAN, VGG-19, matmul, pointwise), then the
    /// whole DCGAN step.
    Bench {
        /// Whose kernels to time: `gpu` (the adapter `ATELIER_ADAPTER` or the first one) or
        /// `cpu` (the fast CPU device, `ATELIER_THREADS` threads; no GPU is opened).
        #[arg(long, default_value = "gpu", value_parser = ["gpu", "cpu"])]
        device: String,
        /// Only rows whose "kernel variant shape" contains this string (or one of several
        /// separated by `|`: `--filter 'dcgan.step|gatys'`).
        #[arg(long)]
        filter: Option<String>,
        /// A small subset of shapes and few repeats (CI-sized on a software adapter).
        #[arg(long)]
        quick: bool,
        /// DCGAN batch sizes, comma-separated (default 64,128; 1 with --quick).
        #[arg(long, value_delimiter = ',')]
        batch: Option<Vec<usize>>,
        /// Where to write the JSON report.
        #[arg(long, default_value = "target/bench/bench.json")]
        json: PathBuf,
        /// Where to draw the roofline PNG.
        #[arg(long, default_value = "target/bench/roofline.png")]
        roofline: PathBuf,
        /// Where to write the timeline of one DCGAN step (Chrome trace-event JSON, for
        /// Perfetto or chrome://tracing), after the step's rows; its per-kernel profile is
        /// printed at the end. Needs timestamp queries.
        #[arg(long, default_value = "target/bench/trace.json")]
        trace: PathBuf,
    },
    /// Join a bench JSON with PyTorch's times at the same shapes (scripts/torch_bench.py)
    /// into a Markdown report: atelier's fastest variant, PyTorch, their ratio, the targets.
    Compare {
        /// The JSON `cargo xtask bench --json` wrote.
        #[arg(long)]
        atelier: PathBuf,
        /// The JSON `scripts/torch_bench.py --out` wrote.
        #[arg(long)]
        torch: PathBuf,
        /// Where the Markdown goes.
        #[arg(long, default_value = "BENCHMARKS.md")]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    // ATELIER_PROFILE=1: per-kernel GPU times on stderr at exit
    let _profile = atelier_kernels::profiler::ReportAtExit;
    match Cli::parse().task {
        Task::Validate { filter, seed } => validate::run(filter, seed),
        Task::Bench {
            device,
            filter,
            quick,
            batch,
            json,
            roofline,
            trace,
        } => bench::run(bench::Options {
            device: if device == "cpu" {
                BenchDevice::Cpu
            } else {
                BenchDevice::Gpu
            },
            filter,
            quick,
            batches: batch,
            json,
            roofline,
            trace,
        }),
        Task::Compare {
            atelier,
            torch,
            out,
        } => compare::run(&atelier, &torch, &out),
    }
}
