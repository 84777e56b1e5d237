//! Validation of `resample.wgsl` and of the fast CPU device's `cpu.rs` (variant `cpu`, outputs
//! poisoned with NaN). The reference's backward passes (scatters, where the
//! GPU gathers) are themselves checked against finite differences of their forwards.

use super::reference as r;
use super::{self as k, ReflectionPadConfig, UpsampleConfig};
use crate::gpu;

use crate::harness::numeric::{TOL_FINITE_DIFF, dot, numeric_gradient, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// ([n, c, h, w], [scale_h, scale_w]): 1x1, odd sizes, unequal and unit factors.
const UPSAMPLE: [([usize; 4], [usize; 2]); 4] = [
    ([1, 1, 1, 1], [1, 1]),
    ([2, 3, 5, 7], [2, 2]),
    ([1, 2, 3, 4], [3, 2]),
    ([2, 1, 9, 5], [1, 3]),
];

/// An output of more than 65,535 * 256 elements: the grid folds into y.
const UPSAMPLE_FOLDED: ([usize; 4], [usize; 2]) = ([1, 1, 1024, 1025], [4, 4]);

/// ([n, c, h, w], [left, right, top, bottom]): pads of dimension - 1 (the largest allowed, where
/// both mirrors reach the same inputs), a zero pad, a one-row image, a larger image.
const REFLECTION: [([usize; 4], [usize; 4]); 6] = [
    ([1, 1, 2, 2], [1, 1, 1, 1]),
    ([2, 3, 5, 7], [2, 1, 0, 3]),
    ([1, 2, 9, 11], [4, 4, 4, 4]),
    ([1, 1, 1, 5], [3, 4, 0, 0]),
    ([2, 2, 6, 3], [2, 2, 5, 5]),
    ([1, 3, 67, 61], [3, 3, 3, 3]),
];

fn upsample_config(([n, c, h, w], scale): ([usize; 4], [usize; 2])) -> UpsampleConfig {
    UpsampleConfig { n, c, h, w, scale }
}

fn pad_config(([n, c, h, w], pad): ([usize; 4], [usize; 4])) -> ReflectionPadConfig {
    ReflectionPadConfig::new(n, c, h, w, pad)
}

pub fn run(v: &mut Validator) {
    if v.wants("resample.upsample_nearest2d") {
        for case in UPSAMPLE {
            check_upsample(v, &upsample_config(case), true);
        }
        check_upsample(v, &upsample_config(UPSAMPLE_FOLDED), false);
    }
    if v.wants("resample.reflection_pad2d") {
        for case in REFLECTION {
            check_reflection_pad(v, &pad_config(case));
        }
        // more planes than one thread's share: the fast CPU device splits them over its threads
        let cfg = pad_config(([2, 16, 64, 64], [3, 3, 3, 3]));
        let x = v.rand(cfg.in_len());
        let gy = v.rand(cfg.out_len());
        check_reflection_pad_cpu(v, &cfg, &x, &gy, "2x16x64x64 pad 3");
    }
    if v.wants("resample.reference_upsample_backward")
        || v.wants("resample.reference_reflection_pad_backward")
    {
        check_reference_gradients(v);
    }
}

fn check_upsample(v: &mut Validator, cfg: &UpsampleConfig, backward: bool) {
    let case = format!(
        "{}x{}x{}x{} scale {:?}",
        cfg.n, cfg.c, cfg.h, cfg.w, cfg.scale
    );
    let x = v.rand(cfg.in_len());
    let mut y = vec![0.0; cfg.out_len()];
    r::upsample_nearest2d(cfg, &x, &mut y);
    let yb = v.poisoned(cfg.out_len());
    k::upsample_nearest2d(cfg, &gpu().upload(&x), &yb);
    let got = v.read(&yb);
    v.check(
        "resample.upsample_nearest2d",
        "direct",
        &case,
        &got,
        &y,
        TOL_FORWARD,
    );
    let mut got = vec![f32::NAN; cfg.out_len()];
    super::cpu::upsample_nearest2d(cfg, &x, &mut got);
    v.check(
        "resample.upsample_nearest2d",
        "cpu",
        &case,
        &got,
        &y,
        TOL_FORWARD,
    );
    let gy = v.rand(cfg.out_len());
    let mut gx = vec![0.0; cfg.in_len()];
    r::upsample_nearest2d_backward(cfg, &to_f64(&gy), &mut gx);
    let mut got = vec![f32::NAN; cfg.in_len()];
    super::cpu::upsample_nearest2d_backward(cfg, &gy, &mut got);
    let row = "resample.upsample_nearest2d_backward";
    v.check(row, "cpu", &case, &got, &to_f32(&gx), TOL_GRAD);
    if !backward {
        return;
    }
    let gx_b = v.poisoned(cfg.in_len());
    k::upsample_nearest2d_backward(cfg, &gpu().upload(&gy), &gx_b);
    let got = v.read(&gx_b);
    v.check(
        "resample.upsample_nearest2d_backward",
        "direct",
        &case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
}

fn check_reflection_pad(v: &mut Validator, cfg: &ReflectionPadConfig) {
    let case = format!(
        "{}x{}x{}x{} pad l{} r{} t{} b{}",
        cfg.n, cfg.c, cfg.h, cfg.w, cfg.left, cfg.right, cfg.top, cfg.bottom
    );
    let x = v.rand(cfg.in_len());
    let mut y = vec![0.0; cfg.out_len()];
    r::reflection_pad2d(cfg, &x, &mut y);
    let yb = v.poisoned(cfg.out_len());
    k::reflection_pad2d(cfg, &gpu().upload(&x), &yb);
    let got = v.read(&yb);
    v.check(
        "resample.reflection_pad2d",
        "direct",
        &case,
        &got,
        &y,
        TOL_FORWARD,
    );

    let gy = v.rand(cfg.out_len());
    let mut gx = vec![0.0; cfg.in_len()];
    r::reflection_pad2d_backward(cfg, &to_f64(&gy), &mut gx);
    let gx_b = v.poisoned(cfg.in_len());
    k::reflection_pad2d_backward(cfg, &gpu().upload(&gy), &gx_b);
    let got = v.read(&gx_b);
    v.check(
        "resample.reflection_pad2d_backward",
        "direct",
        &case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
    check_reflection_pad_cpu(v, cfg, &x, &gy, &case);
}

fn check_reflection_pad_cpu(
    v: &mut Validator,
    cfg: &ReflectionPadConfig,
    x: &[f32],
    gy: &[f32],
    case: &str,
) {
    let mut y = vec![0.0; cfg.out_len()];
    r::reflection_pad2d(cfg, x, &mut y);
    let mut got = vec![f32::NAN; cfg.out_len()];
    super::cpu::reflection_pad2d(cfg, x, &mut got);
    v.check(
        "resample.reflection_pad2d",
        "cpu",
        case,
        &got,
        &y,
        TOL_FORWARD,
    );
    let mut gx = vec![0.0; cfg.in_len()];
    r::reflection_pad2d_backward(cfg, &to_f64(gy), &mut gx);
    let mut got = vec![f32::NAN; cfg.in_len()];
    super::cpu::reflection_pad2d_backward(cfg, gy, &mut got);
    let row = "resample.reflection_pad2d_backward";
    v.check(row, "cpu", case, &got, &to_f32(&gx), TOL_GRAD);
}

/// The reference's backward passes against finite differences of their forwards.
fn check_reference_gradients(v: &mut Validator) {
    let cfg = upsample_config(([1, 2, 3, 2], [2, 3]));
    let x = to_f64(&v.rand(cfg.in_len()));
    let gy = to_f64(&v.rand(cfg.out_len()));
    let mut gx = vec![0.0; cfg.in_len()];
    r::upsample_nearest2d_backward(&cfg, &gy, &mut gx);
    let fd = numeric_gradient(&x, |x| {
        let mut y = vec![0.0; cfg.out_len()];
        r::upsample_nearest2d(&cfg, x, &mut y);
        dot(&y, &gy)
    });
    let kernel = "resample.reference_upsample_backward";
    v.check(
        kernel,
        "finite_diff",
        "1x2x3x2 scale [2, 3]",
        &to_f32(&gx),
        &to_f32(&fd),
        TOL_FINITE_DIFF,
    );

    let cfg = pad_config(([1, 2, 4, 3], [2, 1, 3, 2]));
    let x = to_f64(&v.rand(cfg.in_len()));
    let gy = to_f64(&v.rand(cfg.out_len()));
    let mut gx = vec![0.0; cfg.in_len()];
    r::reflection_pad2d_backward(&cfg, &gy, &mut gx);
    let fd = numeric_gradient(&x, |x| {
        let mut y = vec![0.0; cfg.out_len()];
        r::reflection_pad2d(&cfg, x, &mut y);
        dot(&y, &gy)
    });
    let kernel = "resample.reference_reflection_pad_backward";
    v.check(
        kernel,
        "finite_diff",
        "1x2x4x3 pad [2, 1, 3, 2]",
        &to_f32(&gx),
        &to_f32(&fd),
        TOL_FINITE_DIFF,
    );
}
