//! `cargo xtask bench`: the benchmark suite.
//!
//! It first measures the machine's own ceilings (FMA throughput with a register-bound kernel,
//! copy bandwidth with a plain vec4 copy; `ceilings.rs`), then runs the benchmark cases of
//! every family in the registry (each family's `bench.rs`, through [`Bencher`]), then the
//! whole DCGAN training step (`dcgan.rs`). Each row is timed the same way
//! (`Suite::measure`): one warm-up run (pipeline compilation, first touch; its time sizes the
//! repeat count), then the median of many runs recorded back to back, each on the next of
//! several copies of its buffers (`atelier_kernels::harness::inputs::rotation`) so a run never
//! finds its inputs in a cache the previous run warmed. Times are GPU timestamps where the
//! adapter has them (the sum of the run's compute passes), else wall clock around a
//! synchronised submit of each run.
//!
//! FLOPs and bytes come from `atelier_kernels::harness::work` (the formula per family is
//! there, and repeated at the top of each family's `bench.rs`); GFLOP/s, GB/s and the
//! percentages of the measured ceilings follow from them. Output: a table on the terminal as
//! rows finish, a JSON file (each row with its PyTorch equivalent, for
//! `scripts/torch_bench.py`) and a roofline PNG.
//!
//! `--device cpu` runs the same suite on the fast CPU device: the CPU's own ceilings
//! (`ceilings.rs`, from `atelier_kernels::cpu::peak`), every family's `cpu.rs` at the same
//! shapes (variant `cpu`), and the whole steps on CPU tensors, all on the host clock; the GPU
//! is never opened. `scripts/torch_bench.py --device cpu --threads N` times PyTorch's side.
//!
//! On a GPU machine without a Rust toolchain, `scripts/device_bench.sh` builds here and runs
//! the suite there. The suite ignores the tune cache (see [`run`]) and, with `--trace`, keeps
//! the timeline of one DCGAN step (`dcgan.rs`).

mod ceilings;
mod cyclegan;
mod dcgan;
mod gatys;
mod report;
mod roofline;

use std::path::PathBuf;

use atelier_benches::timing::{self, Clock};
use atelier_kernels::gpu;
use atelier_kernels::harness::networks::DCGAN_BATCHES;
use atelier_kernels::harness::{BenchDevice, BenchRow, Bencher, Inputs, TorchOp, Work};
use atelier_kernels::registry::FAMILIES;

/// What `cargo xtask bench` was asked for.
pub struct Options {
    /// Whose kernels to time: the GPU's or the fast CPU device's.
    pub device: BenchDevice,
    pub filter: Option<String>,
    pub quick: bool,
    /// DCGAN batch sizes instead of the default (64 and 128; 1 with --quick).
    pub batches: Option<Vec<usize>>,
    pub json: PathBuf,
    pub roofline: PathBuf,
    /// Where the timeline of one DCGAN step goes.
    pub trace: PathBuf,
}

/// How long a row's timed runs should take together, and the bounds on their count.
struct Repeats {
    budget_s: f64,
    min: usize,
    max: usize,
}

const QUICK_REPEATS: Repeats = Repeats {
    budget_s: 0.05,
    min: 3,
    max: 10,
};
const FULL_REPEATS: Repeats = Repeats {
    budget_s: 0.5,
    min: 5,
    max: 50,
};

/// `--quick` runs the DCGAN layers at this batch.
const QUICK_DCGAN_BATCH: usize = 1;

/// The measured ceilings.
#[derive(Clone, Copy, Debug)]
pub struct Ceilings {
    pub fma_gflops: f64,
    pub bandwidth_gbs: f64,
}

/// One measured kernel, variant and shape.
#[derive(Clone, Debug)]
pub struct Row {
    /// The family (or the op within one that reports apart: conv_transpose2d).
    pub family: &'static str,
    pub kernel: String,
    pub variant: String,
    pub shape: String,
    pub work: Work,
    /// Per-run times, seconds, sorted.
    pub times: Vec<f64>,
    /// Copies of the buffers the runs rotated through.
    pub copies: usize,
    /// How the runs were timed.
    pub clock: Clock,
    /// The same work in PyTorch.
    pub torch: Option<TorchOp>,
}

impl Row {
    pub fn median_s(&self) -> f64 {
        timing::median(&self.times)
    }

    pub fn gflops(&self) -> f64 {
        self.work.flops / self.median_s() / 1e9
    }

    pub fn gbs(&self) -> f64 {
        self.work.bytes / self.median_s() / 1e9
    }
}

pub struct Suite {
    pub device: BenchDevice,
    pub quick: bool,
    filter: Option<String>,
    batches: Option<Vec<usize>>,
    pub clock: Clock,
    pub inputs: Inputs,
    pub rows: Vec<Row>,
    pub ceilings: Option<Ceilings>,
    printed: usize,
}

impl Suite {
    /// Whether the row passes `--filter` (a substring of "kernel variant shape", or several
    /// separated by `|`, any of which may match).
    pub fn wants(&self, kernel: &str, variant: &str, shape: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| {
            let row = format!("{kernel} {variant} {shape}");
            f.split('|').any(|part| row.contains(part))
        })
    }

    /// The DCGAN batch sizes to run: `--batch`, else 64 and 128 (1 with --quick).
    pub fn dcgan_batches(&self) -> Vec<usize> {
        match &self.batches {
            Some(b) => b.clone(),
            None if self.quick => vec![QUICK_DCGAN_BATCH],
            None => DCGAN_BATCHES.to_vec(),
        }
    }

    /// Times `run(copy)` (copy = which set of buffers to use, below `copies`) with `clock`
    /// and adds the row (the whole-step rows always use the wall clock).
    pub fn measure_with(
        &mut self,
        clock: Clock,
        row: BenchRow,
        copies: usize,
        run: &mut dyn FnMut(usize),
    ) -> &Row {
        assert!(copies >= 1, "bench {}: no buffers to run on", row.kernel);
        let repeats = if self.quick {
            QUICK_REPEATS
        } else {
            FULL_REPEATS
        };
        // the warm-up run (pipeline compilation, first touch) also sizes the repeat count
        let warm_up = timing::time_each(clock, 1, |_| run(0))[0];
        let runs =
            ((repeats.budget_s / warm_up.max(1e-9)) as usize).clamp(repeats.min, repeats.max);
        let mut times = timing::time_each(clock, runs, |i| run((i + 1) % copies));
        times.sort_by(f64::total_cmp);
        self.rows.push(Row {
            family: row.family,
            kernel: row.kernel,
            variant: row.variant,
            shape: row.shape,
            work: row.work,
            times,
            copies,
            clock,
            torch: row.torch,
        });
        self.print_new_rows();
        self.rows.last().unwrap()
    }

    /// Prints the rows not printed yet, once the ceilings are known.
    pub fn print_new_rows(&mut self) {
        let Some(ceilings) = self.ceilings else {
            return;
        };
        for row in &self.rows[self.printed..] {
            println!("{}", report::table_line(row, &ceilings));
        }
        self.printed = self.rows.len();
    }
}

impl Bencher for Suite {
    fn device(&self) -> BenchDevice {
        self.device
    }

    fn quick(&self) -> bool {
        self.quick
    }

    fn dcgan_batches(&self) -> Vec<usize> {
        Suite::dcgan_batches(self)
    }

    fn wants(&self, kernel: &str, variant: &str, shape: &str) -> bool {
        Suite::wants(self, kernel, variant, shape)
    }

    fn inputs(&mut self) -> &mut Inputs {
        &mut self.inputs
    }

    fn measure(&mut self, row: BenchRow, copies: usize, run: &mut dyn FnMut(usize)) {
        self.measure_with(self.clock, row, copies, run);
    }
}

/// A row of the suite's own (ceilings, the whole step), with no PyTorch equivalent named.
pub fn own_row(
    family: &'static str,
    kernel: &str,
    variant: &str,
    shape: &str,
    work: Work,
) -> BenchRow {
    BenchRow {
        family,
        kernel: kernel.into(),
        variant: variant.into(),
        shape: shape.into(),
        work,
        torch: None,
    }
}

/// Runs the suite. The tune cache is off for it: `conv=auto` rows measure the families' rules
/// and `conv=tune` rows a fresh tuning, whatever earlier runs left in the user's cache.
pub fn run(opts: Options) -> anyhow::Result<()> {
    atelier_kernels::tune::with_tune_cache("off", || run_suite(opts))
}

fn run_suite(opts: Options) -> anyhow::Result<()> {
    let (clock, device_line) = match opts.device {
        BenchDevice::Gpu => {
            let g =
                atelier_kernels::try_gpu().map_err(|e| anyhow::anyhow!("cannot benchmark: {e}"))?;
            let clock = Clock::choose();
            let line = format!(
                "{} ({:?}, {})",
                g.info.name, g.info.backend, g.info.driver_info
            );
            (clock, line)
        }
        BenchDevice::Cpu => (Clock::Host, report::cpu_device_name()),
    };
    println!(
        "atelier bench{}: {device_line}, clock: {}",
        if opts.quick { " --quick" } else { "" },
        clock.name()
    );
    // variants this device cannot run are named, with the reason, not skipped in silence
    if opts.device == BenchDevice::Gpu {
        for family in FAMILIES {
            for v in (family.variants)() {
                if let Some(why) = v.unavailable {
                    println!("unavailable: {}={}: {why}", family.name, v.name);
                }
            }
        }
    }
    let started = std::time::Instant::now();
    let mut suite = Suite {
        device: opts.device,
        quick: opts.quick,
        filter: opts.filter.clone(),
        batches: opts.batches.clone(),
        clock,
        inputs: Inputs::default(),
        rows: Vec::new(),
        ceilings: None,
        printed: 0,
    };
    let on_gpu = opts.device == BenchDevice::Gpu;
    let release = || {
        if on_gpu {
            gpu().release_free_buffers();
        }
    };
    println!("{}", report::table_header());
    let ceilings = match opts.device {
        BenchDevice::Gpu => ceilings::measure(&mut suite),
        BenchDevice::Cpu => ceilings::measure_cpu(&mut suite),
    };
    suite.ceilings = Some(ceilings);
    suite.print_new_rows();

    for family in FAMILIES {
        (family.bench)(&mut suite);
        release();
    }
    // the whole steps last: they turn the timestamp profiler off (`dcgan.rs`)
    let traced = dcgan::run(&mut suite, &opts.trace)?;
    release();
    gatys::run(&mut suite);
    release();
    cyclegan::run(&mut suite);

    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "\n{} rows in {elapsed:.1} s; FMA peak {:.1} GFLOP/s, copy bandwidth {:.1} GB/s",
        suite.rows.len(),
        ceilings.fma_gflops,
        ceilings.bandwidth_gbs
    );
    report::write_json(&opts, &suite, elapsed)?;
    println!("JSON: {}", opts.json.display());
    roofline::draw(&suite, &opts.roofline)?;
    println!("roofline: {}", opts.roofline.display());
    if let Some(traced) = traced {
        println!("\n{traced}");
    }
    Ok(())
}
