//! torch's legacy format (torch.save before 1.6, or `_use_new_zipfile_serialization=False`):
//! five pickles in a row, then the storages:
//!
//! - the magic number 0x1950a86a20f9469cfc6c;
//! - the protocol version, 1001;
//! - sys_info, a dict (`little_endian`, type sizes);
//! - the object itself, whose persistent ids are
//!   `('storage', FloatStorage, root_key, location, numel, view_metadata)`;
//! - the list of storage keys, in the order their bytes follow;
//!
//! then for each key an int64 element count and that many little-endian elements.

use std::collections::HashMap;
use std::io::{Read, Seek};

use crate::error::{PthError, Result};
use crate::pickle::{Arena, Input, Object, Unpickler};
use crate::read::{self, Keep};
use crate::state_dict::{Format, StateDict};
use crate::torch::{Layout, Reader};

/// The magic number as LONG1 stores it (little-endian).
pub(crate) const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const PROTOCOL_VERSION: i64 = 1001;

pub(crate) fn read<R: Read + Seek>(
    reader: R,
    len: u64,
    path: &str,
    keep: Keep<'_>,
) -> Result<StateDict> {
    let mut input = Input::new(reader, len);
    let mut arena = Arena::default();
    let [magic, version, sys_info, root, keys] = {
        let mut unpickler = Unpickler::new(&mut arena);
        let mut next = |part| {
            unpickler
                .load(&mut input)
                .map_err(|e| read::pickle_error(path, part, e))
        };
        [
            next("the magic number (legacy format)")?,
            next("the protocol version (legacy format)")?,
            next("sys_info (legacy format)")?,
            next("the main pickle (legacy format)")?,
            next("the storage keys (legacy format)")?,
        ]
    };
    let storage_section = input.pos();

    if *arena.get(magic) != Object::BigInt(MAGIC.to_vec()) {
        return Err(PthError::container(path, "wrong legacy magic number"));
    }
    if *arena.get(version) != Object::Int(PROTOCOL_VERSION) {
        return Err(PthError::container(
            path,
            format!(
                "legacy protocol version {:?}, 1001 expected",
                arena.get(version)
            ),
        ));
    }
    check_little_endian(&arena, sys_info, path)?;
    let Object::List(key_ids) = arena.get(keys) else {
        return Err(PthError::container(
            path,
            "the storage key list is not a list",
        ));
    };
    let order: Vec<String> = key_ids
        .iter()
        .map(|&k| match arena.get(k) {
            Object::Str(s) => Ok(s.clone()),
            other => Err(PthError::container(
                path,
                format!("a storage key is a {}", other.kind()),
            )),
        })
        .collect::<Result<_>>()?;

    let reader = Reader {
        arena: &arena,
        path,
        layout: Layout::Legacy,
    };
    let all = reader.all_storages()?;
    let (tensors, needed) = read::select(reader.state_dict(root)?, keep);

    let mut storages = HashMap::new();
    for key in &order {
        let at = input.pos();
        let &(dtype, numel) = all.get(key).ok_or_else(|| {
            PthError::container(
                path,
                format!("byte {at}: storage {key:?} is not used by the pickle"),
            )
        })?;
        let count = i64::from_le_bytes(input.array().map_err(|_| truncated(path, key, at))?);
        if count < 0 || count as u64 != numel {
            return Err(PthError::container(
                path,
                format!("byte {at}: storage {key:?} has {count} elements, the pickle says {numel}"),
            ));
        }
        let nbytes = numel
            .checked_mul(dtype.size() as u64)
            .filter(|&n| n <= input.remaining())
            .ok_or_else(|| truncated(path, key, at))?;
        match needed.get(key) {
            Some(t) => {
                let bytes = input.bytes(nbytes).map_err(|_| truncated(path, key, at))?;
                storages.insert(key.clone(), read::convert(path, t, &bytes)?);
            }
            None => input.skip(nbytes).map_err(|_| truncated(path, key, at))?,
        }
    }
    if let Some(missing) = needed.keys().find(|k| !storages.contains_key(*k)) {
        return Err(PthError::container(
            path,
            format!(
                "storage {missing:?} is missing from the storage section (byte {storage_section} on)"
            ),
        ));
    }
    read::finish(path, Format::TorchLegacy, tensors, &storages)
}

fn truncated(path: &str, key: &str, at: u64) -> PthError {
    PthError::container(
        path,
        format!("byte {at}: the file ends inside storage {key:?} (truncated?)"),
    )
}

/// sys_info's `little_endian` must be true: storages are read as little-endian.
fn check_little_endian(arena: &Arena, sys_info: usize, path: &str) -> Result<()> {
    let Object::Dict(items) = arena.get(sys_info) else {
        return Err(PthError::container(path, "legacy sys_info is not a dict"));
    };
    for &(k, v) in items {
        if *arena.get(k) == Object::Str("little_endian".into())
            && *arena.get(v) == Object::Bool(false)
        {
            return Err(PthError::container(
                path,
                "saved on a big-endian machine: not supported",
            ));
        }
    }
    Ok(())
}
