//! CPU reference of `translate.wgsl`. The backward pass scatters each output's
//! gradient to the input it read (the GPU gathers with the negated shifts instead), so the
//! two formulations check each other.

use super::TranslateConfig;
use crate::real::Real;

/// The source index of output `(plane, i, j)` for image shift `(dy, dx)`, if inside.
fn source(cfg: &TranslateConfig, i: usize, j: usize, dy: i64, dx: i64) -> Option<(usize, usize)> {
    let (si, sj) = (i as i64 + dy, j as i64 + dx);
    (si >= 0 && si < cfg.h as i64 && sj >= 0 && sj < cfg.w as i64)
        .then_some((si as usize, sj as usize))
}

fn shift<T: Real>(shifts: &[T], img: usize) -> (i64, i64) {
    (
        shifts[img * 2].to_f64().round() as i64,
        shifts[img * 2 + 1].to_f64().round() as i64,
    )
}

/// `y[n, c, i, j] = x[n, c, i + dy[n], j + dx[n]]`, 0 outside the image.
pub fn translate2d<T: Real>(cfg: &TranslateConfig, x: &[T], shifts: &[T], y: &mut [T]) {
    assert!(
        x.len() == cfg.len() && y.len() == cfg.len() && shifts.len() == cfg.shifts_len(),
        "translate2d: lengths"
    );
    for (o, yo) in y.iter_mut().enumerate() {
        let (plane, i, j) = (o / (cfg.h * cfg.w), (o / cfg.w) % cfg.h, o % cfg.w);
        let (dy, dx) = shift(shifts, plane / cfg.c);
        *yo = match source(cfg, i, j, dy, dx) {
            Some((si, sj)) => x[(plane * cfg.h + si) * cfg.w + sj],
            None => T::zero(),
        };
    }
}

/// The gradient of [`translate2d`] with respect to `x`: each output's gradient added to the
/// element it was read from.
pub fn translate2d_backward<T: Real>(cfg: &TranslateConfig, gy: &[T], shifts: &[T], gx: &mut [T]) {
    assert!(
        gy.len() == cfg.len() && gx.len() == cfg.len() && shifts.len() == cfg.shifts_len(),
        "translate2d_backward: lengths"
    );
    gx.fill(T::zero());
    for (o, &g) in gy.iter().enumerate() {
        let (plane, i, j) = (o / (cfg.h * cfg.w), (o / cfg.w) % cfg.h, o % cfg.w);
        let (dy, dx) = shift(shifts, plane / cfg.c);
        if let Some((si, sj)) = source(cfg, i, j, dy, dx) {
            gx[(plane * cfg.h + si) * cfg.w + sj] += g;
        }
    }
}
