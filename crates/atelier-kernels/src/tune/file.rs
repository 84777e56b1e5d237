//! The tune cache file: `tune-<adapter and driver>.json` in the cache folder.
//!
//! ```json
//! {
//!   "format": 1,
//!   "atelier": "0.1.0",
//!   "adapter": { "name": "NVIDIA H200", "driver": "NVIDIA", "driver_info": "575.57.08",
//!                "backend": "Vulkan", "vendor": 4318, "device": 8997 },
//!   "choices": {
//!     "matmul: MatmulSpec { batch: 1, m: 64, ... }": { "variant": "tiled",
//!                                                    "ms": { "naive": 0.41, "tiled": 0.12 } }
//!   }
//! }
//! ```
//!
//! Keys are `family: {problem:?}`, values the chosen variant and the times it was chosen from.
//! The name is a slug of the adapter and driver, and the file repeats who wrote it: a file
//! written by another adapter, driver version or atelier version never applies (a slug may
//! collide, a file may be copied). A file that cannot be read is ignored with one warning and
//! replaced at the next choice; files are written atomically (temporary file, sync, rename),
//! and each write merges what another process wrote meanwhile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Bumped when the layout changes; a file of another format is ignored and rewritten.
pub const FORMAT: u32 = 1;

/// Who measured: a choice applies only on the same adapter, driver and atelier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub driver: String,
    pub driver_info: String,
    pub backend: String,
    pub vendor: u32,
    pub device: u32,
}

impl Identity {
    pub fn of(info: &wgpu::AdapterInfo) -> Identity {
        Identity {
            name: info.name.clone(),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            backend: format!("{:?}", info.backend),
            vendor: info.vendor,
            device: info.device,
        }
    }

    /// `tune-<slug>.json`: the adapter's name, driver and driver version in lower-case
    /// letters, digits and single dashes.
    pub fn file_name(&self) -> String {
        let text = format!(
            "{} {} {} {}",
            self.name, self.driver, self.driver_info, self.backend
        );
        let mut slug = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        // file names stay well under every file system's limit; the identity inside the file
        // tells apart two adapters whose long names share this prefix
        let mut slug: String = slug.chars().take(100).collect();
        while slug.ends_with('-') {
            slug.pop();
        }
        format!("tune-{slug}.json")
    }

    /// `NAME (DRIVER DRIVER_INFO, BACKEND)`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} {}, {})",
            self.name, self.driver, self.driver_info, self.backend
        )
    }
}

/// One tuned problem: the variant chosen, and each candidate's best time in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub variant: String,
    #[serde(default)]
    pub ms: BTreeMap<String, f64>,
}

/// The file's contents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheFile {
    pub format: u32,
    pub atelier: String,
    pub adapter: Identity,
    pub choices: BTreeMap<String, Entry>,
}

impl CacheFile {
    pub fn new(identity: Identity, choices: BTreeMap<String, Entry>) -> CacheFile {
        CacheFile {
            format: FORMAT,
            atelier: env!("CARGO_PKG_VERSION").to_string(),
            adapter: identity,
            choices,
        }
    }
}

/// What reading the cache file found.
#[derive(Debug)]
pub enum Loaded {
    /// No file yet.
    Missing,
    /// The choices this adapter may use.
    Choices(BTreeMap<String, Entry>),
    /// A file that does not apply, and why: unreadable, not a cache file, or written by
    /// another adapter, driver or atelier version.
    Ignored(String),
}

/// Reads the cache file at `path` for `identity`.
pub fn load(path: &Path, identity: &Identity) -> Loaded {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => return Loaded::Ignored(format!("cannot read it: {e}")),
    };
    let file: CacheFile = match serde_json::from_slice(&bytes) {
        Ok(file) => file,
        Err(e) => return Loaded::Ignored(format!("not a tune cache file: {e}")),
    };
    let version = env!("CARGO_PKG_VERSION");
    if file.format != FORMAT {
        Loaded::Ignored(format!(
            "format {} (this atelier reads {FORMAT})",
            file.format
        ))
    } else if file.adapter != *identity {
        Loaded::Ignored(format!(
            "written for another adapter or driver: {}",
            file.adapter.describe()
        ))
    } else if file.atelier != version {
        Loaded::Ignored(format!(
            "written by atelier {} (this is {version}), whose kernels may differ",
            file.atelier
        ))
    } else {
        Loaded::Choices(file.choices)
    }
}

/// Writes `choices` to `path` atomically, on top of what the file holds now for `identity`
/// (another process may have added choices since this one read it): `choices` win.
pub fn save(
    path: &Path,
    identity: &Identity,
    choices: &BTreeMap<String, Entry>,
) -> Result<(), String> {
    let mut merged = match load(path, identity) {
        Loaded::Choices(on_disk) => on_disk,
        Loaded::Missing | Loaded::Ignored(_) => BTreeMap::new(),
    };
    merged.extend(choices.iter().map(|(k, v)| (k.clone(), v.clone())));
    let file = CacheFile::new(identity.clone(), merged);
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    text.push('\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
    }
    atelier_fs::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
}

/// The cache file for `identity` in `dir`.
pub fn path_in(dir: &Path, identity: &Identity) -> PathBuf {
    dir.join(identity.file_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lavapipe() -> Identity {
        Identity {
            name: "llvmpipe (LLVM 19.1.7, 256 bits)".into(),
            driver: "llvmpipe".into(),
            driver_info: "Mesa 25.0.7-2 (LLVM 19.1.7)".into(),
            backend: "Vulkan".into(),
            vendor: 0x10005,
            device: 0,
        }
    }

    #[test]
    fn file_names_are_slugs_of_adapter_and_driver() {
        assert_eq!(
            lavapipe().file_name(),
            "tune-llvmpipe-llvm-19-1-7-256-bits-llvmpipe-mesa-25-0-7-2-llvm-19-1-7-vulkan.json"
        );
        let mut newer = lavapipe();
        newer.driver_info = "Mesa 25.1.0 (LLVM 19.1.7)".into();
        assert_ne!(newer.file_name(), lavapipe().file_name());
        let long = Identity {
            name: "x".repeat(300),
            ..lavapipe()
        };
        assert!(long.file_name().len() < 120);
    }

    #[test]
    fn a_file_applies_only_to_its_writer() {
        let dir = std::env::temp_dir().join(format!("atelier-tune-file-{}", std::process::id()));
        let path = path_in(&dir, &lavapipe());
        let choices = BTreeMap::from([(
            "matmul: 1".to_string(),
            Entry {
                variant: "tiled".into(),
                ms: BTreeMap::from([("tiled".to_string(), 0.5)]),
            },
        )]);
        save(&path, &lavapipe(), &choices).unwrap();
        assert!(matches!(load(&path, &lavapipe()), Loaded::Choices(c) if c == choices));

        let mut other = lavapipe();
        other.driver_info = "Mesa 24.2.8".into();
        assert!(
            matches!(load(&path, &other), Loaded::Ignored(why) if why.contains("another adapter"))
        );

        // a later save keeps what is on disk and adds its own
        let more = BTreeMap::from([(
            "reduce: 2".to_string(),
            Entry {
                variant: "serial".into(),
                ms: BTreeMap::new(),
            },
        )]);
        save(&path, &lavapipe(), &more).unwrap();
        let Loaded::Choices(both) = load(&path, &lavapipe()) else {
            panic!("the file was rewritten")
        };
        assert_eq!(both.len(), 2);

        std::fs::write(&path, b"{ half a file").unwrap();
        assert!(
            matches!(load(&path, &lavapipe()), Loaded::Ignored(why) if why.contains("not a tune cache"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(load(&path, &lavapipe()), Loaded::Missing));
    }
}
