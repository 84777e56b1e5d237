//! atelier-pth: the weights files people have, read without running anything.
//!
//! [`load`] reads a file of any of these kinds, chosen by its content (never its name):
//!
//! - torch's zip format (`torch.save` since torch 1.6: `NAME/data.pkl` and one record per
//!   storage), as pytorch/examples' DCGAN checkpoints and junyanz's CycleGAN models are;
//! - torch's legacy format (before 1.6: successive pickles, then raw storages), as
//!   torchvision's `vgg19-dcbb9e9d.pth` and pytorch/examples' fast-neural-style models are;
//! - safetensors.
//!
//! A state_dict at the top level or nested under `state_dict`, `model_state_dict`, `model` or
//! `params` becomes a [`StateDict`]: each key's shape and values as f32 (float64, float16,
//! bfloat16 and integer storages converted; strided and shared storages gathered), in file
//! order. The pickle inside a .pth file is run by our own small machine ([`pickle`]), which
//! knows only the few globals torch writes for tensors and ordered dicts and refuses any other
//! by name: a .pth file can carry code, and this reader never imports or runs it.
//!
//! [`save`] writes the way back: a zip-format state_dict that `torch.load(f,
//! weights_only=True)` accepts.

mod detect;
mod dtype;
mod error;
mod globals;
mod legacy;
mod pickle;
mod read;
mod safetensors_io;
mod state_dict;
mod torch;
mod write;
mod zip_format;

use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

pub use detect::{HEAD_LEN, detect};
pub use dtype::DType;
pub use error::{PthError, Result};
pub use state_dict::{Format, StateDict, Tensor};
pub use torch::NESTED_KEYS;
pub use write::{save, to_bytes};

/// Reads every tensor of a safetensors, zip-format .pth or legacy .pth file.
pub fn load(path: impl AsRef<Path>) -> Result<StateDict> {
    load_filtered(path, &|_| true)
}

/// Reads the tensors whose keys `keep` accepts; the others' data is never converted (with
/// VGG-19, `|k| k.starts_with("features.")` skips the 500 MB classifier).
pub fn load_filtered(path: impl AsRef<Path>, keep: &dyn Fn(&str) -> bool) -> Result<StateDict> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| PthError::io(&shown, e))?;
    let len = file.metadata().map_err(|e| PthError::io(&shown, e))?.len();
    load_from(BufReader::new(file), len, &shown, keep)
}

/// Reads a file already in memory; `name` stands for it in errors.
pub fn load_bytes(bytes: &[u8], name: &str) -> Result<StateDict> {
    load_from(Cursor::new(bytes), bytes.len() as u64, name, &|_| true)
}

/// The format of a file, from its first bytes.
pub fn detect_file(path: impl AsRef<Path>) -> Result<Format> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| PthError::io(&shown, e))?;
    let len = file.metadata().map_err(|e| PthError::io(&shown, e))?.len();
    let head = read_head(&mut file, &shown)?;
    detect(&head, len).map_err(|message| PthError::UnknownFormat {
        path: shown,
        message,
    })
}

fn load_from<R: Read + Seek>(
    mut reader: R,
    len: u64,
    path: &str,
    keep: &dyn Fn(&str) -> bool,
) -> Result<StateDict> {
    let head = read_head(&mut reader, path)?;
    let format = detect(&head, len).map_err(|message| PthError::UnknownFormat {
        path: path.to_string(),
        message,
    })?;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| PthError::io(path, e))?;
    match format {
        Format::TorchZip => zip_format::read(reader, len, path, keep),
        Format::TorchLegacy => legacy::read(reader, len, path, keep),
        Format::Safetensors => {
            let mut bytes = Vec::new();
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| PthError::io(path, e))?;
            safetensors_io::read(&bytes, path, keep)
        }
    }
}

fn read_head<R: Read>(reader: &mut R, path: &str) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    reader
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| PthError::io(path, e))?;
    Ok(head)
}
