//! The validation harness. Each kernel family has a file here that runs its kernels on seeded
//! random inputs of awkward sizes and compares each output with the CPU reference:
//! ‖gpu − ref‖ / ‖ref‖ must stay under the tolerance (1e-5 forward, 1e-4 gradients by default).
//! Output buffers are poisoned (NaN) before every run, so an element a kernel forgets to write
//! fails the check. A variant the device cannot run (one that needs an optional feature it
//! lacks) is listed as skipped, with the reason, and is not a failure.

mod batchnorm;
mod conv2d;
mod elementwise;
mod instance_norm;
mod layout;
mod matmul;
mod numeric;
mod optim;
mod peak;
mod pool;
mod reduce;
mod resample;
mod translate;

use std::collections::BTreeMap;

use atelier_kernels::{GpuBuffer, gpu, kernels};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Forward tolerance (relative L2 error), from DESIGN.md.
pub const TOL_FORWARD: f64 = 1e-5;
/// Gradient tolerance.
pub const TOL_GRAD: f64 = 1e-4;

#[derive(Default)]
struct Row {
    cases: usize,
    failed: usize,
    max_err: f64,
    first_failure: Option<String>,
    /// Why the variant did not run on this device.
    skipped: Option<String>,
}

pub struct Validator {
    filter: Option<String>,
    rng: StdRng,
    rows: BTreeMap<(String, String), Row>,
}

impl Validator {
    /// Whether `kernel` passes the `--filter`.
    pub fn wants(&self, kernel: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| kernel.contains(f.as_str()))
    }

    /// Uniform random values in [lo, hi).
    pub fn uniform(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.rng.random_range(lo..hi)).collect()
    }

    /// Uniform random values in [-1, 1).
    pub fn rand(&mut self, n: usize) -> Vec<f32> {
        self.uniform(n, -1.0, 1.0)
    }

    /// A random integer in [lo, hi].
    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.random_range(lo..=hi)
    }

    /// A GPU buffer of `n` elements filled with NaN, to catch unwritten outputs.
    pub fn poisoned(&self, n: usize) -> GpuBuffer {
        let b = GpuBuffer::uninit(n);
        kernels::elementwise::fill(&b, f32::NAN);
        b
    }

    /// Reads a GPU buffer back.
    pub fn read(&self, b: &GpuBuffer) -> Vec<f32> {
        gpu().read(b, 0, b.len())
    }

    /// Records that `variant` of `kernel` cannot run on this device, and why.
    pub fn skip(&mut self, kernel: &str, variant: &str, reason: &str) {
        self.rows
            .entry((kernel.to_string(), variant.to_string()))
            .or_default()
            .skipped
            .get_or_insert_with(|| reason.to_string());
    }

    /// Compares a GPU result with the reference and records one case.
    pub fn check(
        &mut self,
        kernel: &str,
        variant: &str,
        case: &str,
        got: &[f32],
        want: &[f32],
        tol: f64,
    ) {
        let err = relative_error(got, want);
        let row = self
            .rows
            .entry((kernel.to_string(), variant.to_string()))
            .or_default();
        row.cases += 1;
        let ok = err.is_finite() && err < tol && got.len() == want.len();
        if !ok {
            row.failed += 1;
            row.first_failure
                .get_or_insert_with(|| format!("{case}: rel err {err:.3e} (tol {tol:.0e})"));
        }
        row.max_err = if err.is_nan() {
            f64::NAN
        } else {
            row.max_err.max(err)
        };
        if row.max_err.is_nan() || err.is_nan() {
            row.max_err = f64::NAN;
        }
    }
}

/// ‖got − want‖ / ‖want‖ (‖got − want‖ alone when want is zero); NaN or infinite anywhere
/// gives NaN.
pub fn relative_error(got: &[f32], want: &[f32]) -> f64 {
    if got.len() != want.len() {
        return f64::NAN;
    }
    let mut diff = 0.0f64;
    let mut norm = 0.0f64;
    for (&g, &w) in got.iter().zip(want) {
        if !g.is_finite() || !w.is_finite() {
            return f64::NAN;
        }
        diff += (g as f64 - w as f64).powi(2);
        norm += (w as f64).powi(2);
    }
    if norm == 0.0 {
        diff.sqrt()
    } else {
        (diff / norm).sqrt()
    }
}

pub fn run(filter: Option<String>, seed: u64) -> anyhow::Result<()> {
    let g = atelier_kernels::try_gpu().map_err(|e| anyhow::anyhow!("cannot validate: {e}"))?;
    println!(
        "atelier validate: {} ({:?}, {}), seed {seed}",
        g.info.name, g.info.backend, g.info.driver_info
    );
    let mut v = Validator {
        filter,
        rng: StdRng::seed_from_u64(seed),
        rows: BTreeMap::new(),
    };
    elementwise::run(&mut v);
    layout::run(&mut v);
    reduce::run(&mut v);
    matmul::run(&mut v);
    optim::run(&mut v);
    batchnorm::run(&mut v);
    instance_norm::run(&mut v);
    pool::run(&mut v);
    resample::run(&mut v);
    translate::run(&mut v);
    conv2d::run(&mut v);
    peak::run(&mut v);

    if v.rows.is_empty() {
        anyhow::bail!("no kernel matches the filter");
    }
    println!(
        "\n{:<36} {:<18} {:>6} {:>12}  result",
        "kernel", "variant", "cases", "max rel err"
    );
    println!("{}", "-".repeat(84));
    let mut failures = 0;
    for ((kernel, variant), row) in &v.rows {
        let verdict = if let (0, Some(why)) = (row.cases, &row.skipped) {
            format!("skipped ({why})")
        } else if row.failed == 0 {
            "pass".to_string()
        } else {
            format!("FAIL ({} cases)", row.failed)
        };
        let max_err = if row.cases == 0 {
            "-".to_string()
        } else {
            format!("{:.3e}", row.max_err)
        };
        println!(
            "{kernel:<36} {variant:<18} {:>6} {max_err:>12}  {verdict}",
            row.cases
        );
        if let Some(f) = &row.first_failure {
            println!("    first failure: {f}");
            failures += 1;
        }
    }
    println!("\n{} kernel variants, {} failed", v.rows.len(), failures);
    if failures > 0 {
        anyhow::bail!("{failures} kernel variants failed validation");
    }
    Ok(())
}
