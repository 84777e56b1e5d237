#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Checkpoint(#[from] atelier_nn::CheckpointError),
    #[error("{name} has shape {shape:?}; the model description needs {expected}")]
    Shape {
        name: String,
        shape: Vec<usize>,
        expected: String,
    },
    #[error("model description: {0}")]
    Description(String),
    /// A ResnetGenerator state_dict that does not fit the architecture its keys describe.
    #[error(transparent)]
    Architecture(#[from] atelier_cyclegan::model::ArchitectureError),
    #[error("{path}: {message}")]
    NotAModel { path: String, message: String },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, ExportError>;
