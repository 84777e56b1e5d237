//! The fast CPU device's translation, in f32: planes split over the thread pool, each output
//! row one copy of the part of its source row that lies inside the image, zeros around it.
//! The backward pass is the same gather with the shifts negated (as on the GPU).

use crate::cpu::threads::{GRAIN, for_chunks_mut};
use crate::translate::TranslateConfig;

/// Image `img`'s shift (dy, dx), rounded as the reference rounds it; `sign` -1 negates it.
fn shift(shifts: &[f32], img: usize, sign: i64) -> (i64, i64) {
    let round = |v: f32| (v as f64).round() as i64 * sign;
    (round(shifts[img * 2]), round(shifts[img * 2 + 1]))
}

/// `y[n, c, i, j] = x[n, c, i + sign·dy[n], j + sign·dx[n]]`, 0 outside the image.
fn gather(cfg: &TranslateConfig, x: &[f32], shifts: &[f32], y: &mut [f32], sign: i64) {
    assert!(
        x.len() == cfg.len() && y.len() == cfg.len() && shifts.len() == cfg.shifts_len(),
        "translate2d (fast CPU): lengths for {cfg:?}"
    );
    let (h, w) = (cfg.h as i64, cfg.w as i64);
    let hw = cfg.h * cfg.w;
    for_chunks_mut(y, hw, GRAIN, |first, ys| {
        for (p, yp) in ys.chunks_mut(hw).enumerate() {
            let plane = first + p;
            let (dy, dx) = shift(shifts, plane / cfg.c, sign);
            let src = &x[plane * hw..][..hw];
            // output columns j whose source column j + dx lies in 0..w
            let (j0, j1) = ((-dx).clamp(0, w) as usize, (w - dx).clamp(0, w) as usize);
            for (i, row) in yp.chunks_mut(cfg.w).enumerate() {
                let si = i as i64 + dy;
                if si < 0 || si >= h || j0 >= j1 {
                    row.fill(0.0);
                    continue;
                }
                let s0 = (si as usize) * cfg.w + (j0 as i64 + dx) as usize;
                row[..j0].fill(0.0);
                row[j0..j1].copy_from_slice(&src[s0..s0 + (j1 - j0)]);
                row[j1..].fill(0.0);
            }
        }
    });
}

/// As [`crate::translate::reference::translate2d`].
pub fn translate2d(cfg: &TranslateConfig, x: &[f32], shifts: &[f32], y: &mut [f32]) {
    gather(cfg, x, shifts, y, 1);
}

/// As [`crate::translate::reference::translate2d_backward`]: the gradient flows back along
/// the negated shift (a translation is a permutation of the pixels it keeps).
pub fn translate2d_backward(cfg: &TranslateConfig, gy: &[f32], shifts: &[f32], gx: &mut [f32]) {
    gather(cfg, gy, shifts, gx, -1);
}
