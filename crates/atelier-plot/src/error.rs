use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters could not draw (its errors are generic over the backend; kept as text).
    #[error("drawing {what}: {message}")]
    Draw { what: String, message: String },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: image::ImageError,
    },
}

pub type Result<T> = std::result::Result<T, PlotError>;

pub(crate) fn draw_error(what: &str) -> impl Fn(String) -> PlotError + '_ {
    move |message| PlotError::Draw {
        what: what.to_string(),
        message,
    }
}
