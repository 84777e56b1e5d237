//! What can go wrong: files that cannot be read, images that cannot be decoded, weight files
//! that do not fit the network, settings that make no sense. Every message names the file or
//! the setting.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StyleError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a readable image: {source}", path.display())]
    Image {
        path: PathBuf,
        source: image::ImageError,
    },
    /// A weights file that does not match the network (missing key, wrong shape or dtype).
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    /// A setting out of range (image too small for the network, zero steps, ...).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StyleError>;

impl StyleError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StyleError {
        StyleError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn weights(path: &Path, message: impl Into<String>) -> StyleError {
        StyleError::Weights {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
