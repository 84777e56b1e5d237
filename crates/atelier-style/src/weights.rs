//! Named f32 tensors in weights files with PyTorch's key names: safetensors or torch.save
//! files (zip or legacy .pth, as downloaded), told apart by their content (atelier-pth).
//! Reading checks name the key and both shapes; writing goes through a temporary file and a
//! rename, so a crash never leaves half a file under the real name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use atelier_tensor::{Device, Tensor};
use safetensors::{Dtype, tensor::TensorView};

use crate::error::{Result, StyleError};

/// The tensors of one file, as f32 on the host, with the file's metadata (safetensors only).
pub struct WeightsFile {
    pub path: PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    pub metadata: HashMap<String, String>,
}

impl WeightsFile {
    /// Reads a safetensors, zip-format .pth or legacy .pth file, whatever its name.
    pub fn read(path: &Path) -> Result<WeightsFile> {
        WeightsFile::read_filtered(path, &|_| true)
    }

    /// Reads only the keys `keep` accepts (the others' data is skipped).
    pub fn read_filtered(path: &Path, keep: &dyn Fn(&str) -> bool) -> Result<WeightsFile> {
        let sd = atelier_pth::load_filtered(path, keep)?;
        let metadata = sd.metadata.clone().into_iter().collect();
        let tensors = sd
            .into_entries()
            .into_iter()
            .map(|(k, t)| (k, (t.shape, t.values)))
            .collect();
        Ok(WeightsFile {
            path: path.to_path_buf(),
            tensors,
            metadata,
        })
    }

    /// The tensor `key` on `device`; an error names the key and the shapes when it is missing
    /// or shaped differently from `shape`.
    pub fn tensor(&self, key: &str, shape: &[usize], device: Device) -> Result<Tensor> {
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
        self.tensors.keys().map(String::as_str)
    }
}

/// Writes `tensors` (any device) as F32 to `path`, via `path` + `.tmp` and a rename.
pub fn write_tensors(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let host: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(k, t)| {
            let bytes = t.to_vec().iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), t.shape().to_vec(), bytes)
        })
        .collect();
    let views = host.iter().map(|(k, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("sizes agree");
        (k.as_str(), view)
    });
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| StyleError::weights(path, format!("serialising: {e}")))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| StyleError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| StyleError::io(path, e))
}
