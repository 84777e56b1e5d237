//! What can go wrong: files that cannot be read, images that cannot be decoded, weight files
//! that do not fit the network, settings that make no sense. Every message names the file or
//! the setting.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StyleError {
    // the underlying errors are shown in the message, not chained (so they print once)
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: not a readable image: {error}", path.display())]
    Image {
        path: PathBuf,
        error: image::ImageError,
    },
    /// A weights file that does not match the network (missing key, wrong shape or dtype).
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },
    /// A weights file that cannot be read (atelier-pth's message names the file).
    #[error(transparent)]
    Pth(#[from] atelier_pth::PthError),
    /// A dataset that cannot be opened or batched (atelier-data's message).
    #[error(transparent)]
    Data(#[from] atelier_data::Error),
    /// A setting out of range (image too small for the network, zero steps, ...).
    #[error("{0}")]
    Invalid(String),
    /// A file that could not be read or written (atelier-fs's message: the path, the OS error).
    #[error(transparent)]
    Fs(#[from] atelier_fs::FsError),
    /// Work too large for the device, found before it starts.
    #[error("{error}; {hint}")]
    TooLarge {
        // boxed: it carries names and shapes, and errors should stay small
        error: Box<atelier_tensor::TooLarge>,
        hint: &'static str,
    },
    /// Training produced a NaN or an infinity (nothing was written).
    #[error("{0}")]
    Diverged(String),
}

pub type Result<T> = std::result::Result<T, StyleError>;

impl StyleError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> StyleError {
        StyleError::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn weights(path: &Path, message: impl Into<String>) -> StyleError {
        StyleError::Weights {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
