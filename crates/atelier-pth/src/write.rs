//! Writing a state_dict as torch.save does today: a zip archive (entries stored, aligned to
//! 64 bytes) holding `NAME/data.pkl`, a protocol-2 pickle of an `OrderedDict` whose values are
//! `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())` with
//! persistent ids `('storage', torch.FloatStorage, 'i', 'cpu', numel)`, and each tensor's
//! little-endian bytes in `NAME/data/i`. `torch.load(f, weights_only=True)` accepts it: it
//! names no global beyond the ones its safe unpickler allows.

use std::io::{Seek, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::dtype::DType;
use crate::error::{PthError, Result};
use crate::state_dict::Tensor;

/// Writes `tensors` to `path` as a zip-format .pth state_dict, through a temporary file of
/// this process beside it, synced, then renamed over `path`, so a crash never leaves half a
/// file under the real name (a failed write removes its temporary file).
pub fn save(path: impl AsRef<Path>, tensors: &[(String, Tensor)]) -> Result<()> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let io = |e| PthError::io(&shown, e);
    let tmp = atelier_fs::temp_path(path);
    let written = (|| {
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let file = write_to(file, &archive_name(path), tensors, &shown)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The same file in memory (for tests and round trips).
pub fn to_bytes(tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let out = write_to(
        std::io::Cursor::new(Vec::new()),
        "archive",
        tensors,
        "<memory>",
    )?;
    Ok(out.into_inner())
}

fn write_to<W: Write + Seek>(
    out: W,
    archive: &str,
    tensors: &[(String, Tensor)],
    shown: &str,
) -> Result<W> {
    let zip_err = |e: zip::result::ZipError| PthError::container(shown, format!("writing: {e}"));
    let io = |e| PthError::io(shown, e);
    let large = tensors
        .iter()
        .any(|(_, t)| t.values.len() * t.dtype.size() > u32::MAX as usize);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .with_alignment(64)
        .large_file(large);
    let mut zip = ZipWriter::new(out);
    let file = |name: &str, bytes: &[u8], zip: &mut ZipWriter<W>| -> Result<()> {
        zip.start_file(format!("{archive}/{name}"), options)
            .map_err(zip_err)?;
        zip.write_all(bytes).map_err(io)
    };
    file("data.pkl", &pickle(tensors), &mut zip)?;
    file(".format_version", b"1", &mut zip)?;
    file(".storage_alignment", b"64", &mut zip)?;
    file("byteorder", b"little", &mut zip)?;
    for (i, (_, t)) in tensors.iter().enumerate() {
        file(&format!("data/{i}"), &t.dtype.encode(&t.values), &mut zip)?;
    }
    file("version", b"3\n", &mut zip)?;
    zip.finish().map_err(zip_err)
}

/// The archive's top folder: torch uses the file's stem.
fn archive_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let simple = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if simple {
        stem.to_string()
    } else {
        "archive".to_string()
    }
}

/// data.pkl: `OrderedDict([(key, _rebuild_tensor_v2(...)), ...])`, pickle protocol 2.
fn pickle(tensors: &[(String, Tensor)]) -> Vec<u8> {
    let mut p = PickleWriter::default();
    p.proto(2);
    let ordered_dict = p.global("collections", "OrderedDict");
    p.op(EMPTY_TUPLE);
    p.op(REDUCE);
    p.memoize();
    p.op(MARK);
    let mut rebuild = None;
    let mut storage_classes: Vec<(DType, u32)> = Vec::new();
    for (i, (key, t)) in tensors.iter().enumerate() {
        p.str(key);
        match rebuild {
            Some(m) => p.get(m),
            None => rebuild = Some(p.global("torch._utils", "_rebuild_tensor_v2")),
        }
        p.op(MARK);
        // the persistent id: ('storage', torch.FloatStorage, 'i', 'cpu', numel)
        p.op(MARK);
        p.str("storage");
        match storage_classes.iter().find(|(d, _)| *d == t.dtype) {
            Some(&(_, m)) => p.get(m),
            None => {
                let m = p.global("torch", t.dtype.storage_class());
                storage_classes.push((t.dtype, m));
            }
        }
        p.str(&i.to_string());
        p.str("cpu");
        p.int(t.values.len() as u64);
        p.op(TUPLE);
        p.op(BINPERSID);
        p.int(0);
        p.tuple_of(&t.shape);
        p.tuple_of(&contiguous_strides(&t.shape));
        p.op(NEWFALSE);
        p.get(ordered_dict);
        p.op(EMPTY_TUPLE);
        p.op(REDUCE);
        p.op(TUPLE);
        p.op(REDUCE);
    }
    p.op(SETITEMS);
    p.op(STOP);
    p.out
}

fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strides
}

const MARK: u8 = b'(';
const STOP: u8 = b'.';
const TUPLE: u8 = b't';
const EMPTY_TUPLE: u8 = b')';
const SETITEMS: u8 = b'u';
const REDUCE: u8 = b'R';
const BINPERSID: u8 = b'Q';
const NEWFALSE: u8 = 0x89;

/// The few opcodes the state_dict pickle needs, memoising as Python's pickler does.
#[derive(Default)]
struct PickleWriter {
    out: Vec<u8>,
    memo: u32,
}

impl PickleWriter {
    fn op(&mut self, op: u8) {
        self.out.push(op);
    }

    fn proto(&mut self, version: u8) {
        self.out.extend([0x80, version]);
    }

    /// `module.name`, memoised; returns its memo index.
    fn global(&mut self, module: &str, name: &str) -> u32 {
        self.out.push(b'c');
        self.out.extend(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend(name.as_bytes());
        self.out.push(b'\n');
        self.memoize()
    }

    fn memoize(&mut self) -> u32 {
        let i = self.memo;
        if i < 256 {
            self.out.extend([b'q', i as u8]); // BINPUT
        } else {
            self.out.push(b'r'); // LONG_BINPUT
            self.out.extend(i.to_le_bytes());
        }
        self.memo += 1;
        i
    }

    fn get(&mut self, i: u32) {
        if i < 256 {
            self.out.extend([b'h', i as u8]); // BINGET
        } else {
            self.out.push(b'j'); // LONG_BINGET
            self.out.extend(i.to_le_bytes());
        }
    }

    fn str(&mut self, s: &str) {
        self.out.push(b'X'); // BINUNICODE
        self.out.extend((s.len() as u32).to_le_bytes());
        self.out.extend(s.as_bytes());
    }

    fn int(&mut self, v: u64) {
        if v < 256 {
            self.out.extend([b'K', v as u8]); // BININT1
        } else if v < 65536 {
            self.out.push(b'M'); // BININT2
            self.out.extend((v as u16).to_le_bytes());
        } else if v < (1 << 31) {
            self.out.push(b'J'); // BININT
            self.out.extend((v as i32).to_le_bytes());
        } else {
            self.out.extend([0x8a, 8]); // LONG1, 8 bytes
            self.out.extend(v.to_le_bytes());
        }
    }

    fn tuple_of(&mut self, values: &[usize]) {
        self.op(MARK);
        for &v in values {
            self.int(v as u64);
        }
        self.op(TUPLE);
    }
}
