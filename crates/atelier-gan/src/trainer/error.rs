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

impl From<crate::run::RunError> for TrainError {
    fn from(e: crate::run::RunError) -> TrainError {
        use crate::run::RunError;
        match e {
            RunError::Io { path, source } => TrainError::Io { path, source },
            RunError::BadRun { path, message } => TrainError::BadRun { path, message },
            RunError::Checkpoint(e) => TrainError::Checkpoint(e),
            RunError::Data(e) => TrainError::Data(e),
        }
    }
}
