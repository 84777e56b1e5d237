//! Launcher for `shaders/translate.wgsl`: per-image translation with zero fill (DiffAugment).

use bytemuck::{Pod, Zeroable};

use super::{WG, groups_for};
use crate::context::gpu;
use crate::pipeline::Kernel;
use crate::pool::GpuBuffer;
use crate::shaders::TRANSLATE;

pub const TRANSLATE2D: Kernel = Kernel::new(&TRANSLATE, "translate2d");

/// An NCHW tensor `[n, c, h, w]` whose images are each shifted by their own whole-pixel
/// offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TranslateConfig {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl TranslateConfig {
    pub fn len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of the shifts buffer: `(dy, dx)` per image.
    pub fn shifts_len(&self) -> usize {
        self.n * 2
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    total: u32,
    sign: i32,
    _pad: [u32; 2],
}

fn u(v: usize) -> u32 {
    u32::try_from(v).expect("translate2d: sizes must fit in u32")
}

/// `y[n, c, i, j] = x[n, c, i + dy[n], j + dx[n]]` (0 outside the image), where
/// `shifts = [dy0, dx0, dy1, dx1, ...]` hold whole numbers; with `inverse` the shifts are
/// negated, which is the gradient of the forward translation.
pub fn translate2d(
    cfg: &TranslateConfig,
    x: &GpuBuffer,
    shifts: &GpuBuffer,
    y: &GpuBuffer,
    inverse: bool,
) {
    assert!(
        x.len() == cfg.len() && y.len() == cfg.len() && shifts.len() == cfg.shifts_len(),
        "translate2d: buffers of {}, {} and {} elements for {cfg:?} (want {}, {} shifts)",
        x.len(),
        y.len(),
        shifts.len(),
        cfg.len(),
        cfg.shifts_len()
    );
    let p = Params {
        n: u(cfg.n),
        c: u(cfg.c),
        h: u(cfg.h),
        w: u(cfg.w),
        total: u(cfg.len()),
        sign: if inverse { -1 } else { 1 },
        _pad: [0; 2],
    };
    gpu().launch(
        &TRANSLATE2D,
        &[("WG", WG as f64)],
        &p,
        &[x, shifts, y],
        groups_for(cfg.len()),
    );
}
