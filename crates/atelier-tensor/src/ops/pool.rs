//! Max and average pooling of NCHW tensors (PyTorch's max_pool2d / avg_pool2d with
//! count_include_pad), with square windows.

use std::rc::Rc;

use atelier_kernels::GpuBuffer;
use atelier_kernels::pool2d::cpu as f;
use atelier_kernels::pool2d::reference as r;
use atelier_kernels::pool2d::{self as k, Pool2dConfig};

use super::run::{Element, cpu_data, fast_f32, host_vec, kernel_op};
use crate::storage::CpuData;
use crate::tensor::Tensor;
use crate::{DType, Device};

fn config(op: &str, x: &Tensor, kernel: usize, stride: usize, padding: usize) -> Pool2dConfig {
    let &[n, c, h, w] = x.shape() else {
        panic!("{op}: input must be [N, C, H, W], got {:?}", x.shape());
    };
    let cfg = Pool2dConfig {
        n,
        c,
        h,
        w,
        kernel: [kernel; 2],
        stride: [stride; 2],
        padding: [padding; 2],
    };
    cfg.validate(op);
    cfg
}

/// Where each max came from: an input-plane index per output element.
enum Argmax {
    Gpu(GpuBuffer),
    Cpu(Vec<u32>),
    /// The fast CPU device's: u32 indices in a vector of the host pool (given back on drop)
    Fast(PooledIndices),
}

struct PooledIndices(Vec<f32>);

impl PooledIndices {
    fn get(&self) -> &[u32] {
        bytemuck::cast_slice(&self.0)
    }
}

impl Drop for PooledIndices {
    fn drop(&mut self) {
        atelier_kernels::cpu::host_pool::give(std::mem::take(&mut self.0));
    }
}

/// The fast CPU device's max pooling: output and indices from the host pool.
fn max_pool_fast(cfg: &Pool2dConfig, x: &[f32], out: &[usize]) -> (Tensor, PooledIndices) {
    let (mut y, mut arg) = (host_vec(cfg.out_len()), host_vec(cfg.out_len()));
    f::max_pool2d(cfg, x, &mut y, bytemuck::cast_slice_mut(&mut arg));
    (Tensor::from_cpu(CpuData::F32(y), out), PooledIndices(arg))
}

fn max_pool_cpu<T: Element>(cfg: &Pool2dConfig, x: &Tensor, out: &[usize]) -> (Tensor, Vec<u32>) {
    let mut y = vec![T::zero(); cfg.out_len()];
    let mut arg = vec![0u32; cfg.out_len()];
    r::max_pool2d(
        cfg,
        T::slice(&cpu_data(x)).expect("max_pool2d: dtype"),
        &mut y,
        &mut arg,
    );
    (Tensor::from_cpu(T::wrap(y), out), arg)
}

fn max_pool_backward_cpu<T: Element>(
    cfg: &Pool2dConfig,
    gy: &Tensor,
    arg: &[u32],
    shape: &[usize],
) -> Tensor {
    let mut gx = vec![T::zero(); cfg.n * cfg.c * cfg.h * cfg.w];
    r::max_pool2d_backward(
        cfg,
        T::slice(&cpu_data(gy)).expect("max_pool2d: dtype"),
        arg,
        &mut gx,
    );
    Tensor::from_cpu(T::wrap(gx), shape)
}

impl Tensor {
    /// Max over `kernel`×`kernel` windows; the gradient goes to the (first) maximum.
    pub fn max_pool2d(&self, kernel: usize, stride: usize, padding: usize) -> Tensor {
        let cfg = config("max_pool2d", self, kernel, stride, padding);
        let out = [cfg.n, cfg.c, cfg.out_h(), cfg.out_w()];
        let (y, argmax) = match (self.device(), self.dtype()) {
            (Device::Gpu, _) => {
                let (y, arg) = (
                    GpuBuffer::uninit(cfg.out_len()),
                    GpuBuffer::uninit(cfg.out_len()),
                );
                k::max_pool2d(&cfg, self.gpu_buffer(), &y, &arg);
                (Tensor::from_gpu(y, &out), Argmax::Gpu(arg))
            }
            (Device::Cpu, DType::F32) => {
                let fast = fast_f32(&cpu_data(self)).map(|x| max_pool_fast(&cfg, x, &out));
                match fast {
                    Some((y, a)) => (y, Argmax::Fast(a)),
                    None => {
                        let (y, a) = max_pool_cpu::<f32>(&cfg, self, &out);
                        (y, Argmax::Cpu(a))
                    }
                }
            }
            (Device::Cpu, DType::F64) => {
                let (y, a) = max_pool_cpu::<f64>(&cfg, self, &out);
                (y, Argmax::Cpu(a))
            }
        };
        let argmax = Rc::new(argmax);
        let shape = self.shape().to_vec();
        y.with_node("max_pool2d", &[self], move |gy| {
            let gx = match &*argmax {
                Argmax::Gpu(arg) => {
                    let gx = GpuBuffer::uninit(cfg.n * cfg.c * cfg.h * cfg.w);
                    k::max_pool2d_backward(&cfg, gy.gpu_buffer(), arg, &gx);
                    Tensor::from_gpu(gx, &shape)
                }
                Argmax::Fast(arg) => {
                    let mut gx = host_vec(cfg.in_len());
                    let gy_data = cpu_data(gy);
                    let gy_f32 = f32::slice(&gy_data).expect("max_pool2d: dtype");
                    f::max_pool2d_backward(&cfg, gy_f32, arg.get(), &mut gx);
                    drop(gy_data);
                    Tensor::from_cpu(CpuData::F32(gx), &shape)
                }
                Argmax::Cpu(arg) => match gy.dtype() {
                    DType::F32 => max_pool_backward_cpu::<f32>(&cfg, gy, arg, &shape),
                    DType::F64 => max_pool_backward_cpu::<f64>(&cfg, gy, arg, &shape),
                },
            };
            vec![Some(gx)]
        })
    }

    /// Mean over `kernel`×`kernel` windows, padding counted (PyTorch's default).
    pub fn avg_pool2d(&self, kernel: usize, stride: usize, padding: usize) -> Tensor {
        let cfg = config("avg_pool2d", self, kernel, stride, padding);
        let out = [cfg.n, cfg.c, cfg.out_h(), cfg.out_w()];
        let y = kernel_op!(
            "avg_pool2d",
            [self],
            [&out],
            gpu | i,
            o | k::avg_pool2d(&cfg, i[0], o[0]),
            fast | i,
            o | f::avg_pool2d(&cfg, i[0], &mut o[0]),
            cpu | i,
            o | r::avg_pool2d(&cfg, i[0], &mut o[0])
        )
        .remove(0);
        let shape = self.shape().to_vec();
        y.with_node("avg_pool2d", &[self], move |gy| {
            let gx = kernel_op!(
                "avg_pool2d backward",
                [gy],
                [&shape],
                gpu | i,
                o | k::avg_pool2d_backward(&cfg, i[0], o[0]),
                fast | i,
                o | f::avg_pool2d_backward(&cfg, i[0], &mut o[0]),
                cpu | i,
                o | r::avg_pool2d_backward(&cfg, i[0], &mut o[0])
            )
            .remove(0);
            vec![Some(gx)]
        })
    }
}
