//! Validation of `pool2d.wgsl` and the fast CPU device's `cpu.rs` (variant `cpu`). The
//! backward kernels get the reference's argmax, so each row checks one kernel on its own; the reference's backward (a scatter, where the GPU
//! gathers) is itself checked against finite differences of its forward.

use super::reference as r;
use super::{self as k, Pool2dConfig};
use crate::{GpuBuffer, gpu};

use crate::harness::numeric::{TOL_FINITE_DIFF, dot, numeric_gradient, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// ([n, c, h, w], kernel, stride, padding): odd sizes, padding of half the window, stride
/// larger than the window, rectangular windows, 1x1, and one larger image.
const CASES: [Pool2dConfig; 8] = [
    config([1, 1, 7, 5], [2, 2], [2, 2], [0, 0]),
    config([2, 3, 9, 11], [3, 3], [2, 2], [1, 1]),
    config([1, 2, 8, 8], [3, 3], [1, 1], [1, 1]),
    config([2, 1, 13, 7], [2, 2], [3, 3], [0, 0]),
    config([1, 3, 5, 6], [3, 2], [1, 2], [1, 1]),
    config([1, 1, 1, 1], [1, 1], [1, 1], [0, 0]),
    config([1, 2, 4, 4], [4, 4], [4, 4], [2, 2]),
    config([2, 3, 67, 61], [3, 3], [2, 2], [1, 1]),
];

const fn config(
    [n, c, h, w]: [usize; 4],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Pool2dConfig {
    Pool2dConfig {
        n,
        c,
        h,
        w,
        kernel,
        stride,
        padding,
    }
}

fn describe(cfg: &Pool2dConfig) -> String {
    format!(
        "{}x{}x{}x{} k{:?} s{:?} p{:?}",
        cfg.n, cfg.c, cfg.h, cfg.w, cfg.kernel, cfg.stride, cfg.padding
    )
}

/// Indices must match exactly: any error at all fails.
const EXACT: f64 = f64::MIN_POSITIVE;

/// Indices as f32 values, for comparison.
fn indices_as_values(idx: &[u32]) -> Vec<f32> {
    idx.iter().map(|&i| i as f32).collect()
}

/// The rows this file reports; all run when the filter matches any.
const ROWS: [&str; 6] = [
    "pool2d.max_pool2d",
    "pool2d.max_pool2d_backward",
    "pool2d.avg_pool2d",
    "pool2d.avg_pool2d_backward",
    "pool2d.reference_max_backward",
    "pool2d.reference_avg_backward",
];

pub fn run(v: &mut Validator) {
    if !ROWS.iter().any(|row| v.wants(row)) {
        return;
    }
    for cfg in CASES {
        let x = v.rand(cfg.in_len());
        check_max(v, &cfg, &x, &describe(&cfg));
        check_avg(v, &cfg, &x, &describe(&cfg));
    }
    // small integers: many ties, where the first maximum in row-major order must win
    let cfg = Pool2dConfig::square(2, 3, 9, 11, 3, 1, 1);
    let x: Vec<f32> = (0..cfg.in_len()).map(|_| v.int(0, 3) as f32).collect();
    check_max(v, &cfg, &x, &format!("{} ties", describe(&cfg)));
    // more planes than one thread's share: the fast CPU device splits them over its threads
    let cfg = Pool2dConfig::square(2, 16, 96, 96, 2, 2, 0);
    let x = v.rand(cfg.in_len());
    check_cpu(v, &cfg, &x, &describe(&cfg));
    check_reference_gradients(v);
}

fn check_max(v: &mut Validator, cfg: &Pool2dConfig, x: &[f32], case: &str) {
    check_cpu(v, cfg, x, case);
    let (n_in, n_out) = (cfg.in_len(), cfg.out_len());
    let (mut y, mut argmax) = (vec![0.0; n_out], vec![0u32; n_out]);
    r::max_pool2d(cfg, &to_f64(x), &mut y, &mut argmax);
    let (yb, argmax_b) = (v.poisoned(n_out), v.poisoned(n_out));
    k::max_pool2d(cfg, &gpu().upload(x), &yb, &argmax_b);
    let got = v.read(&yb);
    v.check(
        "pool2d.max_pool2d",
        "direct",
        &format!("{case} y"),
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );
    let got: Vec<u32> = v.read(&argmax_b).iter().map(|f| f.to_bits()).collect();
    let (got, want) = (indices_as_values(&got), indices_as_values(&argmax));
    v.check(
        "pool2d.max_pool2d",
        "direct",
        &format!("{case} argmax"),
        &got,
        &want,
        EXACT,
    );

    let gy = v.rand(n_out);
    let mut gx = vec![0.0; n_in];
    r::max_pool2d_backward(cfg, &to_f64(&gy), &argmax, &mut gx);
    let argmax_bits: Vec<f32> = argmax.iter().map(|&i| f32::from_bits(i)).collect();
    let gx_b = v.poisoned(n_in);
    k::max_pool2d_backward(cfg, &gpu().upload(&gy), &gpu().upload(&argmax_bits), &gx_b);
    let got = v.read(&gx_b);
    v.check(
        "pool2d.max_pool2d_backward",
        "direct",
        case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
}

fn check_avg(v: &mut Validator, cfg: &Pool2dConfig, x: &[f32], case: &str) {
    let (n_in, n_out) = (cfg.in_len(), cfg.out_len());
    let mut y = vec![0.0; n_out];
    r::avg_pool2d(cfg, &to_f64(x), &mut y);
    let yb = v.poisoned(n_out);
    k::avg_pool2d(cfg, &gpu().upload(x), &yb);
    let got = v.read(&yb);
    v.check(
        "pool2d.avg_pool2d",
        "direct",
        case,
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );

    let gy = v.rand(n_out);
    let mut gx = vec![0.0; n_in];
    r::avg_pool2d_backward(cfg, &to_f64(&gy), &mut gx);
    let gx_b: GpuBuffer = v.poisoned(n_in);
    k::avg_pool2d_backward(cfg, &gpu().upload(&gy), &gx_b);
    let got = v.read(&gx_b);
    v.check(
        "pool2d.avg_pool2d_backward",
        "direct",
        case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
}

/// The fast CPU device's four kernels against the reference, outputs poisoned (NaN, and
/// `u32::MAX` indices); the backward passes get the reference's argmax.
fn check_cpu(v: &mut Validator, cfg: &Pool2dConfig, x: &[f32], case: &str) {
    let (n_in, n_out) = (cfg.in_len(), cfg.out_len());
    let (mut y, mut argmax) = (vec![0.0; n_out], vec![0u32; n_out]);
    r::max_pool2d(cfg, &to_f64(x), &mut y, &mut argmax);
    let (mut got, mut got_idx) = (vec![f32::NAN; n_out], vec![u32::MAX; n_out]);
    super::cpu::max_pool2d(cfg, x, &mut got, &mut got_idx);
    let y_case = format!("{case} y");
    v.check(
        "pool2d.max_pool2d",
        "cpu",
        &y_case,
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );
    let (got, want) = (indices_as_values(&got_idx), indices_as_values(&argmax));
    let idx_case = format!("{case} argmax");
    v.check("pool2d.max_pool2d", "cpu", &idx_case, &got, &want, EXACT);

    let gy = v.rand(n_out);
    let mut gx = vec![0.0; n_in];
    r::max_pool2d_backward(cfg, &to_f64(&gy), &argmax, &mut gx);
    let mut got = vec![f32::NAN; n_in];
    super::cpu::max_pool2d_backward(cfg, &gy, &argmax, &mut got);
    v.check(
        "pool2d.max_pool2d_backward",
        "cpu",
        case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );

    let mut y = vec![0.0; n_out];
    r::avg_pool2d(cfg, &to_f64(x), &mut y);
    let mut got = vec![f32::NAN; n_out];
    super::cpu::avg_pool2d(cfg, x, &mut got);
    v.check(
        "pool2d.avg_pool2d",
        "cpu",
        case,
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );
    r::avg_pool2d_backward(cfg, &to_f64(&gy), &mut gx);
    let mut got = vec![f32::NAN; n_in];
    super::cpu::avg_pool2d_backward(cfg, &gy, &mut got);
    v.check(
        "pool2d.avg_pool2d_backward",
        "cpu",
        case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
}

/// The reference's backward against finite differences of its forward, on small shapes.
fn check_reference_gradients(v: &mut Validator) {
    for cfg in [
        Pool2dConfig::square(2, 2, 5, 5, 3, 2, 1),
        Pool2dConfig::square(1, 1, 4, 5, 2, 1, 0),
    ] {
        let x = to_f64(&v.rand(cfg.in_len()));
        let gy = to_f64(&v.rand(cfg.out_len()));
        let case = describe(&cfg);

        let max_forward = |x: &[f64]| {
            let (mut y, mut idx) = (vec![0.0; cfg.out_len()], vec![0; cfg.out_len()]);
            r::max_pool2d(&cfg, x, &mut y, &mut idx);
            (y, idx)
        };
        let (_, argmax) = max_forward(&x);
        let mut gx = vec![0.0; cfg.in_len()];
        r::max_pool2d_backward(&cfg, &gy, &argmax, &mut gx);
        let fd = numeric_gradient(&x, |x| dot(&max_forward(x).0, &gy));
        v.check(
            "pool2d.reference_max_backward",
            "finite_diff",
            &case,
            &to_f32(&gx),
            &to_f32(&fd),
            TOL_FINITE_DIFF,
        );

        r::avg_pool2d_backward(&cfg, &gy, &mut gx);
        let fd = numeric_gradient(&x, |x| {
            let mut y = vec![0.0; cfg.out_len()];
            r::avg_pool2d(&cfg, x, &mut y);
            dot(&y, &gy)
        });
        v.check(
            "pool2d.reference_avg_backward",
            "finite_diff",
            &case,
            &to_f32(&gx),
            &to_f32(&fd),
            TOL_FINITE_DIFF,
        );
    }
}
