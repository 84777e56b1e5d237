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
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("IDX file {path}: {problem}")]
    Idx { path: PathBuf, problem: String },
    #[error("writing image {path}: {source}")]
    Encode {
        path: PathBuf,
        source: image::ImageError,
    },
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
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
