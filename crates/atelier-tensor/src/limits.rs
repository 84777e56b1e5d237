//! How large one tensor may be on a device: the one place that says so, so that commands can
//! refuse work that cannot fit before it starts (with the figure and the limit) instead of
//! failing inside a kernel launch.
//!
//! Two limits matter on a GPU. A kernel sees a tensor through one storage binding, of at most
//! the device's max storage-buffer binding size (128 MiB on lavapipe and many GPUs; the
//! adapter's own limit is requested, which on most hardware is 2 GiB or more). The launchers
//! of convolutions, batch normalisation and pointwise ops run a *batch* larger than that in
//! chunks of items, each bound as a window of the tensor's buffer (`atelier_kernels::chunk`),
//! so a batched tensor may be as large as a buffer (`max_buffer_size`) as long as one item fits
//! a binding: [`check_batch_fits`]. Convolutions, pooling, pointwise ops and Gram matrices also
//! split one image into blocks of channel planes, so the activations of style transfer may be
//! as large as a buffer as long as one plane fits a binding: [`check_planes_fit`]. Reductions,
//! general products, layout copies and broadcasts split into boxes of their axes
//! (`atelier_kernels::blocks`), at any size. A tensor other kernels bind whole (the weights
//! Adam and SGD update) must fit one binding: [`check_tensor_fits`].

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

fn cpu_limit() -> TensorLimit {
    TensorLimit {
        bytes: isize::MAX as u64,
        device: "the CPU".into(),
        reason: "the address space",
    }
}

/// The largest tensor a kernel binds whole on `device`, in bytes: on a GPU the smaller of its
/// max storage-buffer binding size and its max buffer size.
pub fn max_binding_bytes(device: Device) -> TensorLimit {
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
        Device::Cpu => cpu_limit(),
    }
}

/// The largest single tensor `device` can hold, in bytes: on a GPU its max buffer size (a
/// batch larger than a binding is run in chunks; see [`check_batch_fits`]).
pub fn max_tensor_bytes(device: Device) -> TensorLimit {
    match device {
        Device::Gpu => {
            let g = atelier_kernels::gpu();
            TensorLimit {
                bytes: g.limits.max_buffer_size,
                device: g.info.name.clone(),
                reason: "its max buffer size",
            }
        }
        Device::Cpu => cpu_limit(),
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
            "{} {:?} would take {} in one tensor; the largest tensor {} {} is {} ({})",
            self.what,
            self.shape,
            human_bytes(self.bytes),
            self.limit.device,
            if self.limit.reason.contains("binding") {
                "binds at once"
            } else {
                "holds"
            },
            human_bytes(self.limit.bytes as u128),
            self.limit.reason
        )
    }
}

impl std::error::Error for TooLarge {}

fn check_against(what: &str, shape: &[usize], limit: TensorLimit) -> Result<(), TooLarge> {
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

/// An error naming `what`, its shape, its size and the device's limit when a tensor of `shape`,
/// bound whole by the kernels that use it, does not fit on `device`.
pub fn check_tensor_fits(what: &str, shape: &[usize], device: Device) -> Result<(), TooLarge> {
    check_against(what, shape, max_binding_bytes(device))
}

/// An error naming `what` when a batched tensor of `shape` (items along its first dimension)
/// does not fit on `device`: the whole must fit one buffer and one item one binding (the
/// launchers of convolutions, batch normalisation and pointwise ops split a larger batch into
/// chunks; other ops must not meet such a tensor).
pub fn check_batch_fits(what: &str, shape: &[usize], device: Device) -> Result<(), TooLarge> {
    check_against(what, shape, max_tensor_bytes(device))?;
    if let Some((_, item)) = shape.split_first() {
        check_against(
            &format!("one item of {what}"),
            item,
            max_binding_bytes(device),
        )?;
    }
    Ok(())
}

/// An error naming `what` when an NCHW tensor of `shape` that ops split into blocks of
/// `(n, c)` planes (convolutions, pooling, pointwise ops, Gram matrices: the ops of style
/// transfer) does not fit on `device`: the whole must fit one buffer and one plane one binding
/// (a block of planes that does not start at an offset the device binds runs on an aligned
/// copy).
pub fn check_planes_fit(what: &str, shape: &[usize], device: Device) -> Result<(), TooLarge> {
    check_against(what, shape, max_tensor_bytes(device))?;
    let Device::Gpu = device else {
        return Ok(());
    };
    let mut plane = vec![1];
    plane.extend_from_slice(&shape[shape.len().saturating_sub(2)..]);
    check_against(
        &format!("a plane of {what}"),
        &plane,
        max_binding_bytes(device),
    )
}

/// The first of `tensors` (name, shape), each bound whole, that does not fit on `device`.
pub fn check_all_fit(tensors: &[(String, Vec<usize>)], device: Device) -> Result<(), TooLarge> {
    tensors
        .iter()
        .try_for_each(|(what, shape)| check_tensor_fits(what, shape, device))
}

/// The first of `tensors` (name, NCHW shape) that does not fit on `device` when split into
/// planes ([`check_planes_fit`]).
pub fn check_all_planes_fit(
    tensors: &[(String, Vec<usize>)],
    device: Device,
) -> Result<(), TooLarge> {
    tensors
        .iter()
        .try_for_each(|(what, shape)| check_planes_fit(what, shape, device))
}

/// The first of the batched `tensors` (name, shape) that does not fit on `device`
/// ([`check_batch_fits`]).
pub fn check_all_batches_fit(
    tensors: &[(String, Vec<usize>)],
    device: Device,
) -> Result<(), TooLarge> {
    tensors
        .iter()
        .try_for_each(|(what, shape)| check_batch_fits(what, shape, device))
}

/// How many items fit in one batch bound whole when one item's largest tensor is `per_item`
/// bytes (at least 1, at most `cap`).
pub fn items_per_batch(per_item: u128, device: Device, cap: usize) -> usize {
    let limit = max_binding_bytes(device).bytes as u128;
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
        let limit = max_binding_bytes(Device::Gpu);
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

    #[test]
    fn a_batch_may_exceed_a_binding_but_not_a_buffer_and_one_item_must_fit() {
        if !atelier_kernels::context::gpu_for_tests() {
            return;
        }
        let binding = max_binding_bytes(Device::Gpu).bytes as usize;
        let buffer = max_tensor_bytes(Device::Gpu).bytes as usize;
        assert_eq!(buffer as u64, atelier_kernels::gpu().limits.max_buffer_size);
        let item = binding / 4 / 2; // two items a binding
        // three items: over a binding, under a buffer (when the buffer allows)
        if 3 * item * 4 <= buffer {
            check_batch_fits("acts", &[3, item], Device::Gpu).unwrap();
            assert!(check_tensor_fits("acts", &[3, item], Device::Gpu).is_err());
        }
        let err = check_batch_fits("acts", &[1, binding / 4 + 1], Device::Gpu).unwrap_err();
        assert!(err.to_string().contains("one item of acts"), "{err}");
        let err = check_batch_fits("acts", &[buffer / 4 + 1, 1], Device::Gpu).unwrap_err();
        assert!(err.to_string().contains("max buffer size"), "{err}");
    }
}
