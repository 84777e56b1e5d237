//! The errors of atelier-fs. Each names the path, and shows the OS error once (in the message,
//! not as a chained source, so `{:#}` does not repeat it).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: not a regular file ({kind}); only regular files are read", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("folder {} does not exist", path.display())]
    NoFolder { path: PathBuf },
    #[error("{}: not a folder", path.display())]
    NotAFolder { path: PathBuf },
    #[error("{}: cannot write in this folder: {error}", path.display())]
    NotWritable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{} is in use by another atelier process ({holder}); wait for it to end or stop it, \
         or use another folder", path.display()
    )]
    Locked { path: PathBuf, holder: String },
    #[error("{}: {message}", path.display())]
    Refused { path: PathBuf, message: String },
    #[error(
        "{what} needs {} of host memory, but only {} is available",
        crate::memory::human_bytes(*need), crate::memory::human_bytes(*available)
    )]
    HostMemory {
        what: String,
        need: u64,
        available: u64,
    },
    #[error(
        "{what} needs about {} of GPU memory, but {device} has {} ({figure})",
        crate::memory::human_bytes(*need), crate::memory::human_bytes(*available)
    )]
    DeviceMemory {
        what: String,
        need: u64,
        device: String,
        available: u64,
        /// Where the figure comes from.
        figure: &'static str,
    },
}

pub type Result<T, E = FsError> = std::result::Result<T, E>;

impl FsError {
    /// The OS error behind this one, without the path (for callers whose own error type names
    /// the path already); errors that are not an OS error become one with their message.
    pub fn into_io(self) -> std::io::Error {
        match self {
            FsError::Io { error, .. } | FsError::NotWritable { error, .. } => error,
            other => std::io::Error::other(other.to_string()),
        }
    }

    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> FsError {
        FsError::Io {
            path: path.into(),
            error,
        }
    }
}
