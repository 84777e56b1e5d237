//! `ATELIER_PRECISION=f32|f16`: whether kernels may compute with reduced-precision inputs.
//!
//! `f32` (the default) keeps every kernel in fp32. `f16` allows variants that round their
//! inputs to f16 and accumulate in f32 on the GPU's matrix units (conv2d's `coop_f16`, chosen
//! only where the adapter offers cooperative matrices); each such variant states its own error
//! bound and is validated against it. The CLI's `--precision f16|f32` sets the process's value
//! ([`set_default_precision`]); tests pick per thread with [`with_precision`].

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::Error;

/// The environment variable.
pub const ENV: &str = "ATELIER_PRECISION";

/// The arithmetic kernels may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// fp32 everywhere (the default).
    F32,
    /// f16 inputs with f32 accumulation where a variant offers it.
    F16,
}

impl Precision {
    /// One value (empty means the default, `f32`); `what` names the setting or flag in the
    /// error.
    pub fn parse_for(value: &str, what: &str) -> Result<Precision, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "f32" | "fp32" => Ok(Precision::F32),
            "f16" | "fp16" => Ok(Precision::F16),
            _ => Err(Error::Config(format!(
                "{what} {value:?} is not f32 (the default) or f16 (f16 inputs, f32 \
                 accumulation, on GPUs with cooperative matrices)"
            ))),
        }
    }

    /// One value of `ATELIER_PRECISION`.
    pub fn parse(value: &str) -> Result<Precision, Error> {
        Self::parse_for(value, &format!("{ENV}="))
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }
}

/// The environment's setting, read once.
pub fn env_setting() -> Result<Precision, Error> {
    static ENV_VALUE: OnceLock<Result<Precision, String>> = OnceLock::new();
    ENV_VALUE
        .get_or_init(|| {
            let value = std::env::var(ENV).unwrap_or_default();
            Precision::parse(&value).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Error::Config)
}

/// 0: not set (the environment's), 1: f32, 2: f16.
static DEFAULT: AtomicU8 = AtomicU8::new(0);

/// Sets the process's precision (the CLI's `--precision`), over the environment's;
/// [`with_precision`] still wins on its thread.
pub fn set_default_precision(p: Precision) {
    let v = match p {
        Precision::F32 => 1,
        Precision::F16 => 2,
    };
    DEFAULT.store(v, Ordering::Relaxed);
}

thread_local! {
    static THREAD: Cell<Option<Precision>> = const { Cell::new(None) };
}

/// The precision in force on this thread: [`with_precision`]'s, else the process's, else the
/// environment's. Panics on a wrong `ATELIER_PRECISION`, which commands check up front
/// (`variant::check_settings`).
pub fn current() -> Precision {
    if let Some(p) = THREAD.with(Cell::get) {
        return p;
    }
    match DEFAULT.load(Ordering::Relaxed) {
        1 => Precision::F32,
        2 => Precision::F16,
        _ => env_setting().unwrap_or_else(|e| panic!("atelier: {e}")),
    }
}

/// Runs `f` with `p` on this thread (tests and benchmarks). Nested calls stack.
pub fn with_precision<R>(p: Precision, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Precision>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(THREAD.with(|t| t.replace(Some(p))));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_mistakes_name_the_setting() {
        assert_eq!(Precision::parse("").unwrap(), Precision::F32);
        assert_eq!(Precision::parse(" F16 ").unwrap(), Precision::F16);
        assert_eq!(Precision::parse("fp32").unwrap(), Precision::F32);
        let e = Precision::parse("bf16").unwrap_err().to_string();
        assert!(e.contains(ENV) && e.contains("bf16"), "{e}");
        let e = Precision::parse_for("half", "--precision")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--precision") && e.contains("half"), "{e}");
    }

    #[test]
    fn the_thread_setting_stacks_and_restores() {
        let outer = current();
        with_precision(Precision::F16, || {
            assert_eq!(current(), Precision::F16);
            with_precision(Precision::F32, || assert_eq!(current(), Precision::F32));
            assert_eq!(current(), Precision::F16);
        });
        assert_eq!(current(), outer);
    }
}
