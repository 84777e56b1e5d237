//! What torch's pickles mean: finding the state_dict in the unpickled graph, turning each
//! recorded `_rebuild_tensor_v2(storage, offset, size, stride, ...)` into a [`TensorRef`], and
//! the storage each persistent id names. Both file formats share this; they differ only in
//! where a storage's bytes are.

use std::collections::HashMap;

use crate::dtype::DType;
use crate::error::{PthError, Result};
use crate::globals::Global;
use crate::pickle::{Arena, Id, Object};
use crate::state_dict::Tensor;

/// Keys under which checkpoints nest their state_dict (`{"epoch": 3, "state_dict": ...}`),
/// tried in this order.
pub const NESTED_KEYS: [&str; 4] = ["state_dict", "model_state_dict", "model", "params"];

/// How deep a state_dict may be nested (`{"model": {"state_dict": ...}}`).
const MAX_NESTING: usize = 4;

/// A storage as a persistent id names it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StorageRef {
    pub dtype: DType,
    /// The record name (zip: `data/KEY`) or the key of the legacy storage section.
    pub key: String,
    /// Elements this tensor's storage has: the root storage's, or a legacy view's.
    pub numel: u64,
    /// Elements in the root storage (the record, or the legacy storage section entry).
    pub root_numel: u64,
    /// Legacy format only: the storage is a view of the root storage from this element on.
    pub view_offset: u64,
}

/// A tensor as `_rebuild_tensor_v2` describes it.
#[derive(Clone, Debug)]
pub(crate) struct TensorRef {
    pub storage: StorageRef,
    pub offset: u64,
    pub size: Vec<u64>,
    pub stride: Vec<u64>,
}

/// Which persistent-id layout to expect.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `('storage', type, key, location, numel)`
    Zip,
    /// `('storage', type, root_key, location, numel, view_metadata)`
    Legacy,
}

/// Reads the unpickled graph: the state_dict's keys and tensors, in file order.
pub(crate) struct Reader<'a> {
    pub arena: &'a Arena,
    pub path: &'a str,
    pub layout: Layout,
}

impl Reader<'_> {
    /// The state_dict at `root`, or nested under one of [`NESTED_KEYS`].
    pub(crate) fn state_dict(&self, root: Id) -> Result<Vec<(String, TensorRef)>> {
        let mut at = root;
        let mut trail = String::from("the file");
        for _ in 0..MAX_NESTING {
            let items = match self.arena.get(at) {
                Object::Dict(items) => self.dict_items(items)?,
                Object::Call { .. } => {
                    return Err(self.not_state_dict(format!(
                        "{trail} holds a single tensor, not a state_dict"
                    )));
                }
                other => {
                    return Err(self.not_state_dict(format!(
                        "{trail} holds a {}, not a state_dict (a dict of tensors)",
                        other.kind()
                    )));
                }
            };
            let tensors = items.iter().filter(|(_, v)| self.is_tensor(*v)).count();
            if tensors == items.len() {
                return items
                    .into_iter()
                    .map(|(k, v)| {
                        let t = self.tensor(&k, v, 0)?;
                        Ok((k, t))
                    })
                    .collect();
            }
            let nested = NESTED_KEYS.iter().find_map(|name| {
                items
                    .iter()
                    .find(|(k, v)| k == name && matches!(self.arena.get(*v), Object::Dict(_)))
            });
            match nested {
                Some((k, v)) => {
                    trail = format!("{trail}[{k:?}]");
                    at = *v;
                }
                None => {
                    let keys: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).take(12).collect();
                    let first_other = items
                        .iter()
                        .find(|(_, v)| !self.is_tensor(*v))
                        .map(|(k, v)| format!("{k:?} is a {}", self.arena.get(*v).kind()))
                        .unwrap_or_default();
                    return Err(self.not_state_dict(format!(
                        "{trail} is a dict but not a state_dict ({first_other}; keys {keys:?}); \
                         a state_dict nested under one of {NESTED_KEYS:?} would be found"
                    )));
                }
            }
        }
        Err(self.not_state_dict(format!("{trail}: state_dict nested too deep")))
    }

    /// A dict's items with string keys; a repeated key keeps its first place and last value,
    /// as a Python dict does.
    fn dict_items(&self, items: &[(Id, Id)]) -> Result<Vec<(String, Id)>> {
        let mut out: Vec<(String, Id)> = Vec::with_capacity(items.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for &(k, v) in items {
            let key = match self.arena.get(k) {
                Object::Str(s) => s.clone(),
                Object::Int(i) => i.to_string(),
                other => {
                    return Err(self.not_state_dict(format!(
                        "a dict key is a {}, not a string",
                        other.kind()
                    )));
                }
            };
            match seen.get(&key) {
                Some(&i) => out[i].1 = v,
                None => {
                    seen.insert(key.clone(), out.len());
                    out.push((key, v));
                }
            }
        }
        Ok(out)
    }

    fn is_tensor(&self, id: Id) -> bool {
        matches!(
            self.arena.get(id),
            Object::Call {
                func: Global::RebuildTensorV2
                    | Global::RebuildTensor
                    | Global::RebuildParameter
                    | Global::RebuildParameterWithState
                    | Global::RebuildFromTypeV2,
                ..
            }
        )
    }

    /// The tensor `key` at `id`: a rebuild call, possibly wrapped in a Parameter.
    fn tensor(&self, key: &str, id: Id, depth: usize) -> Result<TensorRef> {
        let Object::Call { func, args } = self.arena.get(id) else {
            let what = self.arena.get(id).kind();
            return Err(PthError::tensor(self.path, key, format!("is a {what}")));
        };
        self.rebuild(key, *func, *args, depth)
    }

    /// `func(*args)` for a function torch rebuilds tensors with.
    fn rebuild(&self, key: &str, func: Global, args: Id, depth: usize) -> Result<TensorRef> {
        let bad = |m: String| PthError::tensor(self.path, key, m);
        if depth > 4 {
            return Err(bad("tensor wrapped too deep".into()));
        }
        let args = self
            .tuple(args)
            .ok_or_else(|| bad("arguments not a tuple".into()))?;
        match func {
            Global::RebuildTensorV2 | Global::RebuildTensor => {
                let [storage, offset, size, stride, ..] = args else {
                    return Err(bad(format!(
                        "_rebuild_tensor with {} arguments (4 or more expected)",
                        args.len()
                    )));
                };
                let storage = self.storage(key, *storage)?;
                let offset = self
                    .uint(*offset)
                    .ok_or_else(|| bad("bad storage offset".into()))?;
                let size = self.uints(*size).ok_or_else(|| bad("bad size".into()))?;
                let stride = self
                    .uints(*stride)
                    .ok_or_else(|| bad("bad stride".into()))?;
                if size.len() != stride.len() {
                    return Err(bad(format!(
                        "size {size:?} and stride {stride:?} differ in length"
                    )));
                }
                Ok(TensorRef {
                    storage,
                    offset,
                    size,
                    stride,
                })
            }
            Global::RebuildParameter | Global::RebuildParameterWithState => {
                let data = args.first().ok_or_else(|| bad("empty Parameter".into()))?;
                self.tensor(key, *data, depth + 1)
            }
            Global::RebuildFromTypeV2 => {
                // (func, type, args, state): a Tensor or Parameter subclass wrapper
                let [func, class, inner, ..] = args else {
                    return Err(bad("_rebuild_from_type_v2 with too few arguments".into()));
                };
                if !matches!(self.arena.get(*class), Object::Global(Global::TensorClass)) {
                    return Err(bad(
                        "tensor of a subclass other than Tensor or Parameter".into()
                    ));
                }
                let Object::Global(inner_func) = self.arena.get(*func) else {
                    return Err(bad("_rebuild_from_type_v2 of a non-function".into()));
                };
                self.rebuild(key, *inner_func, *inner, depth + 1)
            }
            other => Err(bad(format!("built by {other:?}, not a tensor"))),
        }
    }

    /// Every storage any persistent id in the file names, by key: (dtype, elements). The
    /// legacy format's storage section lists them all, including those of tensors outside the
    /// state_dict, and each one's size is needed to step over it.
    pub(crate) fn all_storages(&self) -> Result<HashMap<String, (DType, u64)>> {
        let mut out: HashMap<String, (DType, u64)> = HashMap::new();
        for id in self.arena.ids() {
            if let Object::Persistent(_) = self.arena.get(id) {
                let s = self.storage("(a storage)", id)?;
                let entry = out.entry(s.key.clone()).or_insert((s.dtype, s.root_numel));
                if *entry != (s.dtype, s.root_numel) {
                    return Err(PthError::container(
                        self.path,
                        format!(
                            "storage {:?} is named as {:?} × {} and as {:?} × {}",
                            s.key, entry.0, entry.1, s.dtype, s.root_numel
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The storage a persistent id names.
    fn storage(&self, key: &str, id: Id) -> Result<StorageRef> {
        let bad = |m: String| PthError::tensor(self.path, key, m);
        let Object::Persistent(pid) = self.arena.get(id) else {
            return Err(bad(format!(
                "storage is a {}, not a persistent id",
                self.arena.get(id).kind()
            )));
        };
        let items = self
            .tuple(*pid)
            .ok_or_else(|| bad("persistent id is not a tuple".into()))?;
        match items.first().map(|&t| self.arena.get(t)) {
            Some(Object::Str(s)) if s == "storage" => {}
            Some(Object::Str(s)) if s == "module" => {
                return Err(PthError::NotStateDict {
                    path: self.path.to_string(),
                    message: "the file holds a whole pickled nn.Module, not a state_dict: \
                              save model.state_dict() instead"
                        .into(),
                });
            }
            _ => return Err(bad("persistent id is not ('storage', ...)".into())),
        }
        let (class, root_key, numel, view) = match (self.layout, items) {
            (Layout::Zip, [_, class, key, _location, numel]) => (class, key, numel, None),
            (Layout::Legacy, [_, class, key, _location, numel, view]) => {
                (class, key, numel, Some(view))
            }
            _ => {
                return Err(bad(format!(
                    "persistent id with {} fields, not as torch writes them",
                    items.len()
                )));
            }
        };
        let dtype = match self.arena.get(*class) {
            Object::Global(Global::TypedStorage(d)) => *d,
            Object::Global(Global::UntypedStorage) => DType::U8,
            other => return Err(bad(format!("storage type is a {}", other.kind()))),
        };
        let root_key = self
            .text(*root_key)
            .ok_or_else(|| bad("storage key is not a string".into()))?;
        let numel = self
            .uint(*numel)
            .ok_or_else(|| bad("storage size is not a count".into()))?;
        let mut storage = StorageRef {
            dtype,
            key: root_key,
            numel,
            root_numel: numel,
            view_offset: 0,
        };
        if let Some(view) = view
            && !matches!(self.arena.get(*view), Object::None)
        {
            // (view_key, offset, view_size), in elements of the root storage
            let parts = self.tuple(*view).unwrap_or(&[]);
            let [_view_key, offset, size] = parts else {
                return Err(bad("storage view is not (key, offset, size)".into()));
            };
            let (Some(offset), Some(size)) = (self.uint(*offset), self.uint(*size)) else {
                return Err(bad("storage view offset or size is not a count".into()));
            };
            let end = offset.checked_add(size);
            if end.is_none_or(|end| end > numel) {
                return Err(bad(format!(
                    "storage view [{offset}, +{size}) outside its storage of {numel} elements"
                )));
            }
            storage.view_offset = offset;
            storage.numel = size;
        }
        Ok(storage)
    }

    fn tuple(&self, id: Id) -> Option<&[Id]> {
        match self.arena.get(id) {
            Object::Tuple(items) => Some(items),
            _ => None,
        }
    }

    fn uint(&self, id: Id) -> Option<u64> {
        match self.arena.get(id) {
            Object::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    fn uints(&self, id: Id) -> Option<Vec<u64>> {
        self.tuple(id)?.iter().map(|&i| self.uint(i)).collect()
    }

    fn text(&self, id: Id) -> Option<String> {
        match self.arena.get(id) {
            Object::Str(s) => Some(s.clone()),
            Object::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    fn not_state_dict(&self, message: String) -> PthError {
        PthError::NotStateDict {
            path: self.path.to_string(),
            message,
        }
    }
}

/// A storage's elements, converted to f32 once, shared by the tensors that view it.
pub(crate) struct LoadedStorage {
    pub dtype: DType,
    pub values: Vec<f32>,
}

/// Tensors may together expand to at most this many times the elements stored (stride-0
/// broadcasts and shared storages make more than stored; a damaged file must not make an
/// unbounded allocation out of a few bytes).
const MAX_EXPANSION: u64 = 16;

/// Builds every tensor from its storage: checks that the storage holds every element the
/// shape and strides reach, converts to f32, gathers strided tensors into row-major order.
pub(crate) fn materialize(
    path: &str,
    tensors: Vec<(String, TensorRef)>,
    storages: &HashMap<String, LoadedStorage>,
) -> Result<Vec<(String, Tensor)>> {
    let stored: u64 = storages.values().map(|s| s.values.len() as u64).sum();
    let budget = stored.saturating_mul(MAX_EXPANSION).max(1 << 20);
    let mut produced: u64 = 0;
    let mut out = Vec::with_capacity(tensors.len());
    for (key, t) in tensors {
        let bad = |m: String| PthError::tensor(path, &key, m);
        let storage = storages
            .get(&t.storage.key)
            .ok_or_else(|| bad(format!("storage {:?} was not read", t.storage.key)))?;
        if storage.dtype != t.storage.dtype {
            return Err(bad(format!(
                "storage {:?} is used as both {:?} and {:?}",
                t.storage.key, storage.dtype, t.storage.dtype
            )));
        }
        let count = t
            .size
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(format!("size {:?} overflows", t.size)))?;
        produced = produced.saturating_add(count);
        if produced > budget {
            return Err(bad(format!(
                "tensors expand to more than {MAX_EXPANSION} times the {stored} elements the \
                 file stores (size {:?}, stride {:?})",
                t.size, t.stride
            )));
        }
        // the furthest element reached: offset + sum (size - 1) * stride
        let last = if count == 0 {
            None
        } else {
            t.size
                .iter()
                .zip(&t.stride)
                .try_fold(t.offset, |acc, (&n, &s)| {
                    (n - 1).checked_mul(s).and_then(|x| acc.checked_add(x))
                })
                .map(Some)
                .ok_or_else(|| bad("strides overflow".into()))?
        };
        let base = t.storage.view_offset;
        if let Some(last) = last
            && (last >= t.storage.numel || base + last >= storage.values.len() as u64)
        {
            return Err(bad(format!(
                "storage {:?} holds {} elements, too few for size {:?}, stride {:?} at offset \
                 {} (element {last} needed)",
                t.storage.key, t.storage.numel, t.size, t.stride, t.offset
            )));
        }
        let values = gather(&storage.values, base + t.offset, &t.size, &t.stride, count);
        let shape = t.size.iter().map(|&d| d as usize).collect();
        out.push((key, Tensor::new(shape, t.storage.dtype, values)));
    }
    Ok(out)
}

/// The elements of a strided view, row-major. Bounds were checked by the caller.
fn gather(src: &[f32], offset: u64, size: &[u64], stride: &[u64], count: u64) -> Vec<f32> {
    let offset = offset as usize;
    if count == 0 {
        return Vec::new();
    }
    let contiguous = {
        let mut expected = 1u64;
        let mut ok = true;
        for (&n, &s) in size.iter().zip(stride).rev() {
            if n != 1 && s != expected {
                ok = false;
                break;
            }
            expected *= n;
        }
        ok
    };
    if contiguous {
        return src[offset..offset + count as usize].to_vec();
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut index = vec![0u64; size.len()];
    let mut at = offset;
    for _ in 0..count {
        out.push(src[at]);
        // odometer increment, last dimension fastest
        // (wrapping: past the last element the position is never read)
        for d in (0..size.len()).rev() {
            index[d] += 1;
            at = at.wrapping_add(stride[d] as usize);
            if index[d] < size[d] {
                break;
            }
            at = at.wrapping_sub((stride[d] as usize).wrapping_mul(size[d] as usize));
            index[d] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::gather;

    #[test]
    fn gathers_transposed_and_broadcast_views() {
        let src: Vec<f32> = (0..6).map(|i| i as f32).collect();
        // a 2x3 matrix read as its 3x2 transpose
        assert_eq!(
            gather(&src, 0, &[3, 2], &[1, 3], 6),
            [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        );
        // row 1 broadcast to 2 rows (stride 0), from offset 3
        assert_eq!(
            gather(&src, 3, &[2, 3], &[0, 1], 6),
            [3.0, 4.0, 5.0, 3.0, 4.0, 5.0]
        );
        assert_eq!(gather(&src, 2, &[2, 1], &[2, 7], 2), [2.0, 4.0]);
    }
}
