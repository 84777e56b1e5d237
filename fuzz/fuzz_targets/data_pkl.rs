//! Any bytes as the data.pkl of a well-formed torch zip archive that holds storage records
//! `data/0` to `data/7` (64 floats each): the pickle machine and the tensor rebuilding get
//! every input, past the archive's CRCs. An error or a state dict, never a panic.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;

fuzz_target!(|data: &[u8]| {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("archive/data.pkl", options).unwrap();
    zip.write_all(data).unwrap();
    let record: Vec<u8> = (0..64u32).flat_map(|i| (i as f32).to_le_bytes()).collect();
    for i in 0..8 {
        zip.start_file(format!("archive/data/{i}"), options)
            .unwrap();
        zip.write_all(&record).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let _ = atelier_pth::load_bytes(&bytes, "fuzz");
});
