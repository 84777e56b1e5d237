//! Argument checks every launcher shares. A buffer of the wrong length is a programming error
//! (the tensor layer sizes every buffer from the shape), so it panics, naming the kernel, the
//! buffer and the shape.

use crate::buffer_pool::GpuBuffer;

/// Panics unless `b` holds exactly `want` elements.
pub fn check_len(
    kernel: &str,
    what: &str,
    b: &GpuBuffer,
    want: usize,
    shape: &dyn std::fmt::Debug,
) {
    assert!(
        b.len() == want,
        "{kernel}: {what} has {} elements, the shape needs {want} ({shape:?})",
        b.len()
    );
}

/// [`check_len`] for several buffers of the same length.
pub fn check_lens(
    kernel: &str,
    shape: &dyn std::fmt::Debug,
    want: usize,
    buffers: &[(&str, &GpuBuffer)],
) {
    for (what, b) in buffers {
        check_len(kernel, what, b, want, shape);
    }
}

/// Converts a size to the u32 the kernels index with, panicking with the kernel's name when
/// it does not fit.
pub fn u32_of(kernel: &str, v: usize) -> u32 {
    u32::try_from(v).unwrap_or_else(|_| panic!("{kernel}: size {v} does not fit in 32 bits"))
}
