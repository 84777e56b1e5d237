//! Helpers for the tests: the shared images, and whether there is a GPU.

use std::path::{Path, PathBuf};

/// The test images: copies of a few photos and paintings from the project's shared data,
/// their long side reduced to 256 pixels (`tests/data/images`, see its README), so these tests
/// run the same on a fresh clone and in CI.
pub fn test_images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/images")
}

/// Whether GPU tests run (see `atelier_kernels::context::gpu_for_tests`).
pub fn gpu() -> bool {
    atelier_kernels::context::gpu_for_tests()
}
