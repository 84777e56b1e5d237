//! Optimizer updates of a parameter tensor in place, from its gradient and its optimizer
//! state, on the tensor's device: one fused kernel on the GPU (the optim family), the
//! reference on the CPU. Not recorded by autograd.

use atelier_kernels::optim::{self as k, cpu as f, reference as r};

use super::run::fast_cpu;

pub use atelier_kernels::optim::{AdamStep, SgdStep};

use crate::Device;
use crate::tensor::Tensor;

fn same_shapes(op: &str, p: &Tensor, others: &[(&str, &Tensor)]) {
    for (what, t) in others {
        assert!(
            t.shape() == p.shape() && t.device() == p.device(),
            "{op}: {what} is {:?} on {}, the parameter {:?} on {}",
            t.shape(),
            t.device(),
            p.shape(),
            p.device()
        );
    }
}

impl Tensor {
    /// One Adam step (`hp`, PyTorch's semantics) of this f32 parameter in place, from `grad`,
    /// updating the moments `m` and `v` in place.
    pub fn adam_step_(&self, hp: &AdamStep, grad: &Tensor, m: &Tensor, v: &Tensor) {
        same_shapes("adam_step_", self, &[("grad", grad), ("m", m), ("v", v)]);
        match self.device() {
            Device::Gpu => k::adam(
                hp,
                self.gpu_buffer(),
                grad.gpu_buffer(),
                m.gpu_buffer(),
                v.gpu_buffer(),
            ),
            Device::Cpu if fast_cpu() => f::adam(
                hp,
                &mut self.cpu_f32_mut(),
                &grad.cpu_f32(),
                &mut m.cpu_f32_mut(),
                &mut v.cpu_f32_mut(),
            ),
            Device::Cpu => r::adam(
                hp,
                &mut self.cpu_f32_mut(),
                &grad.cpu_f32(),
                &mut m.cpu_f32_mut(),
                &mut v.cpu_f32_mut(),
            ),
        }
    }

    /// One SGD step (`hp`) of this f32 parameter in place, from `grad`, with the momentum
    /// buffer (updated in place) when `hp` has momentum.
    pub fn sgd_step_(&self, hp: &SgdStep, grad: &Tensor, momentum: Option<&Tensor>) {
        same_shapes("sgd_step_", self, &[("grad", grad)]);
        if let Some(b) = momentum {
            same_shapes("sgd_step_", self, &[("momentum", b)]);
        }
        match self.device() {
            Device::Gpu => k::sgd(
                hp,
                self.gpu_buffer(),
                grad.gpu_buffer(),
                momentum.map(|b| b.gpu_buffer()),
            ),
            Device::Cpu => {
                let mut b = momentum.map(|b| b.cpu_f32_mut());
                let sgd = if fast_cpu() { f::sgd } else { r::sgd::<f32> };
                sgd(
                    hp,
                    &mut self.cpu_f32_mut(),
                    &grad.cpu_f32(),
                    b.as_deref_mut().map(|v| v.as_mut_slice()),
                );
            }
        }
    }
}
