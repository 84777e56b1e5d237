//! Running one kernel on either device: GPU buffers through the launcher, CPU slices through
//! the fast CPU kernel (f32, unless `ATELIER_DEVICE=reference`) or the reference. The
//! `kernel_op!` macro writes the reference body once and compiles it for f32 and f64 storage.

use std::cell::Ref;

use atelier_kernels::GpuBuffer;

use crate::storage::{CpuData, Storage};
use crate::tensor::{Tensor, numel};

/// Borrows the CPU data of `t`.
pub(crate) fn cpu_data(t: &Tensor) -> Ref<'_, CpuData> {
    match t.storage() {
        Storage::Cpu(c) => c.borrow(),
        Storage::Gpu(_) => panic!("cpu_data: tensor {:?} is on the GPU", t.shape()),
    }
}

pub(crate) trait Element: atelier_kernels::Real {
    fn slice(d: &CpuData) -> Option<&[Self]>;
    fn wrap(v: Vec<Self>) -> CpuData;
    /// The values as f32 (for the fast CPU kernels), `None` for f64.
    fn as_f32(s: &[Self]) -> Option<&[f32]>;
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]>;
}

impl Element for f32 {
    fn slice(d: &CpuData) -> Option<&[f32]> {
        match d {
            CpuData::F32(v) => Some(v),
            CpuData::F64(_) => None,
        }
    }
    fn wrap(v: Vec<f32>) -> CpuData {
        CpuData::F32(v)
    }
    fn as_f32(s: &[f32]) -> Option<&[f32]> {
        Some(s)
    }
    fn as_f32_mut(s: &mut [f32]) -> Option<&mut [f32]> {
        Some(s)
    }
}

impl Element for f64 {
    fn slice(d: &CpuData) -> Option<&[f64]> {
        match d {
            CpuData::F64(v) => Some(v),
            CpuData::F32(_) => None,
        }
    }
    fn wrap(v: Vec<f64>) -> CpuData {
        CpuData::F64(v)
    }
    fn as_f32(_: &[f64]) -> Option<&[f32]> {
        None
    }
    fn as_f32_mut(_: &mut [f64]) -> Option<&mut [f32]> {
        None
    }
}

/// Runs `cpu` on the inputs' slices and outputs made by `output(len)`.
fn run_cpu<T: Element>(
    name: &str,
    inputs: &[&Tensor],
    out_shapes: &[&[usize]],
    output: impl Fn(usize) -> Vec<T>,
    cpu: impl FnOnce(&[&[T]], &mut [Vec<T>]),
) -> Vec<Tensor> {
    let guards: Vec<Ref<'_, CpuData>> = inputs.iter().map(|t| cpu_data(t)).collect();
    let slices: Vec<&[T]> = guards
        .iter()
        .map(|g| T::slice(g).unwrap_or_else(|| panic!("{name}: inputs have different dtypes")))
        .collect();
    let mut outs: Vec<Vec<T>> = out_shapes.iter().map(|s| output(numel(s))).collect();
    cpu(&slices, &mut outs);
    drop(guards);
    outs.into_iter()
        .zip(out_shapes)
        .map(|(v, s)| Tensor::from_cpu(T::wrap(v), s))
        .collect()
}

/// Whether CPU f32 work on this thread runs the fast kernels (not `ATELIER_DEVICE=reference`).
pub(crate) fn fast_cpu() -> bool {
    atelier_kernels::cpu::cpu_mode() == atelier_kernels::cpu::CpuMode::Fast
}

/// `d`'s f32 values when the fast CPU kernels should run on them (f32 data, fast mode).
pub(crate) fn fast_f32(d: &CpuData) -> Option<&[f32]> {
    match d {
        CpuData::F32(v) if fast_cpu() => Some(v),
        _ => None,
    }
}

/// An output vector for a fast kernel (which writes every element): from the host pool.
pub(crate) fn host_vec(len: usize) -> Vec<f32> {
    atelier_kernels::cpu::host_pool::take(len)
}

/// Runs `gpu` (input buffers, fresh output buffers), `fast` (f32 input slices, zeroed output
/// vectors; when given and the CPU runs fast) or `cpu32`/`cpu64` (the reference) depending on
/// where the inputs live, and returns the outputs. No graph.
pub(crate) fn run_kernel(
    name: &str,
    inputs: &[&Tensor],
    out_shapes: &[&[usize]],
    gpu: impl FnOnce(&[&GpuBuffer], &[&GpuBuffer]),
    fast: Option<impl FnOnce(&[&[f32]], &mut [Vec<f32>])>,
    cpu32: impl FnOnce(&[&[f32]], &mut [Vec<f32>]),
    cpu64: impl FnOnce(&[&[f64]], &mut [Vec<f64>]),
) -> Vec<Tensor> {
    let device = inputs[0].device();
    for t in inputs {
        assert_eq!(t.device(), device, "{name}: inputs on different devices");
    }
    match device {
        crate::Device::Gpu => {
            let bufs: Vec<&GpuBuffer> = inputs.iter().map(|t| t.gpu_buffer()).collect();
            let outs: Vec<GpuBuffer> = out_shapes
                .iter()
                .map(|s| GpuBuffer::uninit(numel(s)))
                .collect();
            let out_refs: Vec<&GpuBuffer> = outs.iter().collect();
            gpu(&bufs, &out_refs);
            outs.into_iter()
                .zip(out_shapes)
                .map(|(b, s)| Tensor::from_gpu(b, s))
                .collect()
        }
        crate::Device::Cpu => match cpu_data(inputs[0]).dtype() {
            // the fast kernels write every output element: pooled vectors, as on the GPU
            crate::DType::F32 => match fast {
                Some(fast) if fast_cpu() => run_cpu(name, inputs, out_shapes, host_vec, fast),
                _ => run_cpu(name, inputs, out_shapes, |n| vec![0.0; n], cpu32),
            },
            crate::DType::F64 => run_cpu(name, inputs, out_shapes, |n| vec![0.0; n], cpu64),
        },
    }
}

/// `kernel_op!(name, [inputs], [output shapes], gpu |bufs, outs| ..., fast |slices, outs| ...,
/// cpu |slices, outs| ...)` → `Vec<Tensor>`; the fast body (optional) runs on f32 CPU data, the
/// cpu body (the reference) is compiled for f32 and f64.
macro_rules! kernel_op {
    ($name:expr, [$($input:expr),+ $(,)?], [$($shape:expr),+ $(,)?],
     gpu |$gb:ident, $go:ident| $gbody:expr,
     fast |$fs:ident, $fo:ident| $fbody:expr,
     cpu |$cs:ident, $co:ident| $cbody:expr $(,)?) => {
        $crate::ops::run::run_kernel(
            $name,
            &[$($input),+],
            &[$($shape),+],
            |$gb: &[&atelier_kernels::GpuBuffer], $go: &[&atelier_kernels::GpuBuffer]| $gbody,
            Some(|$fs: &[&[f32]], $fo: &mut [Vec<f32>]| $fbody),
            |$cs: &[&[f32]], $co: &mut [Vec<f32>]| $cbody,
            |$cs: &[&[f64]], $co: &mut [Vec<f64>]| $cbody,
        )
    };
    ($name:expr, [$($input:expr),+ $(,)?], [$($shape:expr),+ $(,)?],
     gpu |$gb:ident, $go:ident| $gbody:expr,
     cpu |$cs:ident, $co:ident| $cbody:expr $(,)?) => {
        $crate::ops::run::run_kernel(
            $name,
            &[$($input),+],
            &[$($shape),+],
            |$gb: &[&atelier_kernels::GpuBuffer], $go: &[&atelier_kernels::GpuBuffer]| $gbody,
            None::<fn(&[&[f32]], &mut [Vec<f32>])>,
            |$cs: &[&[f32]], $co: &mut [Vec<f32>]| $cbody,
            |$cs: &[&[f64]], $co: &mut [Vec<f64>]| $cbody,
        )
    };
}

pub(crate) use kernel_op;
