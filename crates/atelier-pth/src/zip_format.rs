//! torch's zip format (torch.save since 1.6): `NAME/data.pkl` (protocol-2 pickle whose
//! persistent ids are `('storage', FloatStorage, key, location, numel)`), and each storage's
//! little-endian bytes in the record `NAME/data/KEY`, stored uncompressed.

use std::collections::HashMap;
use std::io::{Read, Seek};

use zip::ZipArchive;

use crate::error::{PthError, Result};
use crate::pickle::{Arena, Input, Unpickler};
use crate::read::{self, Keep};
use crate::state_dict::{Format, StateDict};
use crate::torch::{Layout, Reader};

pub(crate) fn read<R: Read + Seek>(
    reader: R,
    len: u64,
    path: &str,
    keep: Keep<'_>,
) -> Result<StateDict> {
    let mut zip = ZipArchive::new(reader)
        .map_err(|e| PthError::container(path, format!("not a readable zip archive: {e}")))?;
    let pkl = (0..zip.len())
        .filter_map(|i| zip.name_for_index(i))
        .find(|n| n.ends_with("data.pkl") && n.matches('/').count() <= 1)
        .map(str::to_string)
        .ok_or_else(|| {
            PthError::container(
                path,
                "zip archive without data.pkl: not a torch.save file".to_string(),
            )
        })?;
    let prefix = pkl
        .strip_suffix("data.pkl")
        .expect("ends with it")
        .to_string();

    let pickle = record(&mut zip, &pkl, None, len, path)?;
    let mut arena = Arena::default();
    let mut input = Input::new(pickle.as_slice(), pickle.len() as u64);
    let root = Unpickler::new(&mut arena)
        .load(&mut input)
        .map_err(|e| read::pickle_error(path, "data.pkl", e))?;
    let reader = Reader {
        arena: &arena,
        path,
        layout: Layout::Zip,
    };
    let (tensors, needed) = read::select(reader.state_dict(root)?, keep);

    let mut storages = HashMap::new();
    for (key, t) in &needed {
        let nbytes = t
            .storage
            .root_numel
            .checked_mul(t.storage.dtype.size() as u64)
            .ok_or_else(|| PthError::container(path, format!("storage {key:?} size overflows")))?;
        let name = format!("{prefix}data/{key}");
        let bytes = record(&mut zip, &name, Some(nbytes), len, path)?;
        storages.insert(key.clone(), read::convert(path, t, &bytes)?);
    }
    read::finish(path, Format::TorchZip, tensors, &storages)
}

/// A record's bytes: all of it, or its first `want` bytes (an error when it has fewer).
/// Sizes are checked against the archive's length before anything is allocated.
fn record<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    name: &str,
    want: Option<u64>,
    archive_len: u64,
    path: &str,
) -> Result<Vec<u8>> {
    let bad = |m: String| PthError::container(path, format!("{name}: {m}"));
    let mut file = zip.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => bad("missing from the archive".into()),
        e => bad(e.to_string()),
    })?;
    // torch stores records uncompressed (this build of zip reads no other method)
    if file.compression() != zip::CompressionMethod::Stored {
        return Err(bad(format!(
            "compressed with {:?}; torch.save stores records uncompressed",
            file.compression()
        )));
    }
    let possible = file.compressed_size().min(archive_len);
    let size = file.size();
    let take = want.unwrap_or(size);
    if take > size || take > possible {
        return Err(bad(format!(
            "{take} bytes needed, the record holds {} (truncated or damaged)",
            size.min(possible)
        )));
    }
    let mut buf = vec![0; take as usize];
    file.read_exact(&mut buf)
        .map_err(|e| bad(format!("reading {take} bytes: {e} (truncated?)")))?;
    Ok(buf)
}
