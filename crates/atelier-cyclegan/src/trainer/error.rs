//! Errors of CycleGAN training and translation, each one a user can act on.

use std::path::PathBuf;

use atelier_gan::run::RunError;

use crate::model::ArchitectureError;
use crate::step::Losses;

#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("{0}")]
    Config(String),
    #[error("{flag}: {source}")]
    Domain {
        flag: String,
        source: atelier_data::Error,
    },
    #[error(transparent)]
    Data(#[from] atelier_data::Error),
    #[error(transparent)]
    Checkpoint(#[from] atelier_nn::CheckpointError),
    #[error(transparent)]
    Architecture(#[from] ArchitectureError),
    #[error(transparent)]
    Run(#[from] RunError),
    /// The run folder could not be claimed (in use, not empty, not writable), or the memory
    /// a step needs is more than the device has.
    #[error(transparent)]
    RunDir(#[from] atelier_fs::FsError),
    /// `--steps` below the step a resumed run has reached.
    #[error(
        "{}: --steps {steps} is below the checkpoint's step {at}; give --steps above {at} to \
         train further (nothing was changed)", path.display()
    )]
    StepsBehind { path: PathBuf, steps: u64, at: u64 },
    #[error(
        "training diverged by step {step}: {tensor} holds a NaN or an infinity; stopped \
         without saving. {kept}"
    )]
    NonFinite {
        step: u64,
        tensor: String,
        kept: String,
    },
    #[error("{path}: {message}")]
    BadRun { path: PathBuf, message: String },
    #[error(
        "training diverged at step {step}: {}; stopped without saving. {kept}",
        losses.named().map(|(n, v)| format!("{n} {v:.4}")).collect::<Vec<_>>().join(", ")
    )]
    Diverged {
        step: u64,
        losses: Losses,
        /// Which checkpoint is left, in words.
        kept: String,
    },
}

pub type Result<T, E = CycleError> = std::result::Result<T, E>;
