//! Helpers for the tests: the shared images, and whether there is a GPU.

use std::path::{Path, PathBuf};

/// The shared test images (`../shared/data` beside the repository; searched upwards from the
/// repository root so a git worktree finds it too), or `ATELIER_SHARED_DATA`. None, with a
/// note on stderr, when they are not there: the project itself never needs them.
pub fn shared_data() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("ATELIER_SHARED_DATA") {
        return Some(PathBuf::from(dir));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().ok()?;
    let found = root
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/data"))
        .find(|dir| dir.join("content").is_dir() && dir.join("styles").is_dir());
    if found.is_none() {
        eprintln!("skipping: ../shared/data (content photos and paintings) not found");
    }
    found
}

/// Whether GPU tests run (see `atelier_kernels::context::gpu_for_tests`).
pub fn gpu() -> bool {
    atelier_kernels::context::gpu_for_tests()
}
