//! Validation of `translate.wgsl` (DiffAugment's translation) and of the fast CPU device's
//! `cpu.rs` (variant `cpu`, outputs poisoned with NaN). The reference's backward
//! pass (a scatter, where the GPU gathers with negated shifts) is itself checked against
//! finite differences of its forward.

use super::reference as r;
use super::{self as k, TranslateConfig};
use crate::gpu;
use crate::harness::numeric::{TOL_FINITE_DIFF, dot, numeric_gradient, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// [n, c, h, w]: one pixel, odd sizes, more images than channels, a plane larger than a
/// workgroup, and a grid past 65,535 workgroups (folded into y).
const CASES: [[usize; 4]; 5] = [
    [1, 1, 1, 1],
    [3, 2, 5, 7],
    [7, 3, 9, 4],
    [2, 3, 37, 41],
    [1, 1, 4099, 4111],
];

/// Random whole-number shifts in [-max, max] per axis, some past the image's size.
fn shifts(v: &mut Validator, cfg: &TranslateConfig) -> Vec<f32> {
    (0..cfg.n)
        .flat_map(|_| [cfg.h, cfg.w])
        .map(|size| {
            let max = size + 1;
            v.int(0, 2 * max) as f32 - max as f32
        })
        .collect()
}

pub fn run(v: &mut Validator) {
    if v.wants("translate.translate2d") {
        for [n, c, h, w] in v.pick(CASES.to_vec(), 3) {
            check(v, &TranslateConfig { n, c, h, w });
        }
    }
    if v.wants("translate.reference_backward") {
        check_reference_gradient(v);
    }
}

fn check(v: &mut Validator, cfg: &TranslateConfig) {
    let case = format!("{}x{}x{}x{}", cfg.n, cfg.c, cfg.h, cfg.w);
    let x = v.rand(cfg.len());
    let s = shifts(v, cfg);
    let mut y = vec![0.0; cfg.len()];
    r::translate2d(cfg, &x, &s, &mut y);
    let sb = gpu().upload(&s);
    let yb = v.poisoned(cfg.len());
    k::translate2d(cfg, &gpu().upload(&x), &sb, &yb, false);
    let got = v.read(&yb);
    v.check(
        "translate.translate2d",
        "direct",
        &case,
        &got,
        &y,
        TOL_FORWARD,
    );
    let mut got = vec![f32::NAN; cfg.len()];
    super::cpu::translate2d(cfg, &x, &s, &mut got);
    v.check("translate.translate2d", "cpu", &case, &got, &y, TOL_FORWARD);

    let gy = v.rand(cfg.len());
    let mut gx = vec![0.0; cfg.len()];
    r::translate2d_backward(cfg, &to_f64(&gy), &to_f64(&s), &mut gx);
    let gxb = v.poisoned(cfg.len());
    k::translate2d(cfg, &gpu().upload(&gy), &sb, &gxb, true);
    let got = v.read(&gxb);
    v.check(
        "translate.translate2d_backward",
        "direct",
        &case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
    let mut got = vec![f32::NAN; cfg.len()];
    super::cpu::translate2d_backward(cfg, &gy, &s, &mut got);
    let row = "translate.translate2d_backward";
    v.check(row, "cpu", &case, &got, &to_f32(&gx), TOL_GRAD);
}

fn check_reference_gradient(v: &mut Validator) {
    let cfg = TranslateConfig {
        n: 3,
        c: 2,
        h: 4,
        w: 5,
    };
    let x = to_f64(&v.rand(cfg.len()));
    let s = to_f64(&[1.0, -2.0, 0.0, 3.0, -4.0, 0.0]);
    let gy = to_f64(&v.rand(cfg.len()));
    let mut gx = vec![0.0; cfg.len()];
    r::translate2d_backward(&cfg, &gy, &s, &mut gx);
    let fd = numeric_gradient(&x, |x| {
        let mut y = vec![0.0; cfg.len()];
        r::translate2d(&cfg, x, &s, &mut y);
        dot(&y, &gy)
    });
    v.check(
        "translate.reference_backward",
        "finite_diff",
        "3x2x4x5",
        &to_f32(&gx),
        &to_f32(&fd),
        TOL_FINITE_DIFF,
    );
}
