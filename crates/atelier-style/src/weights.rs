//! Named f32 tensors in weights files with PyTorch's key names: safetensors or torch.save
//! files (zip or legacy .pth, as downloaded), told apart by their content (atelier-pth).
//! Reading checks name the key and both shapes (and what the file is, when it is another kind
//! of atelier file); writing is atomic (`atelier_fs::write_atomic`), so a crash never leaves
//! half a file under the real name. NaN and infinity are refused both ways, naming the tensor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use atelier_tensor::{Device, Tensor};

use safetensors::{Dtype, tensor::TensorView};

use crate::error::{Result, StyleError};

/// The tensors of one file, as f32 on the host, with the file's metadata (safetensors only).
pub struct WeightsFile {
    pub path: PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    /// Keys of tensors that are not floating point, with their dtype (an error if asked for).
    others: HashMap<String, String>,
    pub metadata: HashMap<String, String>,
}

impl WeightsFile {
    /// Reads a safetensors, zip-format .pth or legacy .pth file, whatever its name.
    pub fn read(path: &Path) -> Result<WeightsFile> {
        WeightsFile::read_filtered(path, &|_| true)
    }

    /// Reads only the keys `keep` accepts (the others' data is skipped).
    pub fn read_filtered(path: &Path, keep: &dyn Fn(&str) -> bool) -> Result<WeightsFile> {
        // only a regular file is opened (a FIFO would block)
        atelier_fs::check_regular_file(path)?;
        let sd = atelier_pth::load_filtered(path, keep)?;
        let metadata = sd.metadata.clone().into_iter().collect();
        let mut tensors = HashMap::new();
        let mut others = HashMap::new();
        for (key, t) in sd.into_entries() {
            if !t.dtype.is_float() {
                others.insert(key, format!("{:?}", t.dtype));
                continue;
            }
            let bad = t.values.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                return Err(StyleError::weights(
                    path,
                    format!("{key} holds {bad} non-finite value(s) (NaN or infinite)"),
                ));
            }
            tensors.insert(key, (t.shape, t.values));
        }
        Ok(WeightsFile {
            path: path.to_path_buf(),
            tensors,
            others,
            metadata,
        })
    }

    /// What kind of file this is, in words, when atelier knows (`atelier_nn::kind`).
    pub fn kind(&self) -> Option<&'static str> {
        let format = self.metadata.get("format").map(String::as_str);
        let mut keys = self
            .tensors
            .keys()
            .chain(self.others.keys())
            .map(String::as_str);
        atelier_nn::kind::identify(format, &mut keys)
    }

    /// An error saying what the file is when it is a kind atelier knows other than `format`.
    pub fn expect_kind(&self, format: &str) -> Result<()> {
        let expected = atelier_nn::kind::describe(format).unwrap_or(format);
        match self.kind() {
            Some(kind) if kind != expected => Err(StyleError::weights(
                &self.path,
                format!("this is {kind}, not {expected}"),
            )),
            _ => Ok(()),
        }
    }

    /// The tensor `key` on `device`; an error names the key and the shapes when it is missing
    /// or shaped differently from `shape`.
    pub fn tensor(&self, key: &str, shape: &[usize], device: Device) -> Result<Tensor> {
        if let Some(dtype) = self.others.get(key) {
            return Err(StyleError::weights(
                &self.path,
                format!("{key} is {dtype}; only floating-point tensors are read"),
            ));
        }
        let Some((file_shape, values)) = self.tensors.get(key) else {
            return Err(StyleError::weights(
                &self.path,
                format!("missing key {key} (expected shape {shape:?})"),
            ));
        };
        if file_shape != shape {
            return Err(StyleError::weights(
                &self.path,
                format!("{key} has shape {file_shape:?}, the network expects {shape:?}"),
            ));
        }
        Ok(Tensor::from_vec(values.clone(), shape, device))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.tensors
            .keys()
            .chain(self.others.keys())
            .map(String::as_str)
    }
}

/// Writes `tensors` (any device) as F32 to `path` atomically; an error, writing nothing, when
/// a tensor holds a NaN or an infinity.
pub fn write_tensors(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let mut host: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (k, t) in tensors {
        let values = t.to_vec();
        let bad = values.iter().filter(|v| !v.is_finite()).count();
        if bad > 0 {
            return Err(StyleError::Diverged(format!(
                "{k} holds {bad} non-finite value(s) (NaN or infinite); {} not written",
                path.display()
            )));
        }
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        host.push((k.clone(), t.shape().to_vec(), bytes));
    }
    let views = host.iter().map(|(k, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("sizes agree");
        (k.as_str(), view)
    });
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| StyleError::weights(path, format!("serialising: {e}")))?;
    atelier_fs::write_atomic(path, &bytes)?;
    Ok(())
}
