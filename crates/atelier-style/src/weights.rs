//! Named f32 tensors in safetensors files, with PyTorch's key names: reading with checks that
//! name the key and both shapes, and writing through a temporary file and a rename, so a crash
//! never leaves half a file under the real name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use atelier_tensor::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Result, StyleError};

/// The tensors of one file, as f32 on the host, with the file's metadata.
pub struct WeightsFile {
    pub path: PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    pub metadata: HashMap<String, String>,
}

impl WeightsFile {
    pub fn read(path: &Path) -> Result<WeightsFile> {
        let bytes = std::fs::read(path).map_err(|e| StyleError::io(path, e))?;
        let bad = |e: safetensors::SafeTensorError| {
            StyleError::weights(path, format!("not a safetensors file: {e}"))
        };
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(bad)?;
        let st = SafeTensors::deserialize(&bytes).map_err(bad)?;
        let mut tensors = HashMap::new();
        for (key, view) in st.tensors() {
            let values = to_f32(&view).ok_or_else(|| {
                StyleError::weights(
                    path,
                    format!("{key} is {:?}; only F32 and F64 are read", view.dtype()),
                )
            })?;
            tensors.insert(key, (view.shape().to_vec(), values));
        }
        Ok(WeightsFile {
            path: path.to_path_buf(),
            tensors,
            metadata: header.metadata().clone().unwrap_or_default(),
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

fn to_f32(view: &TensorView<'_>) -> Option<Vec<f32>> {
    let d = view.data();
    match view.dtype() {
        Dtype::F32 => Some(
            d.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        Dtype::F64 => Some(
            d.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
        ),
        _ => None,
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
