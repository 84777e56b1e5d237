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
    // the OS error is shown in the message, not chained, so it prints once
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The run folder could not be claimed (in use, not empty, not writable) or written.
    #[error(transparent)]
    RunDir(#[from] atelier_fs::FsError),
    /// Something the device cannot hold in one tensor, found before any work.
    #[error("{error}; {hint}")]
    TooLarge {
        // boxed: it carries names and shapes, and errors should stay small
        error: Box<atelier_tensor::TooLarge>,
        hint: &'static str,
    },
    /// `--steps` below the step a resumed run has reached.
    #[error(
        "{}: --steps {steps} is below the checkpoint's step {at}; give --steps above {at} to \
         train further (nothing was changed)", path.display()
    )]
    StepsBehind { path: PathBuf, steps: u64, at: u64 },
    #[error("drawing {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    BadRun { path: PathBuf, message: String },
    #[error(
        "training diverged by step {step}: {tensor} holds a NaN or an infinity; stopped \
         without saving. {kept}"
    )]
    NonFinite {
        step: u64,
        tensor: String,
        kept: String,
    },
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
    move |error| TrainError::Io { path, error }
}
