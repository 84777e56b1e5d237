//! CPU reference of `resample.wgsl`. The backward passes scatter each output's gradient
//! to the input it read (the GPU gathers instead), so the two formulations check each other.

use crate::Real;
use crate::resample::{ReflectionPadConfig, UpsampleConfig};

pub fn upsample_nearest2d<T: Real>(cfg: &UpsampleConfig, x: &[T], y: &mut [T]) {
    assert!(
        x.len() == cfg.in_len() && y.len() == cfg.out_len(),
        "upsample_nearest2d: lengths"
    );
    let (oh_n, ow_n) = (cfg.out_h(), cfg.out_w());
    for (o, yo) in y.iter_mut().enumerate() {
        let (plane, oh, ow) = (o / (oh_n * ow_n), (o / ow_n) % oh_n, o % ow_n);
        *yo = x[(plane * cfg.h + oh / cfg.scale[0]) * cfg.w + ow / cfg.scale[1]];
    }
}

pub fn upsample_nearest2d_backward<T: Real>(cfg: &UpsampleConfig, gy: &[T], gx: &mut [T]) {
    assert!(
        gy.len() == cfg.out_len() && gx.len() == cfg.in_len(),
        "upsample_nearest2d_backward: lengths"
    );
    let (oh_n, ow_n) = (cfg.out_h(), cfg.out_w());
    gx.fill(T::zero());
    for (o, &g) in gy.iter().enumerate() {
        let (plane, oh, ow) = (o / (oh_n * ow_n), (o / ow_n) % oh_n, o % ow_n);
        gx[(plane * cfg.h + oh / cfg.scale[0]) * cfg.w + ow / cfg.scale[1]] += g;
    }
}

/// PyTorch's reflection of `i` into 0..n (the edge is not repeated).
fn reflect(i: isize, n: usize) -> usize {
    let last = n as isize - 1;
    let r = if i < 0 {
        -i
    } else if i > last {
        2 * last - i
    } else {
        i
    };
    r as usize
}

/// The input index each output element of a reflection pad reads.
fn source(cfg: &ReflectionPadConfig, o: usize) -> usize {
    let (oh_n, ow_n) = (cfg.out_h(), cfg.out_w());
    let (plane, oh, ow) = (o / (oh_n * ow_n), (o / ow_n) % oh_n, o % ow_n);
    let ih = reflect(oh as isize - cfg.top as isize, cfg.h);
    let iw = reflect(ow as isize - cfg.left as isize, cfg.w);
    (plane * cfg.h + ih) * cfg.w + iw
}

pub fn reflection_pad2d<T: Real>(cfg: &ReflectionPadConfig, x: &[T], y: &mut [T]) {
    cfg.validate("reflection_pad2d");
    assert!(
        x.len() == cfg.in_len() && y.len() == cfg.out_len(),
        "reflection_pad2d: lengths"
    );
    for (o, yo) in y.iter_mut().enumerate() {
        *yo = x[source(cfg, o)];
    }
}

pub fn reflection_pad2d_backward<T: Real>(cfg: &ReflectionPadConfig, gy: &[T], gx: &mut [T]) {
    cfg.validate("reflection_pad2d_backward");
    assert!(
        gy.len() == cfg.out_len() && gx.len() == cfg.in_len(),
        "reflection_pad2d_backward: lengths"
    );
    gx.fill(T::zero());
    for (o, &g) in gy.iter().enumerate() {
        gx[source(cfg, o)] += g;
    }
}
