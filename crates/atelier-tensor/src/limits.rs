//! How large one tensor may be on a device: the one place that says so, so that commands can
//! refuse work that cannot fit before it starts (with the figure and the limit) instead of
//! failing inside a kernel launch.
//!
//! Today every kernel binds each tensor whole, so on a GPU a tensor may be no larger than the
//! device's max storage-buffer binding size (128 MiB on many devices, lavapipe included), even
//! where a buffer may be larger. When kernels bind windows of larger buffers, this limit rises
//! to `max_buffer_size` here, and every check follows.

use std::fmt;

use crate::Device;

/// The largest single tensor a device holds, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorLimit {
    pub bytes: u64,
    /// The device, in words.
    pub device: String,
    /// Which of its limits sets this one.
    pub reason: &'static str,
}

/// The largest single tensor `device` can hold, in bytes.
pub fn max_tensor_bytes(device: Device) -> TensorLimit {
    match device {
        Device::Gpu => {
            let g = atelier_kernels::gpu();
            let binding = g.limits.max_storage_buffer_binding_size;
            let buffer = g.limits.max_buffer_size;
            let (bytes, reason) = if binding <= buffer {
                (binding, "its max storage-buffer binding size")
            } else {
                (buffer, "its max buffer size")
            };
            TensorLimit {
                bytes,
                device: g.info.name.clone(),
                reason,
            }
        }
        Device::Cpu => TensorLimit {
            bytes: isize::MAX as u64,
            device: "the CPU".into(),
            reason: "the address space",
        },
    }
}

/// Bytes of an f32 tensor of `shape` (no overflow, however large the shape).
pub fn tensor_bytes(shape: &[usize]) -> u128 {
    shape
        .iter()
        .fold(4u128, |b, &d| b.saturating_mul(d as u128))
}

/// A tensor that a device cannot hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub what: String,
    pub shape: Vec<usize>,
    pub bytes: u128,
    pub limit: TensorLimit,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} would take {} in one tensor; the largest tensor {} holds is {} ({})",
            self.what,
            self.shape,
            human_bytes(self.bytes),
            self.limit.device,
            human_bytes(self.limit.bytes as u128),
            self.limit.reason
        )
    }
}

impl std::error::Error for TooLarge {}

/// An error naming `what`, its shape, its size and the device's limit when a tensor of `shape`
/// does not fit on `device`.
pub fn check_tensor_fits(what: &str, shape: &[usize], device: Device) -> Result<(), TooLarge> {
    let limit = max_tensor_bytes(device);
    let bytes = tensor_bytes(shape);
    if bytes > limit.bytes as u128 {
        return Err(TooLarge {
            what: what.to_string(),
            shape: shape.to_vec(),
            bytes,
            limit,
        });
    }
    Ok(())
}

/// The first of `tensors` (name, shape) that does not fit on `device`.
pub fn check_all_fit(tensors: &[(String, Vec<usize>)], device: Device) -> Result<(), TooLarge> {
    tensors
        .iter()
        .try_for_each(|(what, shape)| check_tensor_fits(what, shape, device))
}

/// How many items fit in one batch when one item's largest tensor is `per_item` bytes (at
/// least 1, at most `cap`).
pub fn items_per_batch(per_item: u128, device: Device, cap: usize) -> usize {
    let limit = max_tensor_bytes(device).bytes as u128;
    (limit / per_item.max(1)).clamp(1, cap.max(1) as u128) as usize
}

fn human_bytes(bytes: u128) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    let b = bytes as f64;
    if b >= 1024.0 * MIB {
        format!("{:.1} GiB", b / (1024.0 * MIB))
    } else {
        format!("{:.1} MiB", b / MIB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_never_overflow_and_the_limit_is_named() {
        assert_eq!(tensor_bytes(&[2, 3]), 24);
        assert!(tensor_bytes(&[usize::MAX, usize::MAX, 4]) > u64::MAX as u128);
        let err = check_tensor_fits("x", &[usize::MAX, 2], Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("the address space"), "{err}");
        check_tensor_fits("x", &[1024, 1024], Device::Cpu).unwrap();
        assert_eq!(items_per_batch(u128::MAX, Device::Cpu, 64), 1);
        assert_eq!(items_per_batch(4, Device::Cpu, 64), 64);
    }

    #[test]
    fn the_gpu_limit_is_the_binding_size_and_refuses_past_it() {
        if !atelier_kernels::context::gpu_for_tests() {
            return;
        }
        let limit = max_tensor_bytes(Device::Gpu);
        let g = atelier_kernels::gpu();
        assert_eq!(
            limit.bytes,
            g.limits
                .max_storage_buffer_binding_size
                .min(g.limits.max_buffer_size)
        );
        let floats = (limit.bytes / 4) as usize;
        check_tensor_fits("t", &[floats], Device::Gpu).unwrap();
        let err = check_tensor_fits("t", &[floats + 1], Device::Gpu).unwrap_err();
        assert!(err.to_string().contains(&g.info.name), "{err}");
    }
}
