//! What both torch formats share once their pickle is read: picking the tensors asked for,
//! reading only the storages they use, and building the [`StateDict`].

use std::collections::HashMap;

use crate::error::{Part, PthError, Result};
use crate::pickle::{Fault, PickleError};
use crate::state_dict::{Format, StateDict};
use crate::torch::{self, LoadedStorage, TensorRef};

/// Which keys to read (the others' storages are never converted).
pub type Keep<'a> = &'a dyn Fn(&str) -> bool;

/// The tensors `keep` selects, and the storages they need: key → (dtype, elements).
pub(crate) fn select(
    tensors: Vec<(String, TensorRef)>,
    keep: Keep<'_>,
) -> (Vec<(String, TensorRef)>, HashMap<String, TensorRef>) {
    let tensors: Vec<_> = tensors.into_iter().filter(|(k, _)| keep(k)).collect();
    let mut needed = HashMap::new();
    for (_, t) in &tensors {
        needed
            .entry(t.storage.key.clone())
            .or_insert_with(|| t.clone());
    }
    (tensors, needed)
}

/// Converts a storage's bytes, which must hold `numel` elements of `t`'s dtype.
pub(crate) fn convert(path: &str, t: &TensorRef, bytes: &[u8]) -> Result<LoadedStorage> {
    let dtype = t.storage.dtype;
    let need = t.storage.root_numel.saturating_mul(dtype.size() as u64);
    if (bytes.len() as u64) < need {
        return Err(PthError::container(
            path,
            format!(
                "storage {:?} has {} bytes, {need} expected ({} × {dtype:?})",
                t.storage.key,
                bytes.len(),
                t.storage.root_numel
            ),
        ));
    }
    Ok(LoadedStorage {
        dtype,
        values: dtype.to_f32(&bytes[..need as usize]),
    })
}

pub(crate) fn finish(
    path: &str,
    format: Format,
    tensors: Vec<(String, TensorRef)>,
    storages: &HashMap<String, LoadedStorage>,
) -> Result<StateDict> {
    let mut sd = StateDict::new(path, format);
    for (k, t) in torch::materialize(path, tensors, storages)? {
        sd.insert(k, t);
    }
    Ok(sd)
}

/// A pickle error with the file and the part of it it happened in.
pub(crate) fn pickle_error(path: &str, part: Part, e: PickleError) -> PthError {
    let (path, offset) = (path.to_string(), e.offset);
    match e.fault {
        Fault::Truncated => PthError::Pickle {
            path,
            part,
            offset,
            message: "the file ends inside the pickle (truncated?)".into(),
        },
        Fault::Io(error) => PthError::Io { path, error },
        Fault::Malformed(message) => PthError::Pickle {
            path,
            part,
            offset,
            message,
        },
        Fault::Opcode(opcode, name) => PthError::Opcode {
            path,
            part,
            offset,
            opcode,
            name,
        },
        Fault::Global { module, name } => PthError::Global {
            path,
            part,
            offset,
            module,
            name,
        },
    }
}
