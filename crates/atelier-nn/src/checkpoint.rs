//! Checkpoints: safetensors files whose keys are PyTorch's `state_dict` names. Loading also
//! takes torch.save files (zip or legacy .pth, read by atelier-pth), told apart by content:
//! a bare state_dict such as pytorch/examples' `netG_epoch_24.pth` loads with the empty prefix.
//!
//! One file can hold several models and their training state under separate prefixes, for
//! example `netG.main.0.weight` (a model), `optim.netG.main.0.weight.exp_avg` (Adam's first
//! moment of that parameter), `optim.netG.step`, `trainer.step`, plus string metadata (the
//! run's config as JSON). Float tensors are stored as F32, integer buffers
//! (`num_batches_tracked`, steps) as I64, so `safetensors.torch.load_file` gives tensors that
//! `load_state_dict` takes after stripping the prefix.
//!
//! Files are written atomically (`atelier_fs::write_atomic`: a temporary name unique to the
//! process, synced, renamed over the target), so a crash or a kill never leaves half a
//! checkpoint, and two writers never share a temporary file. A NaN or an infinity is never
//! written and never loaded: both are errors naming the tensor. Loading checks every key before
//! changing anything: a missing key, an unexpected one, or a shape that differs is an error
//! naming the key (and both shapes).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use atelier_tensor::{Device, Tensor};
use safetensors::tensor::View;
use safetensors::{Dtype, SafeTensors};

use crate::module::{Module, is_integer_buffer};
use crate::optim::Adam;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read or written (the OS error is in the message, once).
    #[error("checkpoint {error}")]
    Io { error: atelier_fs::FsError },
    /// Not a weights file, or a safetensors file that cannot be parsed or written.
    #[error("checkpoint {path}: {message}")]
    Format { path: String, message: String },
    /// A .pth file that cannot be read (atelier-pth's message names the file).
    #[error(transparent)]
    Pth(#[from] atelier_pth::PthError),
    #[error("checkpoint {path}: key {key:?} is missing")]
    Missing { path: String, key: String },
    #[error(
        "checkpoint {path}: key {key:?} has shape {file:?} in the file, but the model expects {model:?}"
    )]
    Shape {
        path: String,
        key: String,
        file: Vec<usize>,
        model: Vec<usize>,
    },
    #[error(
        "checkpoint {path}: {key} holds {count} non-finite value(s) (NaN or infinite); a \
         checkpoint must hold finite numbers (the run it comes from had diverged)"
    )]
    NonFinite {
        path: String,
        key: String,
        count: usize,
    },
    #[error("checkpoint {path}: this is {kind}, not {expected}")]
    WrongKind {
        path: String,
        kind: String,
        expected: String,
    },
    #[error("checkpoint {path}: unexpected keys under {prefix:?}: {keys:?}")]
    Unexpected {
        path: String,
        prefix: String,
        keys: Vec<String>,
    },
}

pub type Result<T> = std::result::Result<T, CheckpointError>;

enum Values {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

struct Entry {
    shape: Vec<usize>,
    values: Values,
}

impl Entry {
    fn as_f32(&self) -> Vec<f32> {
        match &self.values {
            Values::F32(v) => v.clone(),
            Values::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// A set of named tensors and metadata, in memory; [`save`](Checkpoint::save) writes it,
/// [`load`](Checkpoint::load) reads one.
pub struct Checkpoint {
    /// The file it came from (for error messages), or `<new>`.
    source: String,
    entries: BTreeMap<String, Entry>,
    metadata: BTreeMap<String, String>,
}

impl Default for Checkpoint {
    fn default() -> Self {
        Checkpoint::new()
    }
}

impl Checkpoint {
    pub fn new() -> Checkpoint {
        Checkpoint {
            source: "<new>".into(),
            entries: BTreeMap::new(),
            metadata: BTreeMap::new(),
        }
    }

    // ---- building ----------------------------------------------------------------------

    /// Adds a tensor's current values (read back from the GPU). Integer buffers
    /// ([`is_integer_buffer`]) are stored as I64.
    pub fn put_tensor(&mut self, key: &str, t: &Tensor) {
        let v = t.to_vec();
        let values = if is_integer_buffer(key) {
            Values::I64(v.iter().map(|&x| x.round() as i64).collect())
        } else {
            Values::F32(v)
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                shape: t.shape().to_vec(),
                values,
            },
        );
    }

    /// Adds every state tensor of `module` as `prefix.NAME` (or `NAME` when prefix is empty).
    pub fn put_module(&mut self, prefix: &str, module: &dyn Module) {
        for (name, t) in module.named_tensors() {
            self.put_tensor(&join(prefix, &name), &t);
        }
    }

    /// Adds an integer scalar (shape `[]`).
    pub fn put_int(&mut self, key: &str, value: i64) {
        self.entries.insert(
            key.to_string(),
            Entry {
                shape: Vec::new(),
                values: Values::I64(vec![value]),
            },
        );
    }

    /// Adds Adam's state for parameters named `names` (in the optimizer's order):
    /// `prefix.NAME.exp_avg`, `prefix.NAME.exp_avg_sq` (PyTorch's names) and `prefix.step`.
    pub fn put_adam(&mut self, prefix: &str, names: &[String], adam: &Adam) {
        let (step, m, v) = adam.state();
        assert_eq!(names.len(), m.len(), "put_adam: one name per parameter");
        for ((name, m), v) in names.iter().zip(m).zip(v) {
            self.put_tensor(&format!("{prefix}.{name}.exp_avg"), m);
            self.put_tensor(&format!("{prefix}.{name}.exp_avg_sq"), v);
        }
        self.put_int(&format!("{prefix}.step"), step as i64);
    }

    pub fn set_metadata(&mut self, key: &str, value: impl Into<String>) {
        self.metadata.insert(key.to_string(), value.into());
    }

    // ---- files ---------------------------------------------------------------------------

    /// Writes the checkpoint to `path` atomically; an error, writing nothing, when a tensor
    /// holds a NaN or an infinity.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        self.check_finite(&shown)?;
        let views: Vec<(&str, RawView<'_>)> = self
            .entries
            .iter()
            .map(|(k, e)| (k.as_str(), RawView::of(e)))
            .collect();
        let metadata: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        let bytes =
            safetensors::serialize(views, Some(metadata)).map_err(|e| CheckpointError::Format {
                path: shown.clone(),
                message: format!("serialising: {e}"),
            })?;
        atelier_fs::write_atomic(path, &bytes).map_err(|error| CheckpointError::Io { error })
    }

    /// An error naming the first tensor that holds a NaN or an infinity.
    fn check_finite(&self, shown: &str) -> Result<()> {
        for (key, e) in &self.entries {
            if let Values::F32(v) = &e.values {
                let count = v.iter().filter(|x| !x.is_finite()).count();
                if count > 0 {
                    return Err(CheckpointError::NonFinite {
                        path: shown.to_string(),
                        key: key.clone(),
                        count,
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads a safetensors file (F32, F64 and integer tensors; floats are kept as f32) or a
    /// torch.save file (integer tensors such as `num_batches_tracked` kept as integers),
    /// whatever its name. Only a regular file is opened; a tensor holding a NaN or an infinity
    /// is an error naming it.
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        // a FIFO would block the format check, a folder is no checkpoint
        atelier_fs::check_regular_file(path).map_err(|error| CheckpointError::Io { error })?;
        // by content, whatever the name
        match atelier_pth::detect_file(path) {
            Ok(atelier_pth::Format::Safetensors) => {}
            Ok(_) => {
                let ck = Checkpoint::from_state_dict(atelier_pth::load(path)?)?;
                ck.check_finite(&shown)?;
                return Ok(ck);
            }
            Err(atelier_pth::PthError::UnknownFormat { message, .. }) => {
                return Err(CheckpointError::Format {
                    path: shown,
                    message: format!("not a checkpoint: {message}"),
                });
            }
            Err(atelier_pth::PthError::Io { error, .. }) => {
                return Err(CheckpointError::Io {
                    error: atelier_fs::FsError::io(path, error),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let bytes =
            atelier_fs::read_regular_file(path).map_err(|error| CheckpointError::Io { error })?;
        Checkpoint::from_bytes(&bytes, &shown)
    }

    /// A state_dict read by atelier-pth: float tensors as f32, integer ones as integers.
    pub fn from_state_dict(sd: atelier_pth::StateDict) -> Result<Checkpoint> {
        let source = sd.path().to_string();
        let metadata = sd.metadata.clone();
        let entries = sd
            .into_entries()
            .into_iter()
            .map(|(key, t)| {
                let values = if t.dtype.is_float() {
                    Values::F32(t.values)
                } else {
                    Values::I64(t.values.iter().map(|&v| v as i64).collect())
                };
                let entry = Entry {
                    shape: t.shape,
                    values,
                };
                (key, entry)
            })
            .collect();
        Ok(Checkpoint {
            source,
            entries,
            metadata,
        })
    }

    /// Writes `module`'s state (`prefix.NAME` keys stripped to `NAME`) as a zip-format .pth
    /// state_dict that `torch.load(f, weights_only=True)` reads and `load_state_dict` takes
    /// (integer buffers as int64), via a temporary file and a rename.
    pub fn save_pth(path: impl AsRef<Path>, module: &dyn Module) -> Result<()> {
        let tensors: Vec<(String, atelier_pth::Tensor)> = module
            .named_tensors()
            .into_iter()
            .map(|(name, t)| {
                let dtype = if is_integer_buffer(&name) {
                    atelier_pth::DType::I64
                } else {
                    atelier_pth::DType::F32
                };
                let values = atelier_pth::Tensor::new(t.shape().to_vec(), dtype, t.to_vec());
                (name, values)
            })
            .collect();
        atelier_pth::save(path, &tensors)?;
        Ok(())
    }

    /// Parses safetensors bytes; `source` names them in errors. A tensor holding a NaN or an
    /// infinity is an error naming it.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Checkpoint> {
        let format = |message: String| CheckpointError::Format {
            path: source.to_string(),
            message: format!("not a readable safetensors file: {message}"),
        };
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| format(e.to_string()))?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| format(e.to_string()))?;
        let mut entries = BTreeMap::new();
        for (key, view) in st.tensors() {
            let d = view.data();
            let values = match view.dtype() {
                Dtype::F32 => Values::F32(le_chunks::<4>(d).map(f32::from_le_bytes).collect()),
                Dtype::F64 => Values::F32(
                    le_chunks::<8>(d)
                        .map(|b| f64::from_le_bytes(b) as f32)
                        .collect(),
                ),
                Dtype::I64 => Values::I64(le_chunks::<8>(d).map(i64::from_le_bytes).collect()),
                Dtype::I32 => Values::I64(
                    le_chunks::<4>(d)
                        .map(|b| i32::from_le_bytes(b) as i64)
                        .collect(),
                ),
                other => return Err(format(format!("{key}: unsupported dtype {other:?}"))),
            };
            entries.insert(
                key,
                Entry {
                    shape: view.shape().to_vec(),
                    values,
                },
            );
        }
        let metadata = meta
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let ck = Checkpoint {
            source: source.to_string(),
            entries,
            metadata,
        };
        ck.check_finite(source)?;
        Ok(ck)
    }

    /// What kind of file this is, in words ("a DCGAN checkpoint (atelier gan train)"), when
    /// it is one atelier knows (see [`crate::kind`]).
    pub fn kind(&self) -> Option<&'static str> {
        crate::kind::identify(self.metadata("format"), &mut self.keys())
    }

    /// An error saying what this file is when it is a kind atelier knows other than the one of
    /// `format` ("this is a DCGAN checkpoint, not a style network"). A file of no known kind
    /// passes: loading its keys then says what is missing.
    pub fn expect_kind(&self, format: &str) -> Result<()> {
        let expected = crate::kind::describe(format).unwrap_or(format);
        match self.kind() {
            Some(kind) if kind != expected => Err(CheckpointError::WrongKind {
                path: self.source.clone(),
                kind: kind.to_string(),
                expected: expected.to_string(),
            }),
            _ => Ok(()),
        }
    }

    // ---- reading ---------------------------------------------------------------------------

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    pub fn shape(&self, key: &str) -> Result<&[usize]> {
        Ok(&self.entry(key)?.shape)
    }

    /// A key's values as f32.
    pub fn values(&self, key: &str) -> Result<Vec<f32>> {
        Ok(self.entry(key)?.as_f32())
    }

    /// An integer scalar written by [`put_int`](Checkpoint::put_int).
    pub fn int(&self, key: &str) -> Result<i64> {
        let e = self.entry(key)?;
        match &e.values {
            Values::I64(v) if v.len() == 1 => Ok(v[0]),
            Values::F32(v) if v.len() == 1 => Ok(v[0] as i64),
            _ => Err(CheckpointError::Shape {
                path: self.source.clone(),
                key: key.to_string(),
                file: e.shape.clone(),
                model: Vec::new(),
            }),
        }
    }

    /// A key as a new tensor on `device`.
    pub fn tensor(&self, key: &str, device: Device) -> Result<Tensor> {
        let e = self.entry(key)?;
        Ok(Tensor::from_vec(e.as_f32(), &e.shape, device))
    }

    /// Checks that `key` exists with `t`'s shape.
    pub fn check(&self, key: &str, t: &Tensor) -> Result<()> {
        let e = self.entry(key)?;
        if e.shape != t.shape() {
            return Err(CheckpointError::Shape {
                path: self.source.clone(),
                key: key.to_string(),
                file: e.shape.clone(),
                model: t.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// Overwrites `t` with the values of `key` (same shape, else an error).
    pub fn read_into(&self, key: &str, t: &Tensor) -> Result<()> {
        self.check(key, t)?;
        t.write(&self.entry(key)?.as_f32());
        Ok(())
    }

    /// Loads `module`'s whole state from `prefix.NAME` keys, strictly: every key the module
    /// has must be in the file with the same shape, and the file may have no other key under
    /// `prefix.`. Nothing is changed unless everything matches.
    pub fn load_module(&self, prefix: &str, module: &dyn Module) -> Result<()> {
        let named: Vec<(String, Tensor)> = module
            .named_tensors()
            .into_iter()
            .map(|(n, t)| (join(prefix, &n), t))
            .collect();
        for (key, t) in &named {
            self.check(key, t)?;
        }
        let under = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}.")
        };
        let unexpected: Vec<String> = self
            .entries
            .keys()
            .filter(|k| k.starts_with(&under) && !named.iter().any(|(n, _)| n == *k))
            .cloned()
            .collect();
        if !unexpected.is_empty() {
            return Err(CheckpointError::Unexpected {
                path: self.source.clone(),
                prefix: prefix.to_string(),
                keys: unexpected,
            });
        }
        for (key, t) in &named {
            self.read_into(key, t)?;
        }
        Ok(())
    }

    /// Restores Adam's state written by [`put_adam`](Checkpoint::put_adam).
    pub fn load_adam(&self, prefix: &str, names: &[String], adam: &mut Adam) -> Result<()> {
        let params = adam.params().to_vec();
        assert_eq!(
            names.len(),
            params.len(),
            "load_adam: one name per parameter"
        );
        let step = self.int(&format!("{prefix}.step"))?;
        let mut m = Vec::new();
        let mut v = Vec::new();
        for (name, p) in names.iter().zip(&params) {
            for (suffix, out) in [("exp_avg", &mut m), ("exp_avg_sq", &mut v)] {
                let key = format!("{prefix}.{name}.{suffix}");
                self.check(&key, p)?;
                out.push(self.tensor(&key, Device::Cpu)?);
            }
        }
        adam.load_state(step.max(0) as u64, &m, &v);
        Ok(())
    }

    fn entry(&self, key: &str) -> Result<&Entry> {
        self.entries
            .get(key)
            .ok_or_else(|| CheckpointError::Missing {
                path: self.source.clone(),
                key: key.to_string(),
            })
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn le_chunks<const N: usize>(data: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    data.chunks_exact(N).map(|c| c.try_into().expect("N bytes"))
}

/// An entry as safetensors sees it: dtype, shape, little-endian bytes.
struct RawView<'a> {
    dtype: Dtype,
    shape: &'a [usize],
    bytes: Vec<u8>,
}

impl<'a> RawView<'a> {
    fn of(e: &'a Entry) -> RawView<'a> {
        let (dtype, bytes) = match &e.values {
            Values::F32(v) => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Values::I64(v) => (Dtype::I64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        };
        RawView {
            dtype,
            shape: &e.shape,
            bytes,
        }
    }
}

impl View for RawView<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}
