//! Batch normalisation and instance normalisation of NCHW tensors (PyTorch's BatchNorm2d and
//! affine InstanceNorm2d). Forward is statistics then apply; backward is a per-channel (or
//! per-instance) reduction then apply: each a fused kernel (`shaders/batchnorm.wgsl`,
//! `shaders/instance_norm.wgsl`).

use std::cell::RefCell;
use std::collections::HashMap;

use atelier_kernels::GpuBuffer;
use atelier_kernels::batchnorm::cpu as fbn;
use atelier_kernels::batchnorm::reference as rbn;
use atelier_kernels::batchnorm::{self as bn, BatchNormConfig, BatchNormMode};
use atelier_kernels::instance_norm::cpu as fin;
use atelier_kernels::instance_norm::reference as rin;
use atelier_kernels::instance_norm::{self as inorm, InstanceNormConfig};

use atelier_kernels::elementwise::UnaryOp;

use super::elementwise::unary_backward_raw;
use super::run::{Element, cpu_data, fast_cpu, kernel_op};
use crate::tensor::Tensor;
use crate::{DType, Device};

fn nchw(op: &str, t: &Tensor) -> [usize; 4] {
    match t.shape() {
        &[n, c, h, w] => [n, c, h, w],
        s => panic!("{op}: input must be [N, C, H, W], got {s:?}"),
    }
}

fn check_channels(op: &str, c: usize, named: &[(&str, &Tensor)]) {
    for (name, t) in named {
        assert_eq!(
            t.shape(),
            [c],
            "{op}: {name} must be [{c}], got {:?}",
            t.shape()
        );
    }
}

/// Batch statistics on the CPU in the input's precision; the running averages (f32 module
/// buffers) are updated in place.
fn batch_stats_cpu<T: Element>(
    cfg: &BatchNormConfig,
    x: &Tensor,
    rm: &Tensor,
    rv: &Tensor,
) -> (Tensor, Tensor) {
    let mut rmv: Vec<T> = rm.to_vec_f64().into_iter().map(T::from_f64).collect();
    let mut rvv: Vec<T> = rv.to_vec_f64().into_iter().map(T::from_f64).collect();
    let mut mean = vec![T::zero(); cfg.c];
    let mut invstd = vec![T::zero(); cfg.c];
    {
        let xd = cpu_data(x);
        let xs = T::slice(&xd).expect("batch_norm2d: dtype");
        if let (true, Some(x), Some(m), Some(s), Some(rm), Some(rv)) = (
            fast_cpu(),
            T::as_f32(xs),
            T::as_f32_mut(&mut mean),
            T::as_f32_mut(&mut invstd),
            T::as_f32_mut(&mut rmv),
            T::as_f32_mut(&mut rvv),
        ) {
            fbn::batchnorm_stats(cfg, x, m, s, rm, rv);
        } else {
            rbn::batchnorm_stats(cfg, xs, &mut mean, &mut invstd, &mut rmv, &mut rvv);
        }
    }
    rm.write(&rmv.iter().map(|v| v.to_f64() as f32).collect::<Vec<_>>());
    rv.write(&rvv.iter().map(|v| v.to_f64() as f32).collect::<Vec<_>>());
    let c = [cfg.c];
    (
        Tensor::from_cpu(T::wrap(mean), &c),
        Tensor::from_cpu(T::wrap(invstd), &c),
    )
}

/// The running statistics, training mode, momentum and eps of a batch norm.
type BatchStats<'a> = (&'a Tensor, &'a Tensor, bool, f32, f32);

impl Tensor {
    /// Batch normalisation over N, H, W per channel. In training mode it normalises with the
    /// batch statistics and updates `running_mean` / `running_var` in place
    /// (`running = (1 − momentum)·running + momentum·batch`, unbiased variance); in evaluation
    /// mode it uses the running statistics.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm2d(
        &self,
        gamma: &Tensor,
        beta: &Tensor,
        running_mean: &Tensor,
        running_var: &Tensor,
        training: bool,
        momentum: f32,
        eps: f32,
    ) -> Tensor {
        let stats = (running_mean, running_var, training, momentum, eps);
        self.batch_norm2d_then(gamma, beta, stats, None)
    }

    /// [`batch_norm2d`](Tensor::batch_norm2d) followed by a LeakyReLU of `slope` (ReLU at
    /// slope 0), the pair DCGAN's blocks end with, in one kernel on the GPU
    /// (`batchnorm_apply_act`): the activation's pass over the tensor and its dispatch go
    /// away. Its backward reads the activation's derivative off the output (y > 0 exactly
    /// where the normalised value was, for slope >= 0): on the GPU inside batch norm's two
    /// backward kernels (`batchnorm_backward_reduce_act`, `batchnorm_backward_apply_act`), so
    /// the activation has no backward pass either; on the CPU before batch norm's backward.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm2d_act(
        &self,
        gamma: &Tensor,
        beta: &Tensor,
        running_mean: &Tensor,
        running_var: &Tensor,
        training: bool,
        momentum: f32,
        eps: f32,
        slope: f32,
    ) -> Tensor {
        assert!(
            slope >= 0.0,
            "batch_norm2d_act: slope {slope} is negative (the backward reads the derivative off the output)"
        );
        let stats = (running_mean, running_var, training, momentum, eps);
        self.batch_norm2d_then(gamma, beta, stats, Some(slope))
    }

    /// Batch normalisation, followed by a LeakyReLU of slope `act` when given.
    fn batch_norm2d_then(
        &self,
        gamma: &Tensor,
        beta: &Tensor,
        (running_mean, running_var, training, momentum, eps): BatchStats,
        act: Option<f32>,
    ) -> Tensor {
        let op = if act.is_some() {
            "batch_norm2d_act"
        } else {
            "batch_norm2d"
        };
        let [n, c, h, w] = nchw(op, self);
        check_channels(
            op,
            c,
            &[
                ("gamma", gamma),
                ("beta", beta),
                ("running_mean", running_mean),
                ("running_var", running_var),
            ],
        );
        let cfg = BatchNormConfig {
            n,
            c,
            hw: h * w,
            eps,
            momentum,
        };
        let mode = if training {
            BatchNormMode::Training
        } else {
            BatchNormMode::Evaluation
        };
        if training {
            assert!(
                n * h * w > 1,
                "{op}: training needs more than one value per channel, got input {:?}",
                self.shape()
            );
        }
        let (mean, invstd) = match (training, self.device()) {
            (true, Device::Gpu) => {
                let (m, s) = (GpuBuffer::uninit(c), GpuBuffer::uninit(c));
                bn::batchnorm_stats(
                    &cfg,
                    self.gpu_buffer(),
                    &m,
                    &s,
                    running_mean.gpu_buffer(),
                    running_var.gpu_buffer(),
                );
                (Tensor::from_gpu(m, &[c]), Tensor::from_gpu(s, &[c]))
            }
            (true, Device::Cpu) => match self.dtype() {
                DType::F32 => batch_stats_cpu::<f32>(&cfg, self, running_mean, running_var),
                DType::F64 => batch_stats_cpu::<f64>(&cfg, self, running_mean, running_var),
            },
            (false, _) => {
                // a snapshot: later training steps must not change what this backward uses
                let rm = running_mean.deep_clone();
                let rv = if self.dtype() == DType::F64 {
                    running_var.to_f64()
                } else {
                    running_var.clone()
                };
                let rm = if self.dtype() == DType::F64 {
                    rm.to_f64()
                } else {
                    rm
                };
                let invstd = kernel_op!(
                    "batchnorm_invstd",
                    [&rv],
                    [&[c]],
                    gpu | i,
                    o | bn::batchnorm_invstd(&cfg, i[0], o[0]),
                    cpu | i,
                    o | rbn::batchnorm_invstd(&cfg, i[0], &mut o[0])
                )
                .remove(0);
                (rm, invstd)
            }
        };
        let y = match act {
            None => kernel_op!(
                op,
                [self, &mean, &invstd, gamma, beta],
                [self.shape()],
                gpu | i,
                o | bn::batchnorm_apply(&cfg, i[0], i[1], i[2], i[3], i[4], o[0]),
                fast | i,
                o | fbn::batchnorm_apply(&cfg, i[0], i[1], i[2], i[3], i[4], &mut o[0]),
                cpu | i,
                o | rbn::batchnorm_apply(&cfg, i[0], i[1], i[2], i[3], i[4], &mut o[0])
            ),
            Some(slope) => kernel_op!(
                op,
                [self, &mean, &invstd, gamma, beta],
                [self.shape()],
                gpu | i,
                o | bn::batchnorm_apply_act(&cfg, i[0], i[1], i[2], i[3], i[4], o[0], slope),
                fast | i,
                o | {
                    fbn::batchnorm_apply(&cfg, i[0], i[1], i[2], i[3], i[4], &mut o[0]);
                    rbn::activate(&mut o[0], slope)
                },
                cpu | i,
                o | rbn::batchnorm_apply_act(&cfg, i[0], i[1], i[2], i[3], i[4], &mut o[0], slope)
            ),
        }
        .remove(0);
        let (x, g_) = (self.detach(), gamma.detach());
        let shape = self.shape().to_vec();
        // with an activation, its derivative comes from the output (a detached view: no
        // cycle through the node)
        let out = act.map(|slope| (y.detach(), slope));
        y.with_node(op, &[self, gamma, beta], move |gy| {
            // on the GPU, batch norm's backward kernels apply the activation's derivative as
            // they read gy: no pass of its own
            if let Some((y, slope)) = &out
                && y.device() == Device::Gpu
                && bn::batchnorm_act_backward_fits()
            {
                let (x, g_) = (&x, &g_);
                return batch_norm_act_backward(&cfg, mode, [x, y, gy, &mean, &invstd, g_], *slope);
            }
            let gy_act;
            let gy = match &out {
                Some((y, slope)) => {
                    gy_act = unary_backward_raw(y, gy, UnaryOp::LeakyRelu, *slope);
                    &gy_act
                }
                None => gy,
            };
            let mut sums = kernel_op!(
                "batchnorm_backward_reduce",
                [&x, gy, &mean, &invstd],
                [&[c], &[c]],
                gpu | i,
                o | bn::batchnorm_backward_reduce(&cfg, i[0], i[1], i[2], i[3], o[0], o[1]),
                fast | i,
                o | {
                    let (a, b) = o.split_at_mut(1);
                    fbn::batchnorm_backward_reduce(
                        &cfg, i[0], i[1], i[2], i[3], &mut a[0], &mut b[0],
                    )
                },
                cpu | i,
                o | {
                    let (a, b) = o.split_at_mut(1);
                    rbn::batchnorm_backward_reduce(
                        &cfg, i[0], i[1], i[2], i[3], &mut a[0], &mut b[0],
                    )
                }
            );
            let (ggamma, gbeta) = (sums.remove(0), sums.remove(0));
            let gx = kernel_op!(
                "batchnorm_backward_apply",
                [&x, gy, &mean, &invstd, &g_, &ggamma, &gbeta],
                [&shape],
                gpu | i,
                o | bn::batchnorm_backward_apply(
                    &cfg, mode, i[0], i[1], i[2], i[3], i[4], i[5], i[6], o[0]
                ),
                fast | i,
                o | fbn::batchnorm_backward_apply(
                    &cfg, mode, i[0], i[1], i[2], i[3], i[4], i[5], i[6], &mut o[0]
                ),
                cpu | i,
                o | rbn::batchnorm_backward_apply(
                    &cfg, mode, i[0], i[1], i[2], i[3], i[4], i[5], i[6], &mut o[0]
                )
            )
            .remove(0);
            vec![Some(gx), Some(ggamma), Some(gbeta)]
        })
    }

    /// Affine instance normalisation: statistics per (image, channel) over H, W.
    pub fn instance_norm2d(&self, gamma: &Tensor, beta: &Tensor, eps: f32) -> Tensor {
        instance_norm(self, Some((gamma, beta)), eps)
    }

    /// Instance normalisation without affine parameters (PyTorch's `InstanceNorm2d` default,
    /// `affine=False`): `(x − mean) / sqrt(var + eps)` per (image, channel). The same kernels
    /// as [`instance_norm2d`](Tensor::instance_norm2d) with γ = 1 and β = 0; its backward
    /// computes no parameter gradients.
    pub fn instance_norm2d_no_affine(&self, eps: f32) -> Tensor {
        instance_norm(self, None, eps)
    }
}

/// (γ = 1, β = 0) by device, precision and channel count.
type UnitAffineCache = HashMap<(Device, DType, usize), (Tensor, Tensor)>;

thread_local! {
    /// γ = 1 and β = 0 for instance norms without affine parameters, made once per key, so a
    /// training step fills nothing.
    static UNIT_AFFINE: RefCell<UnitAffineCache> = RefCell::new(HashMap::new());
}

/// `[c]` ones and zeros on `like`'s device and in its precision (shared, never written).
fn unit_affine(like: &Tensor, c: usize) -> (Tensor, Tensor) {
    let key = (like.device(), like.dtype(), c);
    UNIT_AFFINE.with(|cache| {
        cache
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| match key {
                (Device::Cpu, DType::F64, _) => (
                    Tensor::from_f64(vec![1.0; c], &[c]),
                    Tensor::from_f64(vec![0.0; c], &[c]),
                ),
                (device, _, _) => (Tensor::ones(&[c], device), Tensor::zeros(&[c], device)),
            })
            .clone()
    })
}

/// Instance normalisation, affine when `affine` holds (γ, β).
fn instance_norm(x: &Tensor, affine: Option<(&Tensor, &Tensor)>, eps: f32) -> Tensor {
    let op = "instance_norm2d";
    let [n, c, h, w] = nchw(op, x);
    // without affine parameters the kernels run with γ = 1, β = 0 (made once per size)
    let unit = affine.is_none().then(|| unit_affine(x, c));
    let (gamma, beta) = match (affine, &unit) {
        (Some((g, b)), _) => (g, b),
        (None, Some((g, b))) => (g, b),
        (None, None) => unreachable!("unit parameters made above"),
    };
    check_channels(op, c, &[("gamma", gamma), ("beta", beta)]);
    let cfg = InstanceNormConfig {
        n,
        c,
        hw: h * w,
        eps,
    };
    let nc = [n * c];
    let mut stats = kernel_op!(
        "instance_norm_stats",
        [x],
        [&nc, &nc],
        gpu | i,
        o | inorm::instance_norm_stats(&cfg, i[0], o[0], o[1]),
        fast | i,
        o | {
            let (a, b) = o.split_at_mut(1);
            fin::instance_norm_stats(&cfg, i[0], &mut a[0], &mut b[0])
        },
        cpu | i,
        o | {
            let (a, b) = o.split_at_mut(1);
            rin::instance_norm_stats(&cfg, i[0], &mut a[0], &mut b[0])
        }
    );
    let (mean, invstd) = (stats.remove(0), stats.remove(0));
    let y = kernel_op!(
        op,
        [x, &mean, &invstd, gamma, beta],
        [x.shape()],
        gpu | i,
        o | inorm::instance_norm_apply(&cfg, i[0], i[1], i[2], i[3], i[4], o[0]),
        fast | i,
        o | fin::instance_norm_apply(&cfg, i[0], (i[1], i[2]), (i[3], i[4]), &mut o[0]),
        cpu | i,
        o | rin::instance_norm_apply(&cfg, i[0], i[1], i[2], i[3], i[4], &mut o[0])
    )
    .remove(0);
    let with_params = affine.is_some();
    let (x_, g_) = (x.detach(), gamma.detach());
    let shape = x.shape().to_vec();
    let backward = move |gy: &Tensor| {
        let mut sums = kernel_op!(
            "instance_norm_backward_reduce",
            [&x_, gy, &mean, &invstd],
            [&nc, &nc],
            gpu | i,
            o | inorm::instance_norm_backward_reduce(&cfg, i[0], i[1], i[2], i[3], o[0], o[1]),
            fast | i,
            o | {
                let (a, b) = o.split_at_mut(1);
                let stats = (i[2], i[3]);
                fin::instance_norm_backward_reduce(&cfg, i[0], i[1], stats, &mut a[0], &mut b[0])
            },
            cpu | i,
            o | {
                let (a, b) = o.split_at_mut(1);
                rin::instance_norm_backward_reduce(
                    &cfg, i[0], i[1], i[2], i[3], &mut a[0], &mut b[0],
                )
            }
        );
        let (sum_gy_xhat, sum_gy) = (sums.remove(0), sums.remove(0));
        let gx = kernel_op!(
            "instance_norm_backward_apply",
            [&x_, gy, &mean, &invstd, &g_, &sum_gy_xhat, &sum_gy],
            [&shape],
            gpu | i,
            o | inorm::instance_norm_backward_apply(
                &cfg, i[0], i[1], i[2], i[3], i[4], i[5], i[6], o[0]
            ),
            fast | i,
            o | fin::instance_norm_backward_apply(
                &cfg,
                (i[0], i[1]),
                (i[2], i[3], i[4]),
                (i[5], i[6]),
                &mut o[0]
            ),
            cpu | i,
            o | rin::instance_norm_backward_apply(
                &cfg, i[0], i[1], i[2], i[3], i[4], i[5], i[6], &mut o[0]
            )
        )
        .remove(0);
        if !with_params {
            return vec![Some(gx)];
        }
        let mut pg = kernel_op!(
            "instance_norm_param_grads",
            [&sum_gy_xhat, &sum_gy],
            [&[c], &[c]],
            gpu | i,
            o | inorm::instance_norm_param_grads(&cfg, i[0], i[1], o[0], o[1]),
            cpu | i,
            o | {
                let (a, b) = o.split_at_mut(1);
                rin::instance_norm_param_grads(&cfg, i[0], i[1], &mut a[0], &mut b[0])
            }
        );
        let (ggamma, gbeta) = (pg.remove(0), pg.remove(0));
        vec![Some(gx), Some(ggamma), Some(gbeta)]
    };
    match affine {
        Some((g, b)) => y.with_node(op, &[x, g, b], backward),
        None => y.with_node(op, &[x], backward),
    }
}

/// The backward of [`Tensor::batch_norm2d_act`] on the GPU, the activation's derivative
/// recomputed from its output `y` inside batch norm's two backward kernels
/// (`batchnorm_backward_reduce_act`, `batchnorm_backward_apply_act`): gradients of x, gamma and
/// beta from `[x, y, gy, mean, invstd, gamma]`. (The CPU branch, which the caller does not
/// take, is the reference: the activation's backward, then batch norm's.)
fn batch_norm_act_backward(
    cfg: &BatchNormConfig,
    mode: BatchNormMode,
    [x, y, gy, mean, invstd, gamma]: [&Tensor; 6],
    slope: f32,
) -> Vec<Option<Tensor>> {
    let c = cfg.c;
    let mut sums = kernel_op!(
        "batchnorm_backward_reduce_act",
        [x, y, gy, mean, invstd],
        [&[c], &[c]],
        gpu | i,
        o | bn::batchnorm_backward_reduce_act(cfg, i[0], i[1], i[2], i[3], i[4], o[0], o[1], slope),
        cpu | i,
        o | {
            let gy_act = rbn::activation_backward(i[1], i[2], slope);
            let (a, b) = o.split_at_mut(1);
            rbn::batchnorm_backward_reduce(cfg, i[0], &gy_act, i[3], i[4], &mut a[0], &mut b[0])
        }
    );
    let (ggamma, gbeta) = (sums.remove(0), sums.remove(0));
    let gx = kernel_op!(
        "batchnorm_backward_apply_act",
        [x, y, gy, mean, invstd, gamma, &ggamma, &gbeta],
        [x.shape()],
        gpu | i,
        o | bn::batchnorm_backward_apply_act(
            cfg, mode, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], o[0], slope
        ),
        cpu | i,
        o | {
            let gy_act = rbn::activation_backward(i[1], i[2], slope);
            rbn::batchnorm_backward_apply(
                cfg, mode, i[0], &gy_act, i[3], i[4], i[5], i[6], i[7], &mut o[0],
            )
        }
    )
    .remove(0);
    vec![Some(gx), Some(ggamma), Some(gbeta)]
}
