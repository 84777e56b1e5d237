//! Any bytes as a whole weights file (safetensors, zip or legacy .pth): an error or a state
//! dict, never a panic, a hang or an unbounded allocation. Legacy files reach the pickle
//! machine directly; zip files mostly stop at the archive's CRCs (see data_pkl).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = atelier_pth::load_bytes(data, "fuzz");
});
