//! GPU memory: how much the device has, so that commands can refuse up front what cannot fit,
//! and the error of an allocation past it.
//!
//! WebGPU, and so wgpu, reports no memory size (gfx-rs/wgpu#2447). On Vulkan atelier reads it
//! through wgpu's hal: the largest `DEVICE_LOCAL` heap of the physical device
//! (`vkGetPhysicalDeviceMemoryProperties`), on a hardware GPU only (a software device's memory
//! is the host's, which commands check as host memory). Other backends report nothing.
//! `ATELIER_DEVICE_MEMORY_BYTES=N` caps the figure, on any GPU, and the buffer pool then refuses
//! to hold more than N bytes: what a device with N bytes does, at small sizes (tests).
//!
//! An allocation the device refuses (or past the cap) panics with an [`OutOfDeviceMemory`]
//! payload; the command-line tool reports it as an error (exit 1), not as a panic.

use std::fmt;

use atelier_fs::memory::human_bytes as human;

/// A device's memory as atelier knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceMemory {
    pub bytes: u64,
    /// Where the figure comes from, in words.
    pub source: &'static str,
}

/// The panic payload of an allocation the device could not make.
#[derive(Clone, Debug)]
pub struct OutOfDeviceMemory {
    /// Bytes of the buffer asked for.
    pub bytes: u64,
    /// Bytes of the buffers atelier held at the time.
    pub held: u64,
    /// The device, in words.
    pub device: String,
    /// The device's memory, where known.
    pub memory: Option<DeviceMemory>,
    /// wgpu's error, or why the cap refused it.
    pub detail: String,
}

impl fmt::Display for OutOfDeviceMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "out of GPU memory: allocating a buffer of {} ({} bytes) with {} already held on {}",
            human(self.bytes),
            self.bytes,
            human(self.held),
            self.device
        )?;
        if let Some(m) = self.memory {
            write!(f, ", which has {} ({})", human(m.bytes), m.source)?;
        }
        write!(f, ": {}; use smaller sizes", self.detail)
    }
}

/// The source of a figure set by `ATELIER_DEVICE_MEMORY_BYTES` (the pool enforces only that).
pub const CAP_SOURCE: &str = "ATELIER_DEVICE_MEMORY_BYTES";

/// `ATELIER_DEVICE_MEMORY_BYTES`, when set: a positive number of bytes.
pub(crate) fn cap_from_env() -> Result<Option<u64>, crate::Error> {
    let Ok(v) = std::env::var("ATELIER_DEVICE_MEMORY_BYTES") else {
        return Ok(None);
    };
    match v.trim().parse::<u64>() {
        Ok(b) if b > 0 => Ok(Some(b)),
        _ => Err(crate::Error::Config(format!(
            "ATELIER_DEVICE_MEMORY_BYTES={v:?} is not a positive number of bytes"
        ))),
    }
}

/// The memory of `adapter`'s device: its largest device-local heap on a hardware Vulkan
/// device, capped by `cap` (`ATELIER_DEVICE_MEMORY_BYTES`).
pub(crate) fn of_adapter(adapter: &wgpu::Adapter, cap: Option<u64>) -> Option<DeviceMemory> {
    let heap = if adapter.get_info().device_type == wgpu::DeviceType::Cpu {
        None
    } else {
        vulkan_heap(adapter)
    };
    match (heap, cap) {
        (Some(h), Some(c)) if c < h => Some(DeviceMemory {
            bytes: c,
            source: CAP_SOURCE,
        }),
        (Some(h), _) => Some(DeviceMemory {
            bytes: h,
            source: "its largest device-local memory heap",
        }),
        (None, Some(c)) => Some(DeviceMemory {
            bytes: c,
            source: CAP_SOURCE,
        }),
        (None, None) => None,
    }
}

/// The largest `DEVICE_LOCAL` heap of a Vulkan adapter's physical device.
#[cfg(any(target_os = "linux", target_os = "windows", target_os = "android"))]
fn vulkan_heap(adapter: &wgpu::Adapter) -> Option<u64> {
    // SAFETY: the hal adapter is only read (its physical device's memory properties), while
    // `adapter` keeps it alive; nothing is created or destroyed through it.
    let hal = unsafe { adapter.as_hal::<wgpu::hal::api::Vulkan>() }?;
    let instance = hal.shared_instance().raw_instance();
    // SAFETY: the physical device belongs to this instance (both from the same hal adapter).
    let props =
        unsafe { instance.get_physical_device_memory_properties(hal.raw_physical_device()) };
    props
        .memory_heaps_as_slice()
        .iter()
        .filter(|h| h.flags.contains(ash::vk::MemoryHeapFlags::DEVICE_LOCAL))
        .map(|h| h.size)
        .max()
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "android")))]
fn vulkan_heap(_adapter: &wgpu::Adapter) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_bytes_asked_for_and_the_memory() {
        let e = OutOfDeviceMemory {
            bytes: 3 << 20,
            held: 1 << 30,
            device: "a GPU".into(),
            memory: Some(DeviceMemory {
                bytes: 2 << 30,
                source: "its largest device-local memory heap",
            }),
            detail: "wgpu said no".into(),
        }
        .to_string();
        for part in [
            "3.0 MiB",
            "3145728 bytes",
            "1.0 GiB already held",
            "has 2.0 GiB",
            "wgpu said no",
        ] {
            assert!(e.contains(part), "{part:?} missing from {e}");
        }
    }
}
