//! The validation harness. Each family's `validate.rs` runs its kernels on seeded random
//! inputs of awkward sizes and compares each output with the CPU reference:
//! ‖gpu − ref‖ / ‖ref‖ must stay under the tolerance (1e-5 forward, 1e-4 gradients by default).
//! Output buffers are poisoned (NaN) before every run, so an element a kernel forgets to write
//! fails the check. A variant the device cannot run (one that needs an optional feature it
//! lacks) is listed as skipped, with the reason, and is not a failure.
//!
//! Two levels: [`Level::Full`] (`cargo xtask validate`: every case) and [`Level::Smoke`]
//! (`cargo test`: the families' smallest cases, so every variant runs in the test command).

use std::collections::BTreeMap;

use crate::{GpuBuffer, gpu};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Forward tolerance (relative L2 error) for f32 kernels.
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

/// How many cases a family runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Every case: awkward sizes, sizes past every tile and loop limit (`cargo xtask validate`).
    Full,
    /// A few small cases per kernel and variant (`cargo test`): every variant runs.
    Smoke,
}

pub struct Validator {
    filter: Option<String>,
    level: Level,
    rng: StdRng,
    rows: BTreeMap<(String, String), Row>,
}

impl Validator {
    /// A validator of the kernels whose name contains `filter` (all when `None`), with inputs
    /// from `seed`.
    pub fn new(filter: Option<String>, seed: u64, level: Level) -> Validator {
        Validator {
            filter,
            level,
            rng: StdRng::seed_from_u64(seed),
            rows: BTreeMap::new(),
        }
    }

    /// Whether only the smoke cases run.
    pub fn smoke(&self) -> bool {
        self.level == Level::Smoke
    }

    /// `cases` at full validation, only its first `smoke` ones at the smoke level.
    pub fn pick<T>(&self, mut cases: Vec<T>, smoke: usize) -> Vec<T> {
        if self.smoke() {
            cases.truncate(smoke);
        }
        cases
    }

    /// How many (kernel, variant) rows ran or were skipped.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// The rows that failed: `kernel variant: first failure`.
    pub fn failures(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|(_, r)| r.failed > 0)
            .map(|((k, v), r)| {
                format!(
                    "{k} {v}: {}",
                    r.first_failure.as_deref().unwrap_or("failed")
                )
            })
            .collect()
    }

    /// The (kernel, variant) rows that ran at least one case.
    pub fn checked(&self) -> Vec<(String, String)> {
        self.rows
            .iter()
            .filter(|(_, r)| r.cases > 0)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The table `cargo xtask validate` prints: a row per kernel and variant.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<40} {:<18} {:>6} {:>12}  result\n{}\n",
            "kernel",
            "variant",
            "cases",
            "max rel err",
            "-".repeat(88)
        );
        for ((kernel, variant), row) in &self.rows {
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
            out += &format!(
                "{kernel:<40} {variant:<18} {:>6} {max_err:>12}  {verdict}\n",
                row.cases
            );
            if let Some(f) = &row.first_failure {
                out += &format!("    first failure: {f}\n");
            }
        }
        out
    }
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
        crate::elementwise::fill(&b, f32::NAN);
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

impl Validator {
    /// Compares a reduced-precision result with the f64 reference element by element, each
    /// within its own stated bound, and records one case; the row's error is the worst
    /// |got − want| / bound (1 is the limit).
    pub fn check_bound(
        &mut self,
        kernel: &str,
        variant: &str,
        case: &str,
        got: &[f32],
        want: &[f64],
        bound: &[f64],
    ) {
        let mut worst = if got.len() == want.len() && want.len() == bound.len() {
            0.0f64
        } else {
            f64::NAN
        };
        let mut first = None;
        for (i, ((&g, &w), &b)) in got.iter().zip(want).zip(bound).enumerate() {
            let err = (g as f64 - w).abs();
            let ratio = if err.is_finite() { err / b } else { f64::NAN };
            if (ratio.is_nan() || ratio > 1.0) && first.is_none() {
                first = Some(format!(
                    "{case}: element {i}: |{g} - {w}| = {err:.3e} > bound {b:.3e}"
                ));
            }
            worst = if ratio.is_nan() {
                f64::NAN
            } else {
                worst.max(ratio)
            };
        }
        let row = self
            .rows
            .entry((kernel.to_string(), variant.to_string()))
            .or_default();
        row.cases += 1;
        if first.is_some() || worst.is_nan() {
            row.failed += 1;
            row.first_failure.get_or_insert_with(|| {
                first.unwrap_or_else(|| format!("{case}: lengths differ or not finite"))
            });
        }
        row.max_err = if worst.is_nan() || row.max_err.is_nan() {
            f64::NAN
        } else {
            row.max_err.max(worst)
        };
    }
}

/// ‖got − want‖ / ‖want‖ (‖got − want‖ alone when want is zero), in f64 whatever the inputs'
/// precision; different lengths, or NaN or infinite anywhere, give NaN (which fails every
/// tolerance). The one relative error of the project's checks and tests.
pub fn relative_error<G: Copy + Into<f64>, W: Copy + Into<f64>>(got: &[G], want: &[W]) -> f64 {
    if got.len() != want.len() {
        return f64::NAN;
    }
    let mut diff = 0.0f64;
    let mut norm = 0.0f64;
    for (&g, &w) in got.iter().zip(want) {
        let (g, w): (f64, f64) = (g.into(), w.into());
        if !g.is_finite() || !w.is_finite() {
            return f64::NAN;
        }
        diff += (g - w).powi(2);
        norm += w.powi(2);
    }
    if norm == 0.0 {
        diff.sqrt()
    } else {
        (diff / norm).sqrt()
    }
}
