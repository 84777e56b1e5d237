//! Atomic file writes: to `dir/.NAME.tmp-PID` (hidden, beside the target so the rename stays
//! on one file system, and unique to the writing process), synced, then renamed over
//! `dir/NAME`. A failed write removes its temporary file; a killed writer's temporary file is
//! removed by the next write of the same target, or by [`clean_stale_temps`] when a run folder
//! is claimed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{FsError, Result};
use crate::process::pid_alive;

const TEMP_MARK: &str = ".tmp-";

/// `dir/NAME` → `dir/.NAME.tmp-PID`.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    target.with_file_name(format!(".{name}{TEMP_MARK}{}", std::process::id()))
}

/// The PID in a temporary file's name `.NAME.tmp-PID`, and NAME.
fn parse_temp_name(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix('.')?;
    let (target, pid) = rest.rsplit_once(TEMP_MARK)?;
    Some((target, pid.parse().ok()?))
}

/// Writes `bytes` to `target` atomically (see the module docs).
pub fn write_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomic_with(target, |w| w.write_all(bytes))
}

/// Writes whatever `fill` writes to `target` atomically. `fill` gets a buffered writer over
/// the temporary file; the file is flushed and synced before the rename.
pub fn write_atomic_with(
    target: impl AsRef<Path>,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let target = target.as_ref();
    if let Some(dir) = target.parent() {
        clean_stale_temps_of(dir, target.file_name().and_then(|n| n.to_str()));
    }
    let tmp = temp_path(target);
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, target)?;
        sync_parent(target);
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        FsError::io(target, e)
    })
}

/// Makes a rename durable (the folder's entry), where the platform allows it.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(d) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .and_then(|dir| File::open(dir).ok())
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Removes every temporary file in `dir` (not below it) whose writer is no longer running;
/// returns what it removed.
pub fn clean_stale_temps(dir: &Path) -> Vec<PathBuf> {
    clean_stale_temps_of(dir, None)
}

/// As [`clean_stale_temps`], only for the temporary files of `target` when given.
fn clean_stale_temps_of(dir: &Path, target: Option<&str>) -> Vec<PathBuf> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((of, pid)) = name.to_str().and_then(parse_temp_name) else {
            continue;
        };
        let ours = target.is_none_or(|t| t == of);
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if ours && is_file && pid != std::process::id() && !pid_alive(pid) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("atelier-fs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_replace_the_target_and_leave_no_temporary_file() {
        let dir = scratch("write");
        let target = dir.join("a.bin");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_its_temporary() {
        let dir = scratch("fail");
        let target = dir.join("a.bin");
        write_atomic(&target, b"good").unwrap();
        let err = write_atomic_with(&target, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full (simulated)"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("a.bin") && err.to_string().contains("disk full"));
        assert_eq!(std::fs::read(&target).unwrap(), b"good");
        assert!(!temp_path(&target).exists());
    }

    #[test]
    fn temporaries_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = scratch("stale");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.join(format!(".a.bin.tmp-{dead}"));
        let live = dir.join(format!(".b.bin.tmp-{}", std::process::id()));
        let other = dir.join("notes.tmp-1");
        for p in [&stale, &live, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        assert_eq!(clean_stale_temps(&dir), vec![stale.clone()]);
        assert!(!stale.exists() && live.exists() && other.exists());
    }

    #[test]
    fn temp_names_parse_back() {
        assert_eq!(parse_temp_name(".a.png.tmp-12"), Some(("a.png", 12)));
        assert_eq!(parse_temp_name("a.png.tmp-12"), None);
        assert_eq!(parse_temp_name(".a.png.tmp-x"), None);
    }
}
