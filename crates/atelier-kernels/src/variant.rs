//! How every family picks its variant: one trait, one setting, one layer.
//!
//! A family with more than one way to compute something (conv2d's direct kernel and its
//! implicit GEMMs, matmul's naive and tiled kernels, ...) lists them in an enum that
//! implements [`Variant`]: every variant, its name, why it cannot run on this adapter, which
//! problems it handles, and the automatic rule. Its launchers then call [`run`] (choose, then
//! launch once) with the problem they are about to solve; nothing above the family chooses.
//!
//! What [`run`] chooses follows the family's [`Selection`], from one setting for all
//! families:
//!
//! ```text
//! ATELIER_KERNELS=conv2d=tune,matmul=naive,reduce=auto
//! ```
//!
//! - `auto` (the default): the family's rule ([`Variant::auto`]); on a hardware adapter, a
//!   choice tuned earlier for this problem on this adapter and driver comes first (the tune
//!   cache, [`crate::tune`]). A software adapter keeps the rule.
//! - `tune`: time every candidate on the device the first time a problem is met and keep the
//!   fastest ([`crate::tune`], PyTorch's `cudnn.benchmark`); the choice is kept in the tune
//!   cache, so later runs on the same adapter start with it instead of timing again.
//! - a variant's name: always that one (an error if this device cannot run it).
//!
//! Code that wants other settings for a while (tests, benchmarks) passes them in with
//! [`with_kernels`], for the current thread only, instead of setting the environment.
//! `ATELIER_CONV=<value>` is still read, as `ATELIER_KERNELS=conv2d=<value>`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::OnceLock;

use crate::error::Error;

/// The variants of one family.
pub trait Variant: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    /// The family's name, as `ATELIER_KERNELS` and the reports spell it.
    const FAMILY: &'static str;
    /// Every variant, in the order reports list them.
    const ALL: &'static [Self];
    /// What the automatic rule and tuning look at: the problem's shape (and direction).
    type Problem: Copy + Eq + Hash + Debug + Send + 'static;

    /// The variant's name in settings, reports and validation.
    fn name(self) -> &'static str;

    /// Why this variant cannot run on the current device (a missing feature), or `None`.
    fn unavailable(self) -> Option<String> {
        None
    }

    /// Whether this variant computes `problem` correctly on every device (for example, not a
    /// per-invocation loop longer than a software adapter runs). Tuning only times those.
    fn handles(self, _problem: &Self::Problem) -> bool {
        true
    }

    /// The automatic rule: the variant to use for `problem` without measuring.
    fn auto(problem: &Self::Problem) -> Self;

    /// The variant called `name` (ASCII case ignored).
    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }

    /// The variants this device can run.
    fn available() -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|v| v.unavailable().is_none())
            .collect()
    }

    /// The variants tuning times for `problem`: available, and handling it.
    fn candidates(problem: &Self::Problem) -> Vec<Self> {
        Self::available()
            .into_iter()
            .filter(|v| v.handles(problem))
            .collect()
    }
}

/// How a family picks its variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection<V> {
    /// By the family's rule.
    Auto,
    /// By timing the candidates the first time a problem is met.
    Tune,
    /// Always this variant.
    Fixed(V),
}

impl<V: Variant> Selection<V> {
    /// One family's value: `auto`, `tune` or a variant name.
    pub fn parse(value: &str) -> Result<Selection<V>, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Selection::Auto),
            "tune" => Ok(Selection::Tune),
            name => V::parse(name).map(Selection::Fixed).ok_or_else(|| {
                let names: Vec<&str> = V::ALL.iter().map(|v| v.name()).collect();
                Error::Config(format!(
                    "{}={value:?} is not one of auto, tune, {}",
                    V::FAMILY,
                    names.join(", ")
                ))
            }),
        }
    }
}

/// Family name → its value (`auto`, `tune` or a variant name), as written in a setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelSettings {
    values: BTreeMap<String, String>,
}

impl KernelSettings {
    /// Parses `family=value,family=value`. Family names and values are checked against the
    /// registry, so a misspelt one is an error that lists what exists.
    pub fn parse(text: &str) -> Result<KernelSettings, Error> {
        let mut values = BTreeMap::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (family, value) = item.split_once('=').ok_or_else(|| {
                Error::Config(format!(
                    "{item:?} is not family=variant (for example conv2d=tune, matmul=naive)"
                ))
            })?;
            let (family, value) = (family.trim().to_ascii_lowercase(), value.trim().to_string());
            crate::registry::check_setting(&family, &value)?;
            values.insert(family, value);
        }
        Ok(KernelSettings { values })
    }

    /// The value given for `family`, if any.
    pub fn get(&self, family: &str) -> Option<&str> {
        self.values.get(family).map(String::as_str)
    }

    /// These settings with `other`'s values on top.
    pub fn overridden_by(&self, other: &KernelSettings) -> KernelSettings {
        let mut values = self.values.clone();
        values.extend(other.values.clone());
        KernelSettings { values }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl std::fmt::Display for KernelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        write!(f, "{}", items.join(","))
    }
}

/// The settings from the environment: `ATELIER_KERNELS`, with `ATELIER_CONV=<value>` read as
/// `conv2d=<value>` beneath it.
pub fn env_settings() -> Result<&'static KernelSettings, Error> {
    static ENV: OnceLock<Result<KernelSettings, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut settings = KernelSettings::default();
        if let Ok(conv) = std::env::var("ATELIER_CONV") {
            settings = KernelSettings::parse(&format!("conv2d={conv}"))
                .map_err(|e| format!("ATELIER_CONV: {e}"))?;
        }
        if let Ok(text) = std::env::var("ATELIER_KERNELS") {
            let given =
                KernelSettings::parse(&text).map_err(|e| format!("ATELIER_KERNELS: {e}"))?;
            settings = settings.overridden_by(&given);
        }
        Ok(settings)
    })
    .as_ref()
    .map_err(|e| Error::Config(e.clone()))
}

thread_local! {
    static THREAD_SETTINGS: RefCell<Option<KernelSettings>> = const { RefCell::new(None) };
}

/// Runs `f` with `settings` (`family=value,...`) on top of the environment's, on this thread:
/// the programmatic `ATELIER_KERNELS` for tests and benchmarks. Nested calls stack.
pub fn with_kernels<R>(settings: &str, f: impl FnOnce() -> R) -> Result<R, Error> {
    let given = KernelSettings::parse(settings)?;
    let previous = THREAD_SETTINGS.with(|s| s.borrow().clone());
    let combined = previous.clone().unwrap_or_default().overridden_by(&given);
    THREAD_SETTINGS.with(|s| *s.borrow_mut() = Some(combined));
    struct Restore(Option<KernelSettings>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD_SETTINGS.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    Ok(f())
}

/// The settings in force on this thread: the environment's, with [`with_kernels`] on top.
pub fn current_settings() -> Result<KernelSettings, Error> {
    let env = env_settings()?;
    Ok(THREAD_SETTINGS.with(|s| match &*s.borrow() {
        Some(t) => env.overridden_by(t),
        None => env.clone(),
    }))
}

/// The selection in force for `V`'s family.
pub fn selection<V: Variant>() -> Result<Selection<V>, Error> {
    let from_thread = THREAD_SETTINGS.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|t| t.get(V::FAMILY).map(str::to_string))
    });
    let value = match from_thread {
        Some(v) => v,
        None => match env_settings()?.get(V::FAMILY) {
            Some(v) => v.to_string(),
            None => return Ok(Selection::Auto),
        },
    };
    Selection::parse(&value)
}

/// The variant to use for `problem` under the current selection. Under `tune`, the first
/// call for a problem runs `launch(v)` for every candidate to time it (see [`crate::tune`]).
/// Panics with the setting's error when the setting is wrong or names a variant this device
/// cannot run: a configuration mistake, checked up front by [`check_settings`].
pub fn choose<V: Variant>(problem: &V::Problem, launch: &mut dyn FnMut(V)) -> V {
    let fail = |e: Error| -> ! { panic!("atelier: {e}") };
    match selection::<V>().unwrap_or_else(|e| fail(e)) {
        Selection::Auto => crate::tune::remembered(problem)
            .filter(|v: &V| v.unavailable().is_none())
            .unwrap_or_else(|| V::auto(problem)),
        Selection::Fixed(v) => {
            if let Some(why) = v.unavailable() {
                fail(Error::Config(format!(
                    "{}={} cannot run here: {why}",
                    V::FAMILY,
                    v.name()
                )));
            }
            v
        }
        Selection::Tune => crate::tune::tuned(problem, launch),
    }
}

/// Chooses the variant for `problem` and launches it once: `launch(v)` records variant `v`.
pub fn run<V: Variant>(problem: &V::Problem, mut launch: impl FnMut(V)) {
    let v = choose(problem, &mut launch);
    launching(v, problem, false, launch);
}

/// Runs `launch(v)` with the family, variant and problem named on the dispatches it records,
/// for the profiler's timeline (`ATELIER_PROFILE=FILE.json`; free when no trace is kept).
/// `tuning`: the dispatches time a candidate. [`run`] does this; a launcher that chooses with
/// [`choose`] and launches itself calls it around the launch.
pub fn launching<V: Variant, R>(
    v: V,
    problem: &V::Problem,
    tuning: bool,
    launch: impl FnOnce(V) -> R,
) -> R {
    crate::trace::with_label(V::FAMILY, v.name(), problem, tuning, || launch(v))
}

/// Checks the environment's kernel settings, `ATELIER_KERNELS`, `ATELIER_PRECISION` and
/// `ATELIER_SHADER_CHECKS`
/// (for commands to call at start, so a mistake is an error before any work, not a panic in
/// the middle of it).
pub fn check_settings() -> Result<(), Error> {
    env_settings()?;
    crate::precision::env_setting()?;
    crate::shader_checks::env_setting().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    enum Toy {
        Slow,
        Fast,
    }

    impl Variant for Toy {
        const FAMILY: &'static str = "toy";
        const ALL: &'static [Toy] = &[Toy::Slow, Toy::Fast];
        type Problem = usize;
        fn name(self) -> &'static str {
            match self {
                Toy::Slow => "slow",
                Toy::Fast => "fast",
            }
        }
        fn handles(self, n: &usize) -> bool {
            self == Toy::Slow || *n < 100
        }
        fn auto(n: &usize) -> Toy {
            if *n < 10 { Toy::Slow } else { Toy::Fast }
        }
    }

    #[test]
    fn names_parse_and_candidates_respect_handles() {
        assert_eq!(Toy::parse("FAST"), Some(Toy::Fast));
        assert_eq!(Toy::parse("fft"), None);
        assert_eq!(Toy::candidates(&5), vec![Toy::Slow, Toy::Fast]);
        assert_eq!(Toy::candidates(&500), vec![Toy::Slow]);
    }

    #[test]
    fn selection_values() {
        assert_eq!(Selection::<Toy>::parse("").unwrap(), Selection::Auto);
        assert_eq!(Selection::<Toy>::parse("Tune").unwrap(), Selection::Tune);
        assert_eq!(
            Selection::<Toy>::parse("slow").unwrap(),
            Selection::Fixed(Toy::Slow)
        );
        let err = Selection::<Toy>::parse("quick").unwrap_err().to_string();
        assert!(
            err.contains("toy=\"quick\"") && err.contains("slow, fast"),
            "{err}"
        );
    }

    #[test]
    fn settings_name_the_mistake() {
        let err = KernelSettings::parse("conv2d").unwrap_err().to_string();
        assert!(err.contains("family=variant"), "{err}");
        let err = KernelSettings::parse("convolution=tune")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("convolution") && err.contains("conv2d"),
            "{err}"
        );
        let err = KernelSettings::parse("matmul=fastest")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fastest") && err.contains("tiled"), "{err}");
        let s = KernelSettings::parse("conv2d=tune, matmul=naive").unwrap();
        assert_eq!(
            (s.get("conv2d"), s.get("matmul")),
            (Some("tune"), Some("naive"))
        );
        assert_eq!(s.to_string(), "conv2d=tune,matmul=naive");
    }

    #[test]
    fn thread_settings_stack_and_restore() {
        let outer = with_kernels("matmul=naive", || {
            let inner = with_kernels("matmul=tiled,reduce=serial", || {
                current_settings().unwrap().to_string()
            })
            .unwrap();
            (
                inner,
                current_settings()
                    .unwrap()
                    .get("matmul")
                    .map(str::to_string),
            )
        })
        .unwrap();
        assert!(outer.0.contains("matmul=tiled") && outer.0.contains("reduce=serial"));
        assert_eq!(outer.1.as_deref(), Some("naive"));
        assert!(
            THREAD_SETTINGS.with(|s| s.borrow().is_none()),
            "settings restored after with_kernels"
        );
    }
}
