mod common;

use std::io::Write;

use atelier_data::{Error, Idx, ImageSet, open_dataset};
use common::{TempDir, assert_unit_range};

/// An IDX image file: `count` images of rows × cols, pixel (k, y, x) = (k * 7 + y * 3 + x) % 256.
fn idx_bytes(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [0x0000_0803, count, rows, cols] {
        bytes.extend(u32::to_be_bytes(word));
    }
    for k in 0..count {
        for y in 0..rows {
            for x in 0..cols {
                bytes.push(((k * 7 + y * 3 + x) % 256) as u8);
            }
        }
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn check_round_trip(set: &Idx) {
    assert_eq!((set.len(), set.channels(), set.size()), (3, 1, 28));
    for k in 0..3 {
        let image = set.get(k);
        for y in 0..28 {
            for x in 0..28 {
                let want = ((k * 7 + y * 3 + x) % 256) as f32 / 127.5 - 1.0;
                let got = image[y * 28 + x];
                assert!(
                    (got - want).abs() < 1e-6,
                    "image {k} pixel ({y}, {x}): {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn raw_and_gzipped_idx_round_trip() {
    let dir = TempDir::new("idx");
    let raw = dir.join("images-idx3-ubyte");
    let gz = dir.join("images-idx3-ubyte.gz");
    std::fs::write(&raw, idx_bytes(3, 28, 28)).unwrap();
    std::fs::write(&gz, gzip(&idx_bytes(3, 28, 28))).unwrap();
    check_round_trip(&Idx::open(&raw, 28).unwrap());
    check_round_trip(&Idx::open(&gz, 28).unwrap());

    let spec = format!("idx:{}", gz.display());
    let set = open_dataset(&spec, 28, 0).unwrap();
    assert_eq!((set.len(), set.channels()), (3, 1));
}

#[test]
fn idx_is_resized_to_the_asked_size() {
    let dir = TempDir::new("idx-resize");
    let path = dir.join("images.idx");
    std::fs::write(&path, idx_bytes(2, 28, 28)).unwrap();
    let set = Idx::open(&path, 32).unwrap();
    assert_eq!((set.len(), set.size()), (2, 32));
    let image = set.get(1);
    assert_eq!(image.len(), 32 * 32);
    assert_unit_range(&image);
}

#[test]
fn bad_magic_is_an_error_naming_the_file() {
    let dir = TempDir::new("idx-magic");
    let path = dir.join("labels.idx");
    let mut bytes = idx_bytes(2, 4, 4);
    bytes[3] = 0x01; // 0x00000801: a label file, not images
    std::fs::write(&path, bytes).unwrap();
    let err = Idx::open(&path, 4).err().unwrap();
    assert!(matches!(err, Error::Idx { .. }));
    let message = err.to_string();
    assert!(
        message.contains(path.to_str().unwrap()) && message.contains("magic"),
        "{message}"
    );
}

#[test]
fn truncated_file_is_an_error_naming_the_file() {
    let dir = TempDir::new("idx-truncated");
    let path = dir.join("short.idx");
    let bytes = idx_bytes(3, 28, 28);
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let message = Idx::open(&path, 28).err().unwrap().to_string();
    assert!(
        message.contains(path.to_str().unwrap()) && message.contains("truncated"),
        "{message}"
    );

    std::fs::write(&path, &bytes[..10]).unwrap();
    let message = Idx::open(&path, 28).err().unwrap().to_string();
    assert!(message.contains("truncated"), "{message}");

    let gz = gzip(&bytes);
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let message = Idx::open(&path, 28).err().unwrap().to_string();
    assert!(
        message.contains(path.to_str().unwrap()) && message.contains("gzip"),
        "{message}"
    );
}
