//! Where a tensor lives.

use std::fmt;

use atelier_kernels::context::{DevicePreference, auto_choice};
use atelier_kernels::cpu::{CpuMode, set_default_cpu_mode};

/// CPU (host memory: the fast CPU kernels in f32, or the plain reference with
/// `ATELIER_DEVICE=reference` and for f64) or GPU (wgpu kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
    Gpu,
}

impl Device {
    /// What `ATELIER_DEVICE` asks for: `gpu` the GPU (any adapter, a software one included),
    /// `cpu` or `reference` the CPU, `auto` (or unset) a hardware GPU when there is one,
    /// else the fast CPU device (see [`atelier_kernels::context::auto_choice`]).
    pub fn auto() -> Device {
        match DevicePreference::from_env() {
            Ok(DevicePreference::Cpu | DevicePreference::Reference) => Device::Cpu,
            Ok(DevicePreference::Gpu) if atelier_kernels::gpu_available() => Device::Gpu,
            Ok(DevicePreference::Gpu) => Device::Cpu,
            Ok(DevicePreference::Auto) | Err(_) => {
                if auto_choice().gpu {
                    Device::Gpu
                } else {
                    Device::Cpu
                }
            }
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

    /// The device's own memory where atelier can know it (a hardware GPU on Vulkan, or a cap
    /// set with `ATELIER_DEVICE_MEMORY_BYTES`; see `atelier_kernels::memory`), with the device
    /// in words.
    pub fn memory(self) -> Option<(String, atelier_kernels::memory::DeviceMemory)> {
        match self {
            Device::Cpu => None,
            Device::Gpu => {
                let g = atelier_kernels::gpu();
                g.memory.map(|m| (g.info.name.clone(), m))
            }
        }
    }

    /// An error, before any work, when `need` bytes of work (named `what`) cannot fit: in the
    /// host's memory on the CPU or a software GPU, in the device's own where it is known.
    pub fn check_memory(self, what: &str, need: u128) -> atelier_fs::Result<()> {
        let need = need.min(u64::MAX as u128) as u64;
        if self.shares_host_memory() {
            atelier_fs::check_host_memory(what, need)?;
        }
        if let Some((name, m)) = self.memory() {
            atelier_fs::check_device_memory(what, need, &name, m.bytes, m.source)?;
        }
        Ok(())
    }

    /// Parses `cpu` (the fast CPU device), `reference` (the CPU running the plain reference:
    /// this sets the process's CPU mode), `gpu` or `auto`.
    pub fn from_name(name: &str) -> Result<Device, String> {
        match name.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "reference" => {
                set_default_cpu_mode(CpuMode::Reference);
                Ok(Device::Cpu)
            }
            "gpu" => {
                atelier_kernels::try_gpu().map_err(|e| format!("device gpu: {e}"))?;
                Ok(Device::Gpu)
            }
            "auto" => Ok(Device::auto()),
            other => Err(format!(
                "unknown device {other:?} (expected cpu, reference, gpu or auto)"
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
