//! The one error type of atelier-data: every variant names the file or folder it is about.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("data folder {0} does not exist")]
    FolderMissing(PathBuf),
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("data folder {path} holds no decodable image ({skipped} file(s) failed to decode)")]
    NoImages { path: PathBuf, skipped: usize },
    // OS and codec errors are shown in the message, not chained, so they print once
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Fs(#[from] atelier_fs::FsError),
    #[error("IDX file {path}: {problem}")]
    Idx { path: PathBuf, problem: String },
    /// An output file name whose extension names no image format atelier can write.
    #[error("{}: {problem}", path.display())]
    BadOutput { path: PathBuf, problem: String },
    #[error("unknown builtin style {name:?}; the styles are: {}", known.join(", "))]
    UnknownBuiltin {
        name: String,
        known: Vec<&'static str>,
    },
    #[error("bad --data value {spec:?}: {problem}")]
    BadSpec { spec: String, problem: String },
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}
