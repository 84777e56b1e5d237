//! Launchers for `pool2d.wgsl`: max_pool2d and avg_pool2d (PyTorch semantics with
//! dilation 1, ceil_mode false, count_include_pad true), forward and backward.
//!
//! The max pool's `argmax` buffer holds, per output element, the index `ih * w + iw` of the
//! maximum in its input plane, stored as u32 bits in f32-sized elements (read it with
//! `f32::to_bits`); the backward routes each gradient to it.

use bytemuck::{Pod, Zeroable};

use super::POOL;
use crate::buffer_pool::GpuBuffer;
use crate::check::check_lens;
use crate::chunk::{Batched, split_batch};
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const MAX_POOL2D: Kernel = Kernel::new(&POOL, "max_pool2d");
pub const MAX_POOL2D_BACKWARD: Kernel = Kernel::new(&POOL, "max_pool2d_backward");
pub const AVG_POOL2D: Kernel = Kernel::new(&POOL, "avg_pool2d");
pub const AVG_POOL2D_BACKWARD: Kernel = Kernel::new(&POOL, "avg_pool2d_backward");

/// One pooling: input `[n, c, h, w]`, window `kernel = [kh, kw]`, `stride`, zero/-inf
/// `padding` on each side (at most half the window, as PyTorch requires).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dConfig {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl Pool2dConfig {
    /// A square window `k`, stride `s`, padding `p`.
    pub fn square(
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        k: usize,
        s: usize,
        p: usize,
    ) -> Pool2dConfig {
        Pool2dConfig {
            n,
            c,
            h,
            w,
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
        }
    }

    /// Output height, (h + 2*ph - kh) / sh + 1.
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.padding[0] - self.kernel[0]) / self.stride[0] + 1
    }

    /// Output width, (w + 2*pw - kw) / sw + 1.
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.padding[1] - self.kernel[1]) / self.stride[1] + 1
    }

    /// Elements of the input.
    pub fn in_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    /// Elements of the output.
    pub fn out_len(&self) -> usize {
        self.n * self.c * self.out_h() * self.out_w()
    }

    /// Panics, naming `kernel`, unless PyTorch would accept these sizes.
    pub fn validate(&self, kernel: &str) {
        let ok = (0..2).all(|d| {
            let size = [self.h, self.w][d];
            self.kernel[d] >= 1
                && self.stride[d] >= 1
                && 2 * self.padding[d] <= self.kernel[d]
                && size + 2 * self.padding[d] >= self.kernel[d]
        });
        assert!(
            ok,
            "{kernel}: invalid pooling {self:?} (need kernel, stride >= 1, padding <= kernel/2, \
             kernel <= padded input)"
        );
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    ph: u32,
    pw: u32,
    total_in: u32,
    total_out: u32,
    _pad: [u32; 2],
}

fn params(cfg: &Pool2dConfig) -> Params {
    let u = |v: usize| u32::try_from(v).expect("pool: sizes must fit in u32");
    Params {
        n: u(cfg.n),
        c: u(cfg.c),
        h: u(cfg.h),
        w: u(cfg.w),
        oh: u(cfg.out_h()),
        ow: u(cfg.out_w()),
        kh: u(cfg.kernel[0]),
        kw: u(cfg.kernel[1]),
        sh: u(cfg.stride[0]),
        sw: u(cfg.stride[1]),
        ph: u(cfg.padding[0]),
        pw: u(cfg.padding[1]),
        total_in: u(cfg.in_len()),
        total_out: u(cfg.out_len()),
        _pad: [0; 2],
    }
}

/// Runs `kernel` over `buffers` (each `(name, buffer, is_input)`: input-sized or output-sized),
/// with one invocation per element of the input (`per_input`) or of the output. Pooling works
/// plane by plane, so tensors larger than one binding run in chunks of `(n, c)` planes (one
/// image larger than a binding included), each chunk a pooling of `[1, planes, h, w]`.
fn launch(
    op: &str,
    kernel: &Kernel,
    cfg: &Pool2dConfig,
    buffers: &[(&str, &GpuBuffer, bool)],
    per_input: bool,
) {
    let (in_plane, out_plane) = (cfg.h * cfg.w, cfg.out_h() * cfg.out_w());
    let batched: Vec<Batched> = buffers
        .iter()
        .map(|&(what, buffer, input)| Batched {
            what,
            buffer,
            per_item: if input { in_plane } else { out_plane },
        })
        .collect();
    if split_batch(op, cfg.n * cfg.c, &batched, |_, planes, windows| {
        let chunk = Pool2dConfig {
            n: 1,
            c: planes,
            ..*cfg
        };
        let refs: Vec<(&str, &GpuBuffer, bool)> = buffers
            .iter()
            .zip(windows)
            .map(|(&(what, _, input), w)| (what, w, input))
            .collect();
        launch(op, kernel, &chunk, &refs, per_input);
    }) {
        return;
    }
    let refs: Vec<&GpuBuffer> = buffers.iter().map(|b| b.1).collect();
    let invocations = if per_input {
        cfg.in_len()
    } else {
        cfg.out_len()
    };
    gpu().launch_elements(kernel, &[], &params(cfg), &refs, invocations);
}

/// `y` = each window's maximum, `argmax` = its index in the input plane (u32 bits).
pub fn max_pool2d(cfg: &Pool2dConfig, x: &GpuBuffer, y: &GpuBuffer, argmax: &GpuBuffer) {
    let k = "max_pool2d";
    cfg.validate(k);
    check_lens(k, cfg, cfg.in_len(), &[("x", x)]);
    check_lens(k, cfg, cfg.out_len(), &[("y", y), ("argmax", argmax)]);
    let buffers = [("x", x, true), ("y", y, false), ("argmax", argmax, false)];
    launch(k, &MAX_POOL2D, cfg, &buffers, false);
}

/// `gx` = the sum of `gy` over the outputs whose argmax is this input element.
pub fn max_pool2d_backward(cfg: &Pool2dConfig, gy: &GpuBuffer, argmax: &GpuBuffer, gx: &GpuBuffer) {
    let k = "max_pool2d_backward";
    cfg.validate(k);
    check_lens(k, cfg, cfg.out_len(), &[("gy", gy), ("argmax", argmax)]);
    check_lens(k, cfg, cfg.in_len(), &[("gx", gx)]);
    let buffers = [
        ("gy", gy, false),
        ("argmax", argmax, false),
        ("gx", gx, true),
    ];
    launch(k, &MAX_POOL2D_BACKWARD, cfg, &buffers, true);
}

/// `y` = each window's mean, padding counted (count_include_pad).
pub fn avg_pool2d(cfg: &Pool2dConfig, x: &GpuBuffer, y: &GpuBuffer) {
    let k = "avg_pool2d";
    cfg.validate(k);
    check_lens(k, cfg, cfg.in_len(), &[("x", x)]);
    check_lens(k, cfg, cfg.out_len(), &[("y", y)]);
    launch(
        k,
        &AVG_POOL2D,
        cfg,
        &[("x", x, true), ("y", y, false)],
        false,
    );
}

/// `gx` = the sum of `gy / divisor` over the windows containing this input element.
pub fn avg_pool2d_backward(cfg: &Pool2dConfig, gy: &GpuBuffer, gx: &GpuBuffer) {
    let k = "avg_pool2d_backward";
    cfg.validate(k);
    check_lens(k, cfg, cfg.out_len(), &[("gy", gy)]);
    check_lens(k, cfg, cfg.in_len(), &[("gx", gx)]);
    launch(
        k,
        &AVG_POOL2D_BACKWARD,
        cfg,
        &[("gy", gy, false), ("gx", gx, true)],
        true,
    );
}
