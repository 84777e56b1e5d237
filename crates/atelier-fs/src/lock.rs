//! [`RunLock`]: one owner at a time for a folder or a file.
//!
//! The lock is an OS file lock (`File::try_lock`) on a lock file that holds the owner's PID and
//! command line. The OS releases it when its owner exits in any way (SIGKILL, a crash, a power
//! cut), so a lock file left behind is recognised as stale and taken over, with a note. The
//! owner removes the file when it ends normally. On file systems without file locks, the PID
//! in the file decides: a lock whose PID is no longer running is stale.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{FsError, Result};
use crate::process::pid_alive;

#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: File,
    /// What the stale lock file said when this lock took it over.
    stale: Option<String>,
}

impl RunLock {
    /// Takes the lock at `path` (the lock file, created if missing), or says who holds it.
    pub fn acquire(path: &Path) -> Result<RunLock> {
        let io = |e| FsError::io(path, e);
        // A lock file removed by its owner between our open and our lock is not the lock any
        // more: try again on the file now at `path`.
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io)?;
            let previous = read_holder(&mut file);
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(FsError::Locked {
                        path: path.parent().unwrap_or(path).to_path_buf(),
                        holder: previous.unwrap_or_else(|| "PID unknown".into()),
                    });
                }
                Err(std::fs::TryLockError::Error(e))
                    if e.kind() == std::io::ErrorKind::Unsupported =>
                {
                    let holder = previous.as_deref().and_then(holder_pid);
                    if holder.is_some_and(|pid| pid != std::process::id() && pid_alive(pid)) {
                        return Err(FsError::Locked {
                            path: path.parent().unwrap_or(path).to_path_buf(),
                            holder: previous.unwrap_or_default(),
                        });
                    }
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            if !same_file(&file, path) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            file.write_all(describe_self().as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            return Ok(RunLock {
                path: path.to_path_buf(),
                file,
                stale: previous,
            });
        }
        Err(FsError::Refused {
            path: path.to_path_buf(),
            message: "the lock file keeps changing; another process is taking it".into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When a stale lock (its owner gone) was taken over: what it said about that owner.
    pub fn took_over(&self) -> Option<&str> {
        self.stale.as_deref()
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // remove first, then release (closing the file): whoever opens the path next gets a
        // new file; whoever opened the old one finds it unlinked and tries again.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// "PID 1234: atelier gan train --out runs/a".
fn describe_self() -> String {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest = args.get(1..).unwrap_or_default().join(" ");
    format!("PID {}: {program} {rest}\n", std::process::id())
}

/// The first line of the lock file, when it has one.
fn read_holder(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    let line = text.lines().next()?.trim().to_string();
    (!line.is_empty()).then_some(line)
}

fn holder_pid(line: &str) -> Option<u32> {
    line.strip_prefix("PID ")?
        .split(':')
        .next()?
        .trim()
        .parse()
        .ok()
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("atelier-lock-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_held_lock_refuses_a_second_owner_and_is_removed_on_release() {
        let dir = scratch("held");
        let path = dir.join(".atelier.lock");
        let lock = RunLock::acquire(&path).unwrap();
        assert!(lock.took_over().is_none());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("PID {}:", std::process::id())),
            "{text}"
        );
        // a second open file description in this process is a second owner to flock
        let err = RunLock::acquire(&path).unwrap_err().to_string();
        assert!(err.contains("in use by another atelier process"), "{err}");
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        drop(lock);
        assert!(!path.exists());
        RunLock::acquire(&path).unwrap();
    }

    #[test]
    fn a_lock_file_whose_owner_died_is_taken_over() {
        let dir = scratch("stale");
        let path = dir.join(".atelier.lock");
        std::fs::write(&path, "PID 999999999: atelier gan train\n").unwrap();
        let lock = RunLock::acquire(&path).unwrap();
        assert_eq!(lock.took_over(), Some("PID 999999999: atelier gan train"));
        assert_eq!(holder_pid("PID 12: x"), Some(12));
    }
}
