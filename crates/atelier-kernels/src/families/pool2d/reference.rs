//! CPU reference of `pool2d.wgsl`. The backward passes scatter each output's gradient
//! into its window (the GPU gathers instead), so the two formulations check each other.

use crate::Real;
use crate::pool2d::Pool2dConfig;

/// The input positions (ih, iw) of output (oh, ow)'s window that lie inside the input.
fn window(cfg: &Pool2dConfig, oh: usize, ow: usize) -> impl Iterator<Item = (usize, usize)> {
    let (h0, w0) = (
        (oh * cfg.stride[0]) as isize - cfg.padding[0] as isize,
        (ow * cfg.stride[1]) as isize - cfg.padding[1] as isize,
    );
    let (kh, kw, h, w) = (
        cfg.kernel[0] as isize,
        cfg.kernel[1] as isize,
        cfg.h as isize,
        cfg.w as isize,
    );
    (h0..h0 + kh)
        .flat_map(move |ih| (w0..w0 + kw).map(move |iw| (ih, iw)))
        .filter(move |&(ih, iw)| ih >= 0 && ih < h && iw >= 0 && iw < w)
        .map(|(ih, iw)| (ih as usize, iw as usize))
}

/// PyTorch's count_include_pad divisor: the window clipped to the padded input.
fn divisor(cfg: &Pool2dConfig, oh: usize, ow: usize) -> usize {
    let (h0, w0) = (oh * cfg.stride[0], ow * cfg.stride[1]); // in padded coordinates
    let h1 = (h0 + cfg.kernel[0]).min(cfg.h + 2 * cfg.padding[0]);
    let w1 = (w0 + cfg.kernel[1]).min(cfg.w + 2 * cfg.padding[1]);
    (h1 - h0) * (w1 - w0)
}

/// Calls `f(plane, oh, ow, output index)` for every output element in order.
fn for_each_output(cfg: &Pool2dConfig, mut f: impl FnMut(usize, usize, usize, usize)) {
    let (oh_n, ow_n) = (cfg.out_h(), cfg.out_w());
    for plane in 0..cfg.n * cfg.c {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                f(plane, oh, ow, (plane * oh_n + oh) * ow_n + ow);
            }
        }
    }
}

pub fn max_pool2d<T: Real>(cfg: &Pool2dConfig, x: &[T], y: &mut [T], argmax: &mut [u32]) {
    cfg.validate("max_pool2d");
    assert!(x.len() == cfg.in_len() && y.len() == cfg.out_len() && argmax.len() == cfg.out_len());
    let hw = cfg.h * cfg.w;
    for_each_output(cfg, |plane, oh, ow, o| {
        // the first maximum in row-major order
        let mut best: Option<(T, usize)> = None;
        for (ih, iw) in window(cfg, oh, ow) {
            let idx = ih * cfg.w + iw;
            let v = x[plane * hw + idx];
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, idx));
            }
        }
        let (v, idx) = best.expect("padding <= kernel/2 leaves every window an input element");
        y[o] = v;
        argmax[o] = idx as u32;
    });
}

pub fn max_pool2d_backward<T: Real>(cfg: &Pool2dConfig, gy: &[T], argmax: &[u32], gx: &mut [T]) {
    assert!(gy.len() == cfg.out_len() && argmax.len() == cfg.out_len() && gx.len() == cfg.in_len());
    let hw = cfg.h * cfg.w;
    gx.fill(T::zero());
    for_each_output(cfg, |plane, _, _, o| {
        gx[plane * hw + argmax[o] as usize] += gy[o];
    });
}

pub fn avg_pool2d<T: Real>(cfg: &Pool2dConfig, x: &[T], y: &mut [T]) {
    cfg.validate("avg_pool2d");
    assert!(x.len() == cfg.in_len() && y.len() == cfg.out_len());
    let hw = cfg.h * cfg.w;
    for_each_output(cfg, |plane, oh, ow, o| {
        let sum: T = window(cfg, oh, ow)
            .map(|(ih, iw)| x[plane * hw + ih * cfg.w + iw])
            .sum();
        y[o] = sum / T::from_f64(divisor(cfg, oh, ow) as f64);
    });
}

pub fn avg_pool2d_backward<T: Real>(cfg: &Pool2dConfig, gy: &[T], gx: &mut [T]) {
    assert!(gy.len() == cfg.out_len() && gx.len() == cfg.in_len());
    let hw = cfg.h * cfg.w;
    gx.fill(T::zero());
    for_each_output(cfg, |plane, oh, ow, o| {
        let share = gy[o] / T::from_f64(divisor(cfg, oh, ow) as f64);
        for (ih, iw) in window(cfg, oh, ow) {
            gx[plane * hw + ih * cfg.w + iw] += share;
        }
    });
}
