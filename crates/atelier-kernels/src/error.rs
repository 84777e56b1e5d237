/// Errors from things a user controls: environment variables, adapters, files.
/// Programming errors (a shape that does not fit a kernel) panic with a message instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
}
