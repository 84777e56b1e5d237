//! The fast CPU device's pooling, in f32: planes split over the thread pool, each output's
//! window clipped to the input once (the reference filters every window position), and the
//! backward passes run per plane, so a plane's scatter never meets another thread's.

use std::ops::Range;

use crate::cpu::threads::{GRAIN, for_chunks, for_chunks_mut};
use crate::pool2d::Pool2dConfig;

/// Rows and columns of output (oh, ow)'s window that lie inside the input.
fn window(cfg: &Pool2dConfig, oh: usize, ow: usize) -> (Range<usize>, Range<usize>) {
    let clip = |o: usize, d: usize, size: usize| {
        let start = (o * cfg.stride[d]) as isize - cfg.padding[d] as isize;
        let end = start + cfg.kernel[d] as isize;
        start.max(0) as usize..(end.min(size as isize)) as usize
    };
    (clip(oh, 0, cfg.h), clip(ow, 1, cfg.w))
}

/// PyTorch's count_include_pad divisor: the window clipped to the padded input.
fn divisor(cfg: &Pool2dConfig, oh: usize, ow: usize) -> f32 {
    let (h0, w0) = (oh * cfg.stride[0], ow * cfg.stride[1]); // in padded coordinates
    let h1 = (h0 + cfg.kernel[0]).min(cfg.h + 2 * cfg.padding[0]);
    let w1 = (w0 + cfg.kernel[1]).min(cfg.w + 2 * cfg.padding[1]);
    ((h1 - h0) * (w1 - w0)) as f32
}

fn check(cfg: &Pool2dConfig, op: &str, x: usize, y: usize) {
    cfg.validate(op);
    assert!(
        x == cfg.in_len() && y == cfg.out_len(),
        "{op} (fast CPU): {x} input and {y} output elements for {cfg:?}"
    );
}

/// As [`crate::pool2d::reference::max_pool2d`]: the first maximum of each window in row-major
/// order, and its index in the input plane.
pub fn max_pool2d(cfg: &Pool2dConfig, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    check(cfg, "max_pool2d", x.len(), y.len());
    assert_eq!(
        argmax.len(),
        y.len(),
        "max_pool2d (fast CPU): argmax length"
    );
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    for_chunks(y, ohw, argmax, ohw, GRAIN, |first, ys, args| {
        for (p, (yp, ap)) in ys.chunks_mut(ohw).zip(args.chunks_mut(ohw)).enumerate() {
            let plane = &x[(first + p) * hw..][..hw];
            for (o, (yo, ao)) in yp.iter_mut().zip(ap.iter_mut()).enumerate() {
                let (rows, cols) = window(cfg, o / ow_n, o % ow_n);
                let mut best = (f32::NAN, usize::MAX);
                for ih in rows {
                    for iw in cols.clone() {
                        let idx = ih * cfg.w + iw;
                        if best.1 == usize::MAX || plane[idx] > best.0 {
                            best = (plane[idx], idx);
                        }
                    }
                }
                (*yo, *ao) = (best.0, best.1 as u32);
            }
        }
    });
}

/// As [`crate::pool2d::reference::max_pool2d_backward`]: each output's gradient added at its
/// maximum.
pub fn max_pool2d_backward(cfg: &Pool2dConfig, gy: &[f32], argmax: &[u32], gx: &mut [f32]) {
    check(cfg, "max_pool2d backward", gx.len(), gy.len());
    assert_eq!(
        argmax.len(),
        gy.len(),
        "max_pool2d backward (fast CPU): argmax"
    );
    let (hw, ohw) = (cfg.h * cfg.w, cfg.out_h() * cfg.out_w());
    for_chunks_mut(gx, hw, GRAIN, |first, gxs| {
        gxs.fill(0.0);
        for (p, plane) in gxs.chunks_mut(hw).enumerate() {
            let at = (first + p) * ohw;
            for (&g, &i) in gy[at..at + ohw].iter().zip(&argmax[at..at + ohw]) {
                plane[i as usize] += g;
            }
        }
    });
}

/// As [`crate::pool2d::reference::avg_pool2d`].
pub fn avg_pool2d(cfg: &Pool2dConfig, x: &[f32], y: &mut [f32]) {
    check(cfg, "avg_pool2d", x.len(), y.len());
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    for_chunks_mut(y, ohw, GRAIN, |first, ys| {
        for (p, yp) in ys.chunks_mut(ohw).enumerate() {
            let plane = &x[(first + p) * hw..][..hw];
            for (o, yo) in yp.iter_mut().enumerate() {
                let (oh, ow) = (o / ow_n, o % ow_n);
                let (rows, cols) = window(cfg, oh, ow);
                let sum: f32 = rows
                    .map(|ih| {
                        plane[ih * cfg.w + cols.start..ih * cfg.w + cols.end]
                            .iter()
                            .sum::<f32>()
                    })
                    .sum();
                *yo = sum / divisor(cfg, oh, ow);
            }
        }
    });
}

/// As [`crate::pool2d::reference::avg_pool2d_backward`].
pub fn avg_pool2d_backward(cfg: &Pool2dConfig, gy: &[f32], gx: &mut [f32]) {
    check(cfg, "avg_pool2d backward", gx.len(), gy.len());
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    for_chunks_mut(gx, hw, GRAIN, |first, gxs| {
        gxs.fill(0.0);
        for (p, plane) in gxs.chunks_mut(hw).enumerate() {
            let at = (first + p) * ohw;
            for (o, &g) in gy[at..at + ohw].iter().enumerate() {
                let (oh, ow) = (o / ow_n, o % ow_n);
                let share = g / divisor(cfg, oh, ow);
                let (rows, cols) = window(cfg, oh, ow);
                for ih in rows {
                    for v in &mut plane[ih * cfg.w + cols.start..ih * cfg.w + cols.end] {
                        *v += share;
                    }
                }
            }
        }
    });
}
