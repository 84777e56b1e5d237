//! [`RunDir`]: a run folder claimed by one process, for a new run or to resume one.
//!
//! Claiming a folder takes its lock ([`RunLock`], `RUN_DIR/.atelier.lock`) for as long as the
//! `RunDir` lives, then removes the temporary files that killed writers left in it. A new run
//! starts only in a folder that is missing or empty; `force` lets it start in any folder,
//! replacing the files a run writes (and nothing else) when the caller is ready to write
//! ([`RunDir::clear_old_run`], after its own checks, so a run refused for another reason
//! removes nothing).

use std::path::{Path, PathBuf};

use crate::atomic::clean_stale_temps;
use crate::error::{FsError, Result};
use crate::lock::RunLock;

/// The lock file inside a run folder.
pub const LOCK_FILE: &str = ".atelier.lock";

/// What a kind of run writes in its folder.
#[derive(Clone, Copy, Debug)]
pub struct RunLayout {
    /// The file whose presence means the folder holds a run to resume (its checkpoint).
    pub marker: &'static str,
    /// Every file and folder the run writes (removed when a new run is forced over an old one);
    /// a name ending in `*` stands for every name that begins with the rest
    /// (`events.out.tfevents.*`).
    pub files: &'static [&'static str],
    /// The flag that resumes a run (`--resume`), for messages.
    pub resume_flag: &'static str,
    /// The flag that forces a new run (`--force`), for messages.
    pub force_flag: &'static str,
}

#[derive(Debug)]
pub struct RunDir {
    dir: PathBuf,
    /// Always `Some` until drop, which releases it before tidying up.
    lock: Option<RunLock>,
    /// Whether claiming created the folder (removed again on drop if nothing was written).
    created: bool,
    layout: RunLayout,
    cleaned: Vec<PathBuf>,
    /// A new run forced over an old one: its files are removed by `clear_old_run`.
    forced: bool,
    replaced: Vec<String>,
}

impl RunDir {
    /// Claims `dir` for a new run (see the module docs).
    pub fn create(dir: &Path, force: bool, layout: &RunLayout) -> Result<RunDir> {
        if dir.exists() && !dir.is_dir() {
            return Err(FsError::NotAFolder {
                path: dir.to_path_buf(),
            });
        }
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|error| FsError::NotWritable {
            path: dir.to_path_buf(),
            error,
        })?;
        let mut claimed = RunDir::claim(dir, layout)?;
        claimed.created = created;
        let others = claimed.contents()?;
        if others.is_empty() {
            return Ok(claimed);
        }
        if !force {
            let shown = list(&others);
            let message = if dir.join(layout.marker).exists() {
                format!(
                    "already holds a run ({shown}); continue it with {} {}, or pass {} to \
                     start a new run over it",
                    layout.resume_flag,
                    dir.display(),
                    layout.force_flag
                )
            } else {
                format!(
                    "is not empty ({shown}) and holds no run to resume; pick a new or empty \
                     folder, or pass {} to write the run into it (its run files replaced, \
                     other files kept)",
                    layout.force_flag
                )
            };
            return Err(FsError::Refused {
                path: dir.to_path_buf(),
                message,
            });
        }
        claimed.forced = true;
        Ok(claimed)
    }

    /// For a new run forced into a folder that was not empty ([`RunDir::create`] with
    /// `force`): removes the files an earlier run wrote there (the layout's, nothing else).
    pub fn clear_old_run(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.forced) {
            return Ok(());
        }
        let names = self.contents()?;
        for pattern in self.layout.files {
            for name in names.iter().filter(|n| matches(pattern, n)) {
                let path = self.dir.join(name);
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.map_err(|e| FsError::io(&path, e))?;
                self.replaced.push(name.clone());
            }
        }
        Ok(())
    }

    /// Claims `dir`, which must hold a run (its `layout.marker`), to resume it.
    pub fn resume(dir: &Path, layout: &RunLayout) -> Result<RunDir> {
        if !dir.exists() {
            return Err(FsError::NoFolder {
                path: dir.to_path_buf(),
            });
        }
        if !dir.is_dir() {
            return Err(FsError::NotAFolder {
                path: dir.to_path_buf(),
            });
        }
        let claimed = RunDir::claim(dir, layout)?;
        if !dir.join(layout.marker).is_file() {
            return Err(FsError::Refused {
                path: dir.to_path_buf(),
                message: format!("holds no {} to resume from", layout.marker),
            });
        }
        Ok(claimed)
    }

    fn claim(dir: &Path, layout: &RunLayout) -> Result<RunDir> {
        let lock = RunLock::acquire(&dir.join(LOCK_FILE))?;
        let mut cleaned = clean_stale_temps(dir);
        for name in layout.files.iter().filter(|n| !n.ends_with('*')) {
            let path = dir.join(name);
            if path.is_dir() {
                cleaned.extend(clean_stale_temps(&path));
            }
            // earlier versions wrote NAME.tmp
            let legacy = dir.join(format!("{name}.tmp"));
            if legacy.is_file() && std::fs::remove_file(&legacy).is_ok() {
                cleaned.push(legacy);
            }
        }
        Ok(RunDir {
            dir: dir.to_path_buf(),
            lock: Some(lock),
            created: false,
            layout: *layout,
            cleaned,
            forced: false,
            replaced: Vec::new(),
        })
    }

    /// Names in the folder other than its lock, sorted.
    fn contents(&self) -> Result<Vec<String>> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| FsError::io(&self.dir, e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != LOCK_FILE)
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Temporary files of killed writers removed when the folder was claimed.
    pub fn cleaned(&self) -> &[PathBuf] {
        &self.cleaned
    }

    /// The run files a forced new run removed.
    pub fn replaced(&self) -> &[String] {
        &self.replaced
    }

    /// What the stale lock said about its dead owner, when one was taken over.
    pub fn took_over(&self) -> Option<&str> {
        self.lock.as_ref().and_then(|l| l.took_over())
    }

    /// One line for the user about anything claiming the folder did, or `None`.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(holder) = self.took_over() {
            notes.push(format!(
                "{}: took over a stale lock ({holder}, no longer running)",
                self.dir.display()
            ));
        }
        if !self.cleaned.is_empty() {
            let names: Vec<String> = self
                .cleaned
                .iter()
                .map(|p| p.strip_prefix(&self.dir).unwrap_or(p).display().to_string())
                .collect();
            notes.push(format!(
                "{}: removed {} temporary file(s) left by an interrupted writer ({})",
                self.dir.display(),
                names.len(),
                list(&names)
            ));
        }
        if !self.replaced.is_empty() {
            notes.push(format!(
                "{}: replaced the previous run's files ({})",
                self.dir.display(),
                list(&self.replaced)
            ));
        }
        notes
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        drop(self.lock.take());
        if self.created {
            // a run refused after claiming a folder it created leaves nothing behind (this
            // fails, harmlessly, once the run has written anything)
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Whether `name` is what the layout entry `pattern` names: the same name, or for a pattern
/// ending in `*`, a name that begins with the rest.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// "a, b, c and 4 more".
fn list(names: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: RunLayout = RunLayout {
        marker: "checkpoint.safetensors",
        files: &[
            "checkpoint.safetensors",
            "config.json",
            "samples",
            "events.out.tfevents.*",
        ],
        resume_flag: "--resume",
        force_flag: "--force",
    };

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("atelier-run-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_run_needs_an_empty_folder_or_force() {
        let dir = scratch("new");
        let run = RunDir::create(&dir, false, &LAYOUT).unwrap();
        assert!(dir.join(LOCK_FILE).exists());
        drop(run);
        assert!(
            !dir.exists(),
            "a folder it created and nothing wrote in is removed"
        );
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        let err = RunDir::create(&dir, false, &LAYOUT)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not empty (config.json, notes.txt)") && err.contains("--force"));
        let mut run = RunDir::create(&dir, true, &LAYOUT).unwrap();
        assert!(
            dir.join("config.json").exists(),
            "nothing removed before clear_old_run"
        );
        run.clear_old_run().unwrap();
        assert_eq!(run.replaced(), ["config.json"]);
        assert!(dir.join("notes.txt").exists() && !dir.join("config.json").exists());
    }

    #[test]
    fn a_forced_run_replaces_files_named_by_a_prefix_and_nothing_else() {
        let dir = scratch("prefix");
        std::fs::create_dir_all(dir.join("samples")).unwrap();
        for name in [
            "checkpoint.safetensors",
            "events.out.tfevents.1.host.7.0",
            "events.out.tfevents.2.host.8.0",
            "events.txt",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), "x").unwrap();
        }
        let mut run = RunDir::create(&dir, true, &LAYOUT).unwrap();
        run.clear_old_run().unwrap();
        assert_eq!(
            run.replaced(),
            [
                "checkpoint.safetensors",
                "samples",
                "events.out.tfevents.1.host.7.0",
                "events.out.tfevents.2.host.8.0"
            ]
        );
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [LOCK_FILE, "events.txt", "notes.txt"]);
        assert!(matches("a.*", "a.b") && !matches("a.*", "a") && matches("a", "a"));
    }

    #[test]
    fn a_folder_with_a_run_points_to_resume_and_resume_needs_a_run() {
        let dir = scratch("resume");
        std::fs::create_dir_all(dir.join("samples")).unwrap();
        let err = RunDir::resume(&dir, &LAYOUT).unwrap_err().to_string();
        assert!(err.contains("holds no checkpoint.safetensors"), "{err}");
        std::fs::write(dir.join("checkpoint.safetensors"), "x").unwrap();
        let err = RunDir::create(&dir, false, &LAYOUT)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("already holds a run") && err.contains("--resume"),
            "{err}"
        );
        let run = RunDir::resume(&dir, &LAYOUT).unwrap();
        // while it is claimed, nobody else gets it
        let err = RunDir::resume(&dir, &LAYOUT).unwrap_err().to_string();
        assert!(err.contains("in use"), "{err}");
        drop(run);
        RunDir::resume(&dir, &LAYOUT).unwrap();
    }

    #[test]
    fn claiming_removes_temporary_files_of_dead_writers() {
        let dir = scratch("temps");
        std::fs::create_dir_all(dir.join("samples")).unwrap();
        std::fs::write(dir.join("checkpoint.safetensors"), "x").unwrap();
        std::fs::write(dir.join("checkpoint.safetensors.tmp"), "old").unwrap();
        std::fs::write(dir.join("samples/.step_000002.png.tmp-999999999"), "x").unwrap();
        let run = RunDir::resume(&dir, &LAYOUT).unwrap();
        assert_eq!(run.cleaned().len(), 2, "{:?}", run.cleaned());
        assert!(run.notes()[0].contains("removed 2 temporary file(s)"));
        assert!(!dir.join("checkpoint.safetensors.tmp").exists());
    }
}
