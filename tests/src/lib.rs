//! Shared helpers for the cross-crate tests: PyTorch reference vectors and error measures.

use std::collections::HashMap;
use std::path::PathBuf;

use atelier_tensor::{Device, Tensor};
use safetensors::{Dtype, SafeTensors};

/// `tests/data/pytorch/NAME.safetensors`: PyTorch reference vectors (see tests/data/pytorch/README.md).
pub fn ref_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/pytorch")
        .join(format!("{name}.safetensors"))
}

/// A PyTorch reference file: float64 tensors (integer ones converted) and its metadata.
pub struct Refs {
    tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    pub metadata: HashMap<String, String>,
}

/// `tests/data/pth/NAME` (PyTorch model files and their outputs; see its README).
pub fn pth_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/pth")
        .join(name)
}

impl Refs {
    pub fn load(name: &str) -> Refs {
        Refs::from_path(&ref_path(name))
    }

    /// A reference file anywhere (e.g. [`pth_path`], tests/data/inception/...).
    pub fn from_path(path: &std::path::Path) -> Refs {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let (_, meta) = SafeTensors::read_metadata(&bytes).expect("safetensors header");
        let st = SafeTensors::deserialize(&bytes).expect("safetensors file");
        let mut tensors = HashMap::new();
        for (key, view) in st.tensors() {
            let data = view.data();
            let values: Vec<f64> = match view.dtype() {
                Dtype::F64 => data
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
                Dtype::I64 => data
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
                other => panic!("{key}: unsupported dtype {other:?}"),
            };
            tensors.insert(key, (view.shape().to_vec(), values));
        }
        Refs {
            tensors,
            metadata: meta.metadata().clone().unwrap_or_default(),
        }
    }

    pub fn shape(&self, key: &str) -> &[usize] {
        &self.entry(key).0
    }

    pub fn values(&self, key: &str) -> &[f64] {
        &self.entry(key).1
    }

    fn entry(&self, key: &str) -> &(Vec<usize>, Vec<f64>) {
        self.tensors
            .get(key)
            .unwrap_or_else(|| panic!("reference key {key:?} missing"))
    }

    pub fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.tensors.keys()
    }

    /// The reference tensor as an f32 tensor on `device`.
    pub fn tensor(&self, key: &str, device: Device) -> Tensor {
        let (shape, v) = self.entry(key);
        Tensor::from_vec(v.iter().map(|&x| x as f32).collect(), shape, device)
    }

    /// The JSON list of cases in the metadata (`cases`), if any.
    pub fn cases(&self) -> Vec<serde_json::Value> {
        self.metadata
            .get("cases")
            .map(|s| serde_json::from_str(s).expect("cases JSON"))
            .unwrap_or_default()
    }
}

/// ‖got − want‖ / ‖want‖ (NaN for different lengths or non-finite values).
pub use atelier_kernels::harness::relative_error as rel_err;

/// Asserts `t` matches reference `key` within `tol`.
pub fn assert_close(what: &str, t: &Tensor, refs: &Refs, key: &str, tol: f64) {
    assert_eq!(
        t.shape().iter().product::<usize>(),
        refs.values(key).len(),
        "{what}: size of {key}"
    );
    let e = rel_err(&t.to_vec(), refs.values(key));
    assert!(e < tol, "{what}: {key} rel err {e:.3e} (tol {tol:.0e})");
}

/// The devices to test: the CPU, and the GPU when there is one (see `gpu_for_tests`).
pub fn devices() -> Vec<Device> {
    let mut d = vec![Device::Cpu];
    if atelier_kernels::context::gpu_for_tests() {
        d.push(Device::Gpu);
    }
    d
}
