//! Where a tensor lives.

use std::fmt;

/// CPU (the reference implementation) or GPU (wgpu kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
    Gpu,
}

impl Device {
    /// The GPU when one is available and `ATELIER_DEVICE` allows it, else the CPU.
    pub fn auto() -> Device {
        if atelier_kernels::gpu_available() {
            Device::Gpu
        } else {
            Device::Cpu
        }
    }

    /// Whether this device's memory is the host's (the CPU, or a software GPU such as
    /// lavapipe), so that work on it needs free host memory.
    pub fn shares_host_memory(self) -> bool {
        match self {
            Device::Cpu => true,
            Device::Gpu => atelier_kernels::gpu().is_software(),
        }
    }

    /// Parses `cpu`, `gpu` or `auto`.
    pub fn from_name(name: &str) -> Result<Device, String> {
        match name.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "gpu" => {
                atelier_kernels::try_gpu().map_err(|e| format!("device gpu: {e}"))?;
                Ok(Device::Gpu)
            }
            "auto" => Ok(Device::auto()),
            other => Err(format!(
                "unknown device {other:?} (expected cpu, gpu or auto)"
            )),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Gpu => write!(f, "gpu"),
        }
    }
}

/// Element type. GPU tensors are always f32; CPU tensors may be f64 for gradient checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
}
