//! Tensor storage: a pooled GPU buffer, or a host vector in f32 or f64.

use std::cell::RefCell;

use atelier_kernels::GpuBuffer;

use crate::device::{DType, Device};

pub(crate) enum CpuData {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl CpuData {
    pub fn len(&self) -> usize {
        match self {
            CpuData::F32(v) => v.len(),
            CpuData::F64(v) => v.len(),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            CpuData::F32(_) => DType::F32,
            CpuData::F64(_) => DType::F64,
        }
    }

    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            CpuData::F32(v) => v.clone(),
            CpuData::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            CpuData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            CpuData::F64(v) => v.clone(),
        }
    }

    /// Zeros of the same dtype (from the host pool on the fast CPU device).
    pub fn zeros_like(&self, n: usize) -> CpuData {
        match self {
            CpuData::F32(_) if crate::ops::run::fast_cpu() => {
                let mut v = atelier_kernels::cpu::host_pool::take(n);
                v.fill(0.0);
                CpuData::F32(v)
            }
            CpuData::F32(_) => CpuData::F32(vec![0.0; n]),
            CpuData::F64(_) => CpuData::F64(vec![0.0; n]),
        }
    }
}

pub(crate) enum Storage {
    Cpu(RefCell<CpuData>),
    Gpu(GpuBuffer),
}

/// A CPU tensor's f32 vector goes back to the host pool, for the next output of its length
/// (see `atelier_kernels::cpu::host_pool`).
impl Drop for Storage {
    fn drop(&mut self) {
        if let Storage::Cpu(c) = self
            && let CpuData::F32(v) = c.get_mut()
        {
            atelier_kernels::cpu::host_pool::give(std::mem::take(v));
        }
    }
}

impl Storage {
    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Gpu(_) => Device::Gpu,
        }
    }
}

macro_rules! cpu_map {
    ($data:expr, |$v:ident| $body:expr) => {
        match &*$data {
            $crate::storage::CpuData::F32($v) => $crate::storage::CpuData::F32($body),
            $crate::storage::CpuData::F64($v) => $crate::storage::CpuData::F64($body),
        }
    };
}

/// Like `cpu_map!` for two operands, which must share a dtype.
macro_rules! cpu_map2 {
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        match (&*$a, &*$b) {
            ($crate::storage::CpuData::F32($x), $crate::storage::CpuData::F32($y)) => {
                $crate::storage::CpuData::F32($body)
            }
            ($crate::storage::CpuData::F64($x), $crate::storage::CpuData::F64($y)) => {
                $crate::storage::CpuData::F64($body)
            }
            _ => panic!("{}: operands have different dtypes", $op),
        }
    };
}

pub(crate) use cpu_map;
pub(crate) use cpu_map2;
