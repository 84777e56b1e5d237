//! Launcher for `translate.wgsl`: per-image translation with zero fill (DiffAugment).

use bytemuck::{Pod, Zeroable};

use super::TRANSLATE;
use crate::buffer_pool::GpuBuffer;
use crate::check::{check_len, u32_of};
use crate::context::gpu;
use crate::pipeline::Kernel;

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
    check_len("translate2d", "x", x, cfg.len(), cfg);
    check_len("translate2d", "shifts", shifts, cfg.shifts_len(), cfg);
    check_len("translate2d", "y", y, cfg.len(), cfg);
    let p = Params {
        n: u32_of("translate2d", cfg.n),
        c: u32_of("translate2d", cfg.c),
        h: u32_of("translate2d", cfg.h),
        w: u32_of("translate2d", cfg.w),
        total: u32_of("translate2d", cfg.len()),
        sign: if inverse { -1 } else { 1 },
        _pad: [0; 2],
    };
    gpu().launch_elements(&TRANSLATE2D, &[], &p, &[x, shifts, y], cfg.len());
}
