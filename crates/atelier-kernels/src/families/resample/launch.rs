//! Launchers for `resample.wgsl`: upsample_nearest2d (integer scale factors) and
//! reflection_pad2d, forward and backward, with PyTorch semantics.

use bytemuck::{Pod, Zeroable};

use super::RESAMPLE;
use crate::buffer_pool::GpuBuffer;
use crate::check::check_len;
use crate::chunk::{Batched, split_batch};
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const UPSAMPLE_NEAREST2D: Kernel = Kernel::new(&RESAMPLE, "upsample_nearest2d");
pub const UPSAMPLE_NEAREST2D_BACKWARD: Kernel =
    Kernel::new(&RESAMPLE, "upsample_nearest2d_backward");
pub const REFLECTION_PAD2D: Kernel = Kernel::new(&RESAMPLE, "reflection_pad2d");
pub const REFLECTION_PAD2D_BACKWARD: Kernel = Kernel::new(&RESAMPLE, "reflection_pad2d_backward");

/// Nearest-neighbour upsampling of `[n, c, h, w]` to `[n, c, h * scale[0], w * scale[1]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpsampleConfig {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    /// [scale_h, scale_w], each >= 1.
    pub scale: [usize; 2],
}

impl UpsampleConfig {
    pub fn out_h(&self) -> usize {
        self.h * self.scale[0]
    }

    pub fn out_w(&self) -> usize {
        self.w * self.scale[1]
    }

    pub fn in_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    pub fn out_len(&self) -> usize {
        self.n * self.c * self.out_h() * self.out_w()
    }
}

/// Reflection padding of `[n, c, h, w]` to `[n, c, top + h + bottom, left + w + right]`; each
/// pad must be smaller than the dimension it pads (PyTorch's rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReflectionPadConfig {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub left: usize,
    pub right: usize,
    pub top: usize,
    pub bottom: usize,
}

impl ReflectionPadConfig {
    /// PyTorch's order: `pad = [left, right, top, bottom]`.
    pub fn new(
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        [left, right, top, bottom]: [usize; 4],
    ) -> ReflectionPadConfig {
        ReflectionPadConfig {
            n,
            c,
            h,
            w,
            left,
            right,
            top,
            bottom,
        }
    }

    pub fn out_h(&self) -> usize {
        self.top + self.h + self.bottom
    }

    pub fn out_w(&self) -> usize {
        self.left + self.w + self.right
    }

    pub fn in_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    pub fn out_len(&self) -> usize {
        self.n * self.c * self.out_h() * self.out_w()
    }

    /// Panics, naming `kernel`, unless every pad is smaller than its dimension.
    pub fn validate(&self, kernel: &str) {
        assert!(
            self.left < self.w && self.right < self.w && self.top < self.h && self.bottom < self.h,
            "{kernel}: each pad must be smaller than the dimension it pads: {self:?}"
        );
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    scale_h: u32,
    scale_w: u32,
    left: u32,
    right: u32,
    top: u32,
    bottom: u32,
    total_in: u32,
    total_out: u32,
    _pad: [u32; 2],
}

fn u(v: usize) -> u32 {
    u32::try_from(v).expect("resample: sizes must fit in u32")
}

fn upsample_params(cfg: &UpsampleConfig) -> Params {
    assert!(
        cfg.scale[0] >= 1 && cfg.scale[1] >= 1,
        "upsample_nearest2d: scale {:?} must be >= 1",
        cfg.scale
    );
    Params {
        n: u(cfg.n),
        c: u(cfg.c),
        h: u(cfg.h),
        w: u(cfg.w),
        oh: u(cfg.out_h()),
        ow: u(cfg.out_w()),
        scale_h: u(cfg.scale[0]),
        scale_w: u(cfg.scale[1]),
        total_in: u(cfg.in_len()),
        total_out: u(cfg.out_len()),
        ..Params::default()
    }
}

fn pad_params(cfg: &ReflectionPadConfig, kernel: &str) -> Params {
    cfg.validate(kernel);
    Params {
        n: u(cfg.n),
        c: u(cfg.c),
        h: u(cfg.h),
        w: u(cfg.w),
        oh: u(cfg.out_h()),
        ow: u(cfg.out_w()),
        left: u(cfg.left),
        right: u(cfg.right),
        top: u(cfg.top),
        bottom: u(cfg.bottom),
        total_in: u(cfg.in_len()),
        total_out: u(cfg.out_len()),
        ..Params::default()
    }
}

/// Runs `kernel` with `p` over `input` and `output` (its bindings, named for messages): a
/// forward op reads x and writes y, one invocation per output element; a backward op
/// (`backward`) reads gy and writes gx, one invocation per input element. Both ops work plane
/// by plane, so tensors larger than one binding run in chunks of `(n, c)` planes (one image
/// larger than a binding included), each chunk the same op over `[1, planes, ...]`.
fn launch(
    op: &str,
    kernel: &Kernel,
    p: &Params,
    input: (&str, &GpuBuffer),
    output: (&str, &GpuBuffer),
    backward: bool,
) {
    let (x_plane, y_plane) = ((p.h * p.w) as usize, (p.oh * p.ow) as usize);
    // the plane of what is read, and of what is written
    let (in_plane, out_plane) = if backward {
        (y_plane, x_plane)
    } else {
        (x_plane, y_plane)
    };
    let (x, y) = (input.1, output.1);
    let batched = [
        Batched {
            what: input.0,
            buffer: x,
            per_item: in_plane,
        },
        Batched {
            what: output.0,
            buffer: y,
            per_item: out_plane,
        },
    ];
    let planes = (p.n * p.c) as usize;
    if split_batch(op, planes, &batched, |_, planes, win| {
        let chunk = Params {
            n: 1,
            c: u(planes),
            total_in: u(planes * x_plane),
            total_out: u(planes * y_plane),
            ..*p
        };
        launch(
            op,
            kernel,
            &chunk,
            (input.0, &win[0]),
            (output.0, &win[1]),
            backward,
        );
    }) {
        return;
    }
    let invocations = if backward { p.total_in } else { p.total_out };
    gpu().launch_elements(kernel, &[], p, &[x, y], invocations as usize);
}

/// `y[oh, ow] = x[oh / scale_h, ow / scale_w]`.
pub fn upsample_nearest2d(cfg: &UpsampleConfig, x: &GpuBuffer, y: &GpuBuffer) {
    let p = upsample_params(cfg);
    check_len("upsample_nearest2d", "x", x, cfg.in_len(), cfg);
    check_len("upsample_nearest2d", "y", y, cfg.out_len(), cfg);
    launch(
        "upsample_nearest2d",
        &UPSAMPLE_NEAREST2D,
        &p,
        ("x", x),
        ("y", y),
        false,
    );
}

/// `gx[ih, iw]` = the sum of `gy` over the `scale_h x scale_w` block it was copied to.
pub fn upsample_nearest2d_backward(cfg: &UpsampleConfig, gy: &GpuBuffer, gx: &GpuBuffer) {
    let p = upsample_params(cfg);
    check_len("upsample_nearest2d_backward", "gy", gy, cfg.out_len(), cfg);
    check_len("upsample_nearest2d_backward", "gx", gx, cfg.in_len(), cfg);
    let k = "upsample_nearest2d_backward";
    launch(
        k,
        &UPSAMPLE_NEAREST2D_BACKWARD,
        &p,
        ("gy", gy),
        ("gx", gx),
        true,
    );
}

/// `y[oh, ow] = x[reflect(oh - top), reflect(ow - left)]`.
pub fn reflection_pad2d(cfg: &ReflectionPadConfig, x: &GpuBuffer, y: &GpuBuffer) {
    let p = pad_params(cfg, "reflection_pad2d");
    check_len("reflection_pad2d", "x", x, cfg.in_len(), cfg);
    check_len("reflection_pad2d", "y", y, cfg.out_len(), cfg);
    launch(
        "reflection_pad2d",
        &REFLECTION_PAD2D,
        &p,
        ("x", x),
        ("y", y),
        false,
    );
}

/// `gx` = the sum of `gy` over the outputs that reflect onto each input element.
pub fn reflection_pad2d_backward(cfg: &ReflectionPadConfig, gy: &GpuBuffer, gx: &GpuBuffer) {
    let p = pad_params(cfg, "reflection_pad2d_backward");
    check_len("reflection_pad2d_backward", "gy", gy, cfg.out_len(), cfg);
    check_len("reflection_pad2d_backward", "gx", gx, cfg.in_len(), cfg);
    let k = "reflection_pad2d_backward";
    launch(
        k,
        &REFLECTION_PAD2D_BACKWARD,
        &p,
        ("gy", gy),
        ("gx", gx),
        true,
    );
}
