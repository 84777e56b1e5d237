//! Damaged and hostile files: each gives an error that names the file and what is wrong (the
//! key, the record, the offset), never a panic. The pickles are written out by hand, opcode by
//! opcode, as torch writes them.

use std::io::Write;

use atelier_pth::PthError;
use zip::write::SimpleFileOptions;

/// A zip archive of `files` (stored, as torch writes them).
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn binunicode(s: &str) -> Vec<u8> {
    let mut v = vec![b'X'];
    v.extend((s.len() as u32).to_le_bytes());
    v.extend(s.as_bytes());
    v
}

fn int_tuple(values: &[u8]) -> Vec<u8> {
    let mut v = vec![b'('];
    for &x in values {
        v.extend([b'K', x]);
    }
    v.push(b't');
    v
}

/// data.pkl of `{"w": _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel),
/// offset, size, stride, False, OrderedDict())}`.
fn one_tensor_pickle(numel: u8, offset: u8, size: &[u8], stride: &[u8]) -> Vec<u8> {
    let mut p = b"\x80\x02ccollections\nOrderedDict\n)R(".to_vec();
    p.extend(binunicode("w"));
    p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n((");
    p.extend(binunicode("storage"));
    p.extend(b"ctorch\nFloatStorage\n");
    p.extend(binunicode("0"));
    p.extend(binunicode("cpu"));
    p.extend([b'K', numel, b't', b'Q', b'K', offset]);
    p.extend(int_tuple(size));
    p.extend(int_tuple(stride));
    p.extend(b"\x89ccollections\nOrderedDict\n)RtRu.");
    p
}

fn floats(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect()
}

fn load(bytes: &[u8]) -> Result<atelier_pth::StateDict, PthError> {
    atelier_pth::load_bytes(bytes, "model.pth")
}

#[test]
fn a_hand_written_tensor_file_loads_with_its_strides() {
    // a 2x2 view with row stride 3 into 6 stored floats, from offset 1: [1, 2, 4, 5]
    let file = zip_of(&[
        ("m/data.pkl", &one_tensor_pickle(6, 1, &[2, 2], &[3, 1])),
        ("m/data/0", &floats(6)),
    ]);
    let sd = load(&file).unwrap();
    assert_eq!(sd.get("w").unwrap().values, [1.0, 2.0, 4.0, 5.0]);
}

#[test]
fn a_storage_too_short_for_shape_and_strides_names_the_key() {
    for (numel, offset, size, stride) in [
        (4, 0, &[10u8][..], &[1u8][..]),
        (4, 2, &[3], &[1]),
        (5, 0, &[2, 2], &[4, 1]),
    ] {
        let file = zip_of(&[
            (
                "m/data.pkl",
                &one_tensor_pickle(numel, offset, size, stride),
            ),
            ("m/data/0", &floats(numel as usize)),
        ]);
        match load(&file).unwrap_err() {
            PthError::Tensor { path, key, message } => {
                assert_eq!((path.as_str(), key.as_str()), ("model.pth", "w"));
                assert!(message.contains("too few"), "{message}");
            }
            other => panic!("{other}"),
        }
    }
}

#[test]
fn a_record_shorter_than_its_storage_or_missing_names_the_record() {
    let short = zip_of(&[
        ("m/data.pkl", &one_tensor_pickle(4, 0, &[4], &[1])),
        ("m/data/0", &floats(2)),
    ]);
    let message = load(&short).unwrap_err().to_string();
    assert!(
        message.contains("m/data/0") && message.contains("16 bytes needed"),
        "{message}"
    );
    let missing = zip_of(&[("m/data.pkl", &one_tensor_pickle(4, 0, &[4], &[1]))]);
    let message = load(&missing).unwrap_err().to_string();
    assert!(
        message.contains("m/data/0") && message.contains("missing"),
        "{message}"
    );
}

#[test]
fn a_zip_without_data_pkl_is_not_a_torch_file() {
    let file = zip_of(&[("m/version", b"3\n")]);
    let message = load(&file).unwrap_err().to_string();
    assert!(
        message.contains("model.pth") && message.contains("data.pkl"),
        "{message}"
    );
}

#[test]
fn unknown_opcodes_are_named_with_their_offset() {
    for (pickle, name, offset) in [
        (&b"\x80\x02\x8f."[..], "EMPTY_SET", 2),
        (b"\x80\x02}\xff.", "unknown", 3),
    ] {
        let file = zip_of(&[("m/data.pkl", pickle)]);
        match load(&file).unwrap_err() {
            PthError::Opcode {
                name: n, offset: o, ..
            } => assert_eq!((n, o), (name, offset)),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn a_pickle_that_is_not_a_state_dict_says_what_it_is() {
    let list = zip_of(&[("m/data.pkl", b"\x80\x02]q\x00.")]);
    let message = load(&list).unwrap_err().to_string();
    assert!(message.contains("list"), "{message}");
    // a dict of non-tensors with no nested state_dict lists its keys
    let mut p = b"\x80\x02}(".to_vec();
    p.extend(binunicode("epoch"));
    p.extend(b"K\x03u.");
    let message = load(&zip_of(&[("m/data.pkl", &p)]))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("epoch") && message.contains("state_dict"),
        "{message}"
    );
}

#[test]
fn bytes_that_are_no_weights_file_say_so() {
    for bytes in [&b""[..], b"hello, world", b"\x80\x02K\x01."] {
        assert!(matches!(
            load(bytes).unwrap_err(),
            PthError::UnknownFormat { .. }
        ));
    }
}
