//! What can go wrong reading or writing a weights file. Every message names the file, and
//! where it applies the tensor key, the pickle stream and the byte offset in it.

/// Where in a file a pickle stream lives: `data.pkl` of a zip archive, or one of the
/// successive pickles of the legacy format.
pub type Part = &'static str;

#[derive(Debug, thiserror::Error)]
pub enum PthError {
    // the I/O error is shown in the message, not chained (so it prints once)
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// Neither safetensors, torch's zip format nor its legacy pickle format.
    #[error("{path}: not a weights file atelier reads ({message})")]
    UnknownFormat { path: String, message: String },
    /// The container is damaged: a truncated file, a zip without `data.pkl`, a missing
    /// storage record, a storage shorter than its header says.
    #[error("{path}: {message}")]
    Container { path: String, message: String },
    /// The pickle stream itself is malformed (truncated, stack underflow, wrong types).
    #[error("{path}: {part}, byte {offset}: {message}")]
    Pickle {
        path: String,
        part: Part,
        offset: u64,
        message: String,
    },
    /// A pickle opcode that torch never writes for a state_dict.
    #[error("{path}: {part}, byte {offset}: unsupported pickle opcode {name} (0x{opcode:02x})")]
    Opcode {
        path: String,
        part: Part,
        offset: u64,
        opcode: u8,
        name: &'static str,
    },
    /// A global (a Python class or function) outside the few torch writes for tensors.
    #[error(
        "{path}: {part}, byte {offset}: refused to load the Python global {module}.{name}: only \
         the classes torch writes for tensors and ordered dicts are allowed (a .pth file can \
         carry code; atelier never runs or imports it)"
    )]
    Global {
        path: String,
        part: Part,
        offset: u64,
        module: String,
        name: String,
    },
    /// A tensor that cannot be built: storage too short for its shape and strides, an
    /// unknown storage type, negative sizes.
    #[error("{path}: tensor {key}: {message}")]
    Tensor {
        path: String,
        key: String,
        message: String,
    },
    /// The file holds no state_dict (a whole pickled module, a list, a dict of non-tensors).
    #[error("{path}: {message}")]
    NotStateDict { path: String, message: String },
    #[error("{path}: key {key:?} is missing{expected}")]
    Missing {
        path: String,
        key: String,
        /// `" (expected shape [..])"` or empty.
        expected: String,
    },
    #[error("{path}: key {key:?} has shape {file:?} in the file, {expected:?} expected")]
    Shape {
        path: String,
        key: String,
        file: Vec<usize>,
        expected: Vec<usize>,
    },
}

pub type Result<T> = std::result::Result<T, PthError>;

impl PthError {
    pub(crate) fn io(path: &str, error: std::io::Error) -> PthError {
        PthError::Io {
            path: path.to_string(),
            error,
        }
    }

    pub(crate) fn container(path: &str, message: impl Into<String>) -> PthError {
        PthError::Container {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn tensor(path: &str, key: &str, message: impl Into<String>) -> PthError {
        PthError::Tensor {
            path: path.to_string(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}
