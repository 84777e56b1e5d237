//! Errors of a training run, each one a user can act on.

use std::path::PathBuf;

use crate::step::StepValues;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Data(#[from] atelier_data::Error),
    #[error(transparent)]
    Checkpoint(#[from] atelier_nn::CheckpointError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {path}: {message}")]
    Plot { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    BadRun { path: PathBuf, message: String },
    #[error(
        "training diverged at step {step}: Loss_D {:.4}, Loss_G {:.4}, D(x) {:.4}, D(G(z)) {:.4}; \
         stopped without saving. {kept}",
        values.loss_d, values.loss_g, values.d_x, values.d_g_z1
    )]
    Diverged {
        step: u64,
        values: StepValues,
        /// Which checkpoint is left, in words.
        kept: String,
    },
}

pub type Result<T, E = TrainError> = std::result::Result<T, E>;

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TrainError {
    let path = path.into();
    move |source| TrainError::Io { path, source }
}
