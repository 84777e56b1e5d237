//! Where tuning results are kept: `ATELIER_TUNE_CACHE=off|FOLDER`.
//!
//! By default in the user's cache folder (`$XDG_CACHE_HOME/atelier`, else
//! `~/.cache/atelier`; the platform's cache folder elsewhere), one file per adapter and driver
//! (see [`super::file`]). `off` keeps choices for the running process only. Tests and tools
//! pass another value for their thread with [`with_tune_cache`], as `variant::with_kernels`
//! does for `ATELIER_KERNELS`, so parallel tests never share (or touch the user's) cache.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The environment variable that moves or turns off the tune cache.
pub const ENV: &str = "ATELIER_TUNE_CACHE";

/// Where the tune cache lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CacheSetting {
    /// No file: choices last for the process. The reason is shown by `atelier info`.
    Off(String),
    /// The folder that holds one `tune-<adapter>.json` per adapter and driver.
    Dir(PathBuf),
}

impl CacheSetting {
    /// `off` (any case), a folder, or empty for the default.
    pub fn parse(value: &str) -> CacheSetting {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            CacheSetting::Off(format!("{ENV}=off"))
        } else if value.is_empty() {
            CacheSetting::default_dir()
        } else {
            CacheSetting::Dir(PathBuf::from(value))
        }
    }

    /// The user's cache folder, `atelier/` in it; off when the platform has none (no HOME).
    pub fn default_dir() -> CacheSetting {
        match dirs::cache_dir() {
            Some(dir) => CacheSetting::Dir(dir.join("atelier")),
            None => CacheSetting::Off(format!(
                "no user cache folder (neither XDG_CACHE_HOME nor HOME is set); set {ENV}=FOLDER"
            )),
        }
    }
}

fn env_setting() -> &'static CacheSetting {
    static ENV_SETTING: OnceLock<CacheSetting> = OnceLock::new();
    ENV_SETTING.get_or_init(|| match std::env::var(ENV) {
        Ok(value) => CacheSetting::parse(&value),
        Err(_) => CacheSetting::default_dir(),
    })
}

thread_local! {
    static THREAD_SETTING: RefCell<Option<CacheSetting>> = const { RefCell::new(None) };
}

/// Runs `f` with the tune cache at `value` (`off` or a folder, as `ATELIER_TUNE_CACHE`) on
/// this thread: for tests and tools, which must not use the user's cache. Nested calls stack.
pub fn with_tune_cache<R>(value: &str, f: impl FnOnce() -> R) -> R {
    let given = CacheSetting::parse(value);
    let previous = THREAD_SETTING.with(|s| s.replace(Some(given)));
    struct Restore(Option<CacheSetting>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD_SETTING.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Calls `f` with the setting in force on this thread (without cloning it: the automatic
/// choice looks it up at every launch on a hardware adapter).
pub(crate) fn with_current<R>(f: impl FnOnce(&CacheSetting) -> R) -> R {
    THREAD_SETTING.with(|s| match &*s.borrow() {
        Some(setting) => f(setting),
        None => f(env_setting()),
    })
}

/// The setting in force on this thread.
pub fn current() -> CacheSetting {
    with_current(CacheSetting::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(matches!(CacheSetting::parse("OFF"), CacheSetting::Off(_)));
        assert_eq!(
            CacheSetting::parse(" /tmp/tunes "),
            CacheSetting::Dir(PathBuf::from("/tmp/tunes"))
        );
        assert_eq!(CacheSetting::parse(""), CacheSetting::default_dir());
    }

    #[test]
    fn thread_setting_stacks_and_restores() {
        let outside = current();
        let (outer, inner) = with_tune_cache("/a", || {
            let inner = with_tune_cache("off", current);
            (current(), inner)
        });
        assert_eq!(outer, CacheSetting::Dir(PathBuf::from("/a")));
        assert!(matches!(inner, CacheSetting::Off(_)));
        assert_eq!(current(), outside);
    }
}
