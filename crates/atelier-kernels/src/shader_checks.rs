//! `ATELIER_SHADER_CHECKS=on|off`: whether shader modules keep wgpu's runtime checks.
//!
//! By default wgpu compiles every WGSL module with checks naga writes into it: a clamp on every
//! buffer and array index, a guard on every integer division and modulo, and a counter that
//! bounds every loop. They keep any shader safe whatever it is given, and they can keep the
//! driver's compiler from unrolling an inner product or keeping its accumulators in registers.
//! atelier's kernels are all checked against their CPU references by `cargo xtask validate`
//! (awkward sizes, outputs poisoned with NaN, sizes past every tile), with the checks on and
//! off, and every launcher checks its buffers' lengths (`check.rs`): with `off` their modules
//! are built with `create_shader_module_trusted` and no runtime checks.
//!
//! The default stays `on` until a GPU measurement says otherwise: `cargo xtask bench` times
//! the convolutions at the DCGAN layers and the DCGAN step both ways (variants named
//! `...+trusted`). Tests and benchmarks pick per thread with [`with_shader_checks`]; the
//! pipeline cache keys modules and pipelines on the setting, so both kinds live side by side.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::Error;

/// The environment variable.
pub const ENV: &str = "ATELIER_SHADER_CHECKS";

/// Whether modules keep wgpu's runtime checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShaderChecks {
    /// wgpu's default: bounds clamps, division guards, bounded loops.
    On,
    /// Trusted modules: the validated kernels as written.
    Off,
}

impl ShaderChecks {
    /// One value of `ATELIER_SHADER_CHECKS` (empty means the default, `on`).
    pub fn parse(value: &str) -> Result<ShaderChecks, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "on" | "1" | "true" => Ok(ShaderChecks::On),
            "off" | "0" | "false" => Ok(ShaderChecks::Off),
            _ => Err(Error::Config(format!(
                "{ENV}={value:?} is not on (wgpu's runtime checks, the default) or off \
                 (trusted modules for the validated kernels)"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ShaderChecks::On => "on",
            ShaderChecks::Off => "off",
        }
    }

    /// What `create_shader_module_trusted` is given.
    pub fn runtime_checks(self) -> wgpu::ShaderRuntimeChecks {
        match self {
            ShaderChecks::On => wgpu::ShaderRuntimeChecks::checked(),
            ShaderChecks::Off => wgpu::ShaderRuntimeChecks::unchecked(),
        }
    }
}

/// The environment's setting, read once.
pub fn env_setting() -> Result<ShaderChecks, Error> {
    static ENV_VALUE: OnceLock<Result<ShaderChecks, String>> = OnceLock::new();
    ENV_VALUE
        .get_or_init(|| {
            let value = std::env::var(ENV).unwrap_or_default();
            ShaderChecks::parse(&value).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Error::Config)
}

thread_local! {
    static THREAD: Cell<Option<ShaderChecks>> = const { Cell::new(None) };
}

/// The setting in force on this thread: [`with_shader_checks`]'s, else the environment's.
/// Panics on a wrong `ATELIER_SHADER_CHECKS`, which commands check up front
/// (`variant::check_settings`).
pub fn current() -> ShaderChecks {
    THREAD
        .with(Cell::get)
        .unwrap_or_else(|| env_setting().unwrap_or_else(|e| panic!("atelier: {e}")))
}

/// Runs `f` with `checks` on this thread (the programmatic `ATELIER_SHADER_CHECKS`, for
/// tests and benchmarks). Nested calls stack.
pub fn with_shader_checks<R>(checks: ShaderChecks, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<ShaderChecks>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(THREAD.with(|t| t.replace(Some(checks))));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_mistakes_name_the_variable() {
        assert_eq!(ShaderChecks::parse("").unwrap(), ShaderChecks::On);
        assert_eq!(ShaderChecks::parse(" OFF ").unwrap(), ShaderChecks::Off);
        assert_eq!(ShaderChecks::parse("on").unwrap(), ShaderChecks::On);
        let e = ShaderChecks::parse("trusted").unwrap_err().to_string();
        assert!(e.contains(ENV) && e.contains("trusted"), "{e}");
    }

    #[test]
    fn the_thread_setting_stacks_and_restores() {
        let outer = current();
        with_shader_checks(ShaderChecks::Off, || {
            assert_eq!(current(), ShaderChecks::Off);
            with_shader_checks(ShaderChecks::On, || assert_eq!(current(), ShaderChecks::On));
            assert_eq!(current(), ShaderChecks::Off);
        });
        assert_eq!(current(), outer);
    }
}
