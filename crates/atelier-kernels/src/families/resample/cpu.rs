//! The fast CPU device's resampling, in f32: planes split over the thread pool, each output
//! row read as runs of its source row (the reference computes every index from a division),
//! and the backward passes per plane, so a plane's scatter never meets another thread's.

use crate::cpu::threads::{GRAIN, for_chunks_mut};
use crate::resample::{ReflectionPadConfig, UpsampleConfig};

/// As [`crate::resample::reference::upsample_nearest2d`].
pub fn upsample_nearest2d(cfg: &UpsampleConfig, x: &[f32], y: &mut [f32]) {
    assert!(
        x.len() == cfg.in_len() && y.len() == cfg.out_len(),
        "upsample_nearest2d (fast CPU): lengths for {cfg:?}"
    );
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    for_chunks_mut(y, ohw, GRAIN, |first, ys| {
        for (p, yp) in ys.chunks_mut(ohw).enumerate() {
            let plane = &x[(first + p) * hw..][..hw];
            for (oh, row) in yp.chunks_mut(ow_n).enumerate() {
                let src = &plane[oh / cfg.scale[0] * cfg.w..][..cfg.w];
                for (ow, v) in row.iter_mut().enumerate() {
                    *v = src[ow / cfg.scale[1]];
                }
            }
        }
    });
}

/// As [`crate::resample::reference::upsample_nearest2d_backward`].
pub fn upsample_nearest2d_backward(cfg: &UpsampleConfig, gy: &[f32], gx: &mut [f32]) {
    assert!(
        gy.len() == cfg.out_len() && gx.len() == cfg.in_len(),
        "upsample_nearest2d_backward (fast CPU): lengths for {cfg:?}"
    );
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    for_chunks_mut(gx, hw, GRAIN, |first, gxs| {
        gxs.fill(0.0);
        for (p, plane) in gxs.chunks_mut(hw).enumerate() {
            let gp = &gy[(first + p) * ohw..][..ohw];
            for (oh, row) in gp.chunks(ow_n).enumerate() {
                let dst = &mut plane[oh / cfg.scale[0] * cfg.w..][..cfg.w];
                for (ow, &g) in row.iter().enumerate() {
                    dst[ow / cfg.scale[1]] += g;
                }
            }
        }
    });
}

/// PyTorch's reflection of `i` into 0..n (the edge is not repeated).
fn reflect(i: isize, n: usize) -> usize {
    let last = n as isize - 1;
    (if i < 0 {
        -i
    } else if i > last {
        2 * last - i
    } else {
        i
    }) as usize
}

/// As [`crate::resample::reference::reflection_pad2d`].
pub fn reflection_pad2d(cfg: &ReflectionPadConfig, x: &[f32], y: &mut [f32]) {
    cfg.validate("reflection_pad2d");
    assert!(
        x.len() == cfg.in_len() && y.len() == cfg.out_len(),
        "reflection_pad2d (fast CPU): lengths for {cfg:?}"
    );
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    let columns: Vec<usize> = (0..ow_n)
        .map(|ow| reflect(ow as isize - cfg.left as isize, cfg.w))
        .collect();
    for_chunks_mut(y, ohw, GRAIN, |first, ys| {
        for (p, yp) in ys.chunks_mut(ohw).enumerate() {
            let plane = &x[(first + p) * hw..][..hw];
            for (oh, row) in yp.chunks_mut(ow_n).enumerate() {
                let ih = reflect(oh as isize - cfg.top as isize, cfg.h);
                let src = &plane[ih * cfg.w..][..cfg.w];
                // the middle of the row is a copy; only the borders reflect
                row[cfg.left..cfg.left + cfg.w].copy_from_slice(src);
                for ow in (0..cfg.left).chain(cfg.left + cfg.w..ow_n) {
                    row[ow] = src[columns[ow]];
                }
            }
        }
    });
}

/// As [`crate::resample::reference::reflection_pad2d_backward`].
pub fn reflection_pad2d_backward(cfg: &ReflectionPadConfig, gy: &[f32], gx: &mut [f32]) {
    cfg.validate("reflection_pad2d_backward");
    assert!(
        gy.len() == cfg.out_len() && gx.len() == cfg.in_len(),
        "reflection_pad2d_backward (fast CPU): lengths for {cfg:?}"
    );
    let (hw, ow_n, ohw) = (cfg.h * cfg.w, cfg.out_w(), cfg.out_h() * cfg.out_w());
    let columns: Vec<usize> = (0..ow_n)
        .map(|ow| reflect(ow as isize - cfg.left as isize, cfg.w))
        .collect();
    for_chunks_mut(gx, hw, GRAIN, |first, gxs| {
        gxs.fill(0.0);
        for (p, plane) in gxs.chunks_mut(hw).enumerate() {
            let gp = &gy[(first + p) * ohw..][..ohw];
            for (oh, row) in gp.chunks(ow_n).enumerate() {
                let ih = reflect(oh as isize - cfg.top as isize, cfg.h);
                let dst = &mut plane[ih * cfg.w..][..cfg.w];
                for (ow, &g) in row.iter().enumerate() {
                    dst[columns[ow]] += g;
                }
            }
        }
    });
}
