//! What a weights file holds once read: named tensors as f32, in the file's order.

use std::collections::{BTreeMap, HashMap};

use crate::dtype::DType;
use crate::error::{PthError, Result};

/// Which container a file was, decided by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Hugging Face safetensors.
    Safetensors,
    /// `torch.save` since torch 1.6: a zip archive with `data.pkl` and one record per storage.
    TorchZip,
    /// `torch.save` before 1.6 (`_use_new_zipfile_serialization=False`): successive pickles,
    /// then every storage's raw bytes.
    TorchLegacy,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::TorchZip => "PyTorch zip format",
            Format::TorchLegacy => "PyTorch legacy format",
        }
    }
}

/// One tensor: its shape, the element type the file stored, and its values as f32
/// (row-major, contiguous, whatever the strides in the file were).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub values: Vec<f32>,
}

impl Tensor {
    pub fn new(shape: Vec<usize>, dtype: DType, values: Vec<f32>) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            values.len(),
            "Tensor::new: shape {shape:?} does not hold {} values",
            values.len()
        );
        Tensor {
            shape,
            dtype,
            values,
        }
    }

    /// A float32 tensor.
    pub fn f32(shape: Vec<usize>, values: Vec<f32>) -> Tensor {
        Tensor::new(shape, DType::F32, values)
    }
}

/// Named tensors in the file's order, with the file's name for error messages and, for
/// safetensors, its string metadata.
#[derive(Clone, Debug)]
pub struct StateDict {
    path: String,
    format: Format,
    entries: Vec<(String, Tensor)>,
    index: HashMap<String, usize>,
    pub metadata: BTreeMap<String, String>,
}

impl StateDict {
    pub fn new(path: impl Into<String>, format: Format) -> StateDict {
        StateDict {
            path: path.into(),
            format,
            entries: Vec::new(),
            index: HashMap::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// The file it was read from (or the name given to it).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Adds `key` at the end, or replaces its tensor where it was.
    pub fn insert(&mut self, key: impl Into<String>, tensor: Tensor) {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = tensor,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, tensor));
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// `key`, which must have `shape`: otherwise an error naming the file, the key and both
    /// shapes.
    pub fn expect(&self, key: &str, shape: &[usize]) -> Result<&Tensor> {
        let t = self.get(key).ok_or_else(|| PthError::Missing {
            path: self.path.clone(),
            key: key.to_string(),
            expected: format!(" (expected shape {shape:?})"),
        })?;
        if t.shape != shape {
            return Err(PthError::Shape {
                path: self.path.clone(),
                key: key.to_string(),
                file: t.shape.clone(),
                expected: shape.to_vec(),
            });
        }
        Ok(t)
    }

    /// `key` whatever its shape, or an error naming the file and the key.
    pub fn require(&self, key: &str) -> Result<&Tensor> {
        self.get(key).ok_or_else(|| PthError::Missing {
            path: self.path.clone(),
            key: key.to_string(),
            expected: String::new(),
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn into_entries(self) -> Vec<(String, Tensor)> {
        self.entries
    }
}
