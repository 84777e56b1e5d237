//! The Inception network's weights as a map from PyTorch's state_dict names to tensors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use atelier_nn::Checkpoint;

/// A state_dict: name → (shape, values).
#[derive(Clone, Debug, Default)]
pub struct StateDict {
    /// Where it came from, for error messages.
    pub source: String,
    pub tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum InceptionError {
    #[error(
        "Inception weights {origin}: key {key:?} is missing (is this pytorch-fid's pt_inception-2015-12-05 file?)"
    )]
    Missing { origin: String, key: String },
    #[error(
        "Inception weights {origin}: {key:?} has shape {found:?}, the network needs {expected:?}"
    )]
    Shape {
        origin: String,
        key: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("Inception weights {path}: {message}")]
    File { path: PathBuf, message: String },
}

impl StateDict {
    pub fn new(source: impl Into<String>) -> StateDict {
        StateDict {
            source: source.into(),
            tensors: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, key: impl Into<String>, shape: Vec<usize>, values: Vec<f32>) {
        self.tensors.insert(key.into(), (shape, values));
    }

    /// Every tensor of a weights file (floats as f32): pytorch-fid's
    /// `pt_inception-2015-12-05-6726825d.pth` as downloaded, or a safetensors file with its keys.
    pub fn from_file(path: &Path) -> Result<StateDict, InceptionError> {
        let file_err = |message: String| InceptionError::File {
            path: path.to_path_buf(),
            message,
        };
        let ck = Checkpoint::load(path).map_err(|e| file_err(e.to_string()))?;
        let mut sd = StateDict::new(path.display().to_string());
        let keys: Vec<String> = ck.keys().map(str::to_string).collect();
        for k in keys {
            let shape = ck.shape(&k).map_err(|e| file_err(e.to_string()))?.to_vec();
            let values = ck.values(&k).map_err(|e| file_err(e.to_string()))?;
            sd.insert(k, shape, values);
        }
        Ok(sd)
    }

    /// The values of `key`, which must have `shape`.
    pub fn get(&self, key: &str, shape: &[usize]) -> Result<&[f32], InceptionError> {
        let (found, values) = self
            .tensors
            .get(key)
            .ok_or_else(|| InceptionError::Missing {
                origin: self.source.clone(),
                key: key.into(),
            })?;
        if found != shape {
            return Err(InceptionError::Shape {
                origin: self.source.clone(),
                key: key.into(),
                found: found.clone(),
                expected: shape.to_vec(),
            });
        }
        Ok(values)
    }
}
