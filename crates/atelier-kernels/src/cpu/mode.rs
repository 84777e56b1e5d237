//! Which CPU implementation f32 work runs: the fast kernels (each family's `cpu.rs`, the
//! default) or the plain reference (each family's `reference.rs`, the ground truth), chosen
//! with `ATELIER_DEVICE=reference`. Tests compare the two in one process with
//! [`with_cpu_mode`], which applies to the calling thread only (never `set_var`).

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

/// The two CPU implementations of every op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuMode {
    /// Each family's `cpu.rs`: GEMMs on the `gemm` crate, loops split over the thread pool.
    Fast,
    /// Each family's `reference.rs`: plain loops on one thread, the ground truth.
    Reference,
}

impl fmt::Display for CpuMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CpuMode::Fast => "fast CPU",
            CpuMode::Reference => "CPU reference",
        })
    }
}

thread_local! {
    static OVERRIDE: Cell<Option<CpuMode>> = const { Cell::new(None) };
}

/// The process's mode: 0 not decided yet, 1 fast, 2 reference.
static DEFAULT: AtomicU8 = AtomicU8::new(0);

/// The process's mode: what [`set_default_cpu_mode`] set, else what `ATELIER_DEVICE` asks for
/// (`reference` gives [`CpuMode::Reference`]; anything else, a bad value included, which the
/// device selection reports, the fast kernels).
fn default_mode() -> CpuMode {
    match DEFAULT.load(Ordering::Relaxed) {
        1 => CpuMode::Fast,
        2 => CpuMode::Reference,
        _ => {
            let mode = match std::env::var("ATELIER_DEVICE") {
                Ok(v) if v.trim().eq_ignore_ascii_case("reference") => CpuMode::Reference,
                _ => CpuMode::Fast,
            };
            set_default_cpu_mode(mode);
            mode
        }
    }
}

/// Sets the process's mode (the CLI's `--device reference`); [`with_cpu_mode`] still wins
/// on its thread.
pub fn set_default_cpu_mode(mode: CpuMode) {
    let v = match mode {
        CpuMode::Fast => 1,
        CpuMode::Reference => 2,
    };
    DEFAULT.store(v, Ordering::Relaxed);
}

/// The mode CPU f32 work runs in on this thread.
pub fn cpu_mode() -> CpuMode {
    OVERRIDE.with(|o| o.get()).unwrap_or_else(default_mode)
}

/// Runs `f` with CPU work on this thread in `mode` (restored afterwards, also on panic).
pub fn with_cpu_mode<R>(mode: CpuMode, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<CpuMode>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(mode))));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_applies_inside_and_is_restored() {
        let outside = cpu_mode();
        with_cpu_mode(CpuMode::Reference, || {
            assert_eq!(cpu_mode(), CpuMode::Reference);
            with_cpu_mode(CpuMode::Fast, || assert_eq!(cpu_mode(), CpuMode::Fast));
            assert_eq!(cpu_mode(), CpuMode::Reference);
        });
        assert_eq!(cpu_mode(), outside);
    }
}
