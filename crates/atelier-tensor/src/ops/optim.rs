//! Optimizer updates of a parameter tensor in place, from its gradient and its optimizer
//! state, on the tensor's device: one fused kernel on the GPU (the optim family), the
//! reference on the CPU. Not recorded by autograd. [`AdamMoments`] keeps Adam's state for a
//! whole list of parameters, and on the GPU steps them all with the multi-tensor kernel.

use atelier_kernels::optim::{self as k, AdamGroup, cpu as f, reference as r};

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

/// Adam's first and second moments for a list of parameters, zero at first.
///
/// On the GPU (more than one parameter, all there) the moments live in the two flat buffers
/// of an [`AdamGroup`]: each moment tensor is a window of them, and [`AdamMoments::step`]
/// updates every parameter with `adam_group` (the multi-tensor kernel: one dispatch for many
/// tensors, or one per tensor: `ATELIER_KERNELS=optim=...`). Elsewhere, one tensor per
/// parameter and moment, and a step updates them one by one. The moment tensors are views of
/// this state: valid while it lives.
pub struct AdamMoments {
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Declared last: dropped after the windows above.
    group: Option<AdamGroup>,
}

impl AdamMoments {
    /// Zero moments for `params`.
    pub fn zeros(params: &[Tensor]) -> AdamMoments {
        let on_gpu = params.len() > 1
            && params
                .iter()
                .all(|p| p.device() == Device::Gpu && p.dtype() == crate::DType::F32);
        let lens: Vec<usize> = params.iter().map(Tensor::numel).collect();
        if on_gpu && let Some(group) = AdamGroup::new(&lens) {
            let (m, v): (Vec<Tensor>, Vec<Tensor>) = params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let (m, v) = group.moments(i);
                    (
                        Tensor::from_gpu(m, p.shape()),
                        Tensor::from_gpu(v, p.shape()),
                    )
                })
                .unzip();
            return AdamMoments {
                m,
                v,
                group: Some(group),
            };
        }
        AdamMoments {
            m: params.iter().map(Tensor::zeros_like).collect(),
            v: params.iter().map(Tensor::zeros_like).collect(),
            group: None,
        }
    }

    /// The first moments, one per parameter.
    pub fn m(&self) -> &[Tensor] {
        &self.m
    }

    /// The second moments, one per parameter.
    pub fn v(&self) -> &[Tensor] {
        &self.v
    }

    /// One Adam step (`hp`) of every parameter of `params` (the list these moments were made
    /// for) that has a gradient, in place.
    pub fn step(&self, hp: &AdamStep, params: &[Tensor]) {
        assert_eq!(
            params.len(),
            self.m.len(),
            "AdamMoments::step: {} parameters for moments of {}",
            params.len(),
            self.m.len()
        );
        let grads: Vec<Option<Tensor>> = params.iter().map(Tensor::grad).collect();
        if let Some(group) = &self.group
            && grads.iter().all(Option::is_some)
        {
            let grads: Vec<Tensor> = grads.into_iter().flatten().collect();
            for (p, g) in params.iter().zip(&grads) {
                same_shapes("adam_step_", p, &[("grad", g)]);
            }
            let pb: Vec<_> = params.iter().map(Tensor::gpu_buffer).collect();
            let gb: Vec<_> = grads.iter().map(Tensor::gpu_buffer).collect();
            k::adam_group(hp, group, &pb, &gb);
            return;
        }
        for (((p, g), m), v) in params.iter().zip(grads).zip(&self.m).zip(&self.v) {
            if let Some(g) = g {
                p.adam_step_(hp, &g, m, v);
            }
        }
    }
}
