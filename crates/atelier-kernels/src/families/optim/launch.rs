//! Launchers for `optim.wgsl`: one fused, in-place optimizer step per parameter tensor.
//!
//! Hyperparameters are f64, as PyTorch's Python floats: `1 - beta2` and the bias corrections
//! are formed in f64 on the host and only then rounded to f32 (0.999 rounded to f32 first
//! would put a 1.3e-5 relative error into `1 - beta2`).

use bytemuck::{Pod, Zeroable};

use super::OPTIM;
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const ADAM: Kernel = Kernel::new(&OPTIM, "adam");
pub const SGD: Kernel = Kernel::new(&OPTIM, "sgd");

/// One step of `torch.optim.Adam` (or `AdamW` with `decoupled_weight_decay`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// false: L2 decay added to the gradient (Adam); true: `p *= 1 - lr * weight_decay`
    /// before the update (AdamW, PyTorch's `decoupled_weight_decay=True`).
    pub decoupled_weight_decay: bool,
    /// The step number, 1-based: the first update is step 1.
    pub step: u64,
}

impl Default for AdamStep {
    /// PyTorch's defaults, at step 1.
    fn default() -> Self {
        AdamStep {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            step: 1,
        }
    }
}

impl AdamStep {
    /// `lr / (1 - beta1^step)`, the step size after bias correction 1.
    pub fn step_size(&self) -> f64 {
        self.lr / (1.0 - self.beta1.powi(self.step_i32()))
    }

    /// `sqrt(1 - beta2^step)`, the square root of bias correction 2.
    pub fn sqrt_bias_correction2(&self) -> f64 {
        (1.0 - self.beta2.powi(self.step_i32())).sqrt()
    }

    fn step_i32(&self) -> i32 {
        assert!(self.step >= 1, "adam: step is 1-based, got {}", self.step);
        // beta^t underflows to 0 long before i32::MAX; saturate instead of wrapping
        i32::try_from(self.step).unwrap_or(i32::MAX)
    }
}

/// One step of `torch.optim.SGD`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdStep {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    /// The step number, 1-based. At step 1 the momentum buffer is set to the gradient
    /// (PyTorch creates it then), so its previous contents do not matter.
    pub step: u64,
}

impl Default for SgdStep {
    /// PyTorch's defaults (no momentum) with lr 1e-3, at step 1.
    fn default() -> Self {
        SgdStep {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            step: 1,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(super) struct AdamParams {
    n: u32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    eps: f32,
    step_size: f32,
    sqrt_bc2: f32,
    grad_decay: f32,
    param_scale: f32,
    _pad: [f32; 2],
}

const SGD_MOMENTUM: u32 = 1;
const SGD_FIRST_STEP: u32 = 2;
const SGD_NESTEROV: u32 = 4;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct SgdParams {
    n: u32,
    flags: u32,
    lr: f32,
    weight_decay: f32,
    momentum: f32,
    one_minus_dampening: f32,
    _pad: [f32; 2],
}

fn n_u32(kernel: &str, n: usize) -> u32 {
    u32::try_from(n).unwrap_or_else(|_| panic!("{kernel}: {n} elements, at most 2^32 - 1"))
}

/// The uniform of `optim.wgsl`'s `adam` and `adam_multi.wgsl` (`n`: elements, or chunks).
pub(super) fn adam_params(hp: &AdamStep, kernel: &str, n: usize) -> AdamParams {
    let (grad_decay, param_scale) = if hp.decoupled_weight_decay {
        (0.0, 1.0 - hp.lr * hp.weight_decay)
    } else {
        (hp.weight_decay, 1.0)
    };
    AdamParams {
        n: n_u32(kernel, n),
        beta1: hp.beta1 as f32,
        one_minus_beta1: (1.0 - hp.beta1) as f32,
        beta2: hp.beta2 as f32,
        one_minus_beta2: (1.0 - hp.beta2) as f32,
        eps: hp.eps as f32,
        step_size: hp.step_size() as f32,
        sqrt_bc2: hp.sqrt_bias_correction2() as f32,
        grad_decay: grad_decay as f32,
        param_scale: param_scale as f32,
        _pad: [0.0; 2],
    }
}

/// One Adam step on one parameter tensor: updates `p`, `m` (first moment) and `v` (second
/// moment) in place from the gradient `g`. `m` and `v` start as zeros.
pub fn adam(hp: &AdamStep, p: &GpuBuffer, g: &GpuBuffer, m: &GpuBuffer, v: &GpuBuffer) {
    let n = p.len();
    assert!(
        g.len() == n && m.len() == n && v.len() == n,
        "adam: lengths p {n}, g {}, m {}, v {} differ",
        g.len(),
        m.len(),
        v.len()
    );
    let params = adam_params(hp, "adam", n);
    gpu().launch_elements(&ADAM, &[], &params, &[p, g, m, v], n);
}

/// One SGD step on one parameter tensor: updates `p` in place from the gradient `g`, and the
/// momentum buffer `buf` when momentum is on. `buf` may be `None` only when `momentum == 0`.
pub fn sgd(hp: &SgdStep, p: &GpuBuffer, g: &GpuBuffer, buf: Option<&GpuBuffer>) {
    let n = p.len();
    assert_eq!(g.len(), n, "sgd: lengths p {n}, g {} differ", g.len());
    assert!(hp.step >= 1, "sgd: step is 1-based, got {}", hp.step);
    assert!(
        !hp.nesterov || (hp.momentum > 0.0 && hp.dampening == 0.0),
        "sgd: nesterov needs momentum > 0 and dampening 0 (momentum {}, dampening {})",
        hp.momentum,
        hp.dampening
    );
    let mut flags = 0;
    if hp.momentum != 0.0 {
        flags |= SGD_MOMENTUM;
        let b =
            buf.unwrap_or_else(|| panic!("sgd: momentum {} needs a momentum buffer", hp.momentum));
        assert_eq!(b.len(), n, "sgd: lengths p {n}, buf {} differ", b.len());
    }
    if hp.step == 1 {
        flags |= SGD_FIRST_STEP;
    }
    if hp.nesterov {
        flags |= SGD_NESTEROV;
    }
    let params = SgdParams {
        n: n_u32("sgd", n),
        flags,
        lr: hp.lr as f32,
        weight_decay: hp.weight_decay as f32,
        momentum: hp.momentum as f32,
        one_minus_dampening: (1.0 - hp.dampening) as f32,
        _pad: [0.0; 2],
    };
    // without momentum the kernel never touches binding 3, but it must be bound to something
    // other than p or g: a one-element scratch buffer from the pool
    let scratch;
    let buf = match buf {
        Some(b) => b,
        None => {
            scratch = GpuBuffer::uninit(1);
            &scratch
        }
    };
    gpu().launch_elements(&SGD, &[], &params, &[p, g, buf], n);
}
