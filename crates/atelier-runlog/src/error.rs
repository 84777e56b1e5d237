use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunLogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an image TensorBoard can show: {source}")]
    Image {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("run page: {0}")]
    Plot(#[from] atelier_plot::PlotError),
}

pub type Result<T> = std::result::Result<T, RunLogError>;

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> RunLogError + '_ {
    move |source| RunLogError::Io {
        path: path.to_path_buf(),
        source,
    }
}
