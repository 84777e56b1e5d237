//! Validation of `instance_norm.wgsl` and of the fast CPU device's `cpu.rs` (variant `cpu`).
//!
//! Every kernel is fed the same inputs as the f64 reference (statistics and sums taken from the
//! reference, rounded to f32), so each row checks one kernel on its own. The reference's
//! backward is itself checked against finite differences of its forward.

use super::reference as r;
use super::{self as k, InstanceNormConfig};
use crate::{GpuBuffer, gpu};

use crate::harness::numeric::{TOL_FINITE_DIFF, dot, numeric_gradient, round_f32, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// [n, c, h, w]: batch 1 with one channel and odd sizes; 1x1 images (every xhat is 0); more
/// channels than a workgroup has invocations; images larger than a workgroup.
const SHAPES: [[usize; 4]; 5] = [
    [1, 1, 5, 3],
    [4, 3, 1, 1],
    [2, 300, 3, 5],
    [3, 5, 7, 9],
    [2, 3, 67, 61],
];

struct Case {
    cfg: InstanceNormConfig,
    name: String,
    x: Vec<f64>,
    gy: Vec<f64>,
    gamma: Vec<f64>,
    beta: Vec<f64>,
}

fn case(v: &mut Validator, [n, c, h, w]: [usize; 4]) -> Case {
    let cfg = InstanceNormConfig::new(n, c, h, w);
    Case {
        cfg,
        name: format!("{n}x{c}x{h}x{w}"),
        x: to_f64(&v.uniform(cfg.len(), -1.5, 2.5)),
        gy: to_f64(&v.rand(cfg.len())),
        gamma: to_f64(&v.uniform(c, 0.5, 1.5)),
        beta: to_f64(&v.rand(c)),
    }
}

/// Uploads f64 data as f32.
fn up(data: &[f64]) -> GpuBuffer {
    gpu().upload(&to_f32(data))
}

/// The rows this file reports; all run when the filter matches any.
const ROWS: [&str; 6] = [
    "instance_norm.instance_norm_stats",
    "instance_norm.instance_norm_apply",
    "instance_norm.instance_norm_backward_reduce",
    "instance_norm.instance_norm_backward_apply",
    "instance_norm.instance_norm_param_grads",
    "instance_norm.reference_backward",
];

pub fn run(v: &mut Validator) {
    if !ROWS.iter().any(|row| v.wants(row)) {
        return;
    }
    for shape in SHAPES {
        let t = case(v, shape);
        check_case(v, &t);
        check_cpu(v, &t);
    }
    // more planes than one thread's share: the fast CPU device splits them over its threads
    let t = case(v, [2, 8, 96, 96]);
    check_cpu(v, &t);
    check_reference_gradients(v);
}

fn check_case(v: &mut Validator, t: &Case) {
    let (cfg, len, inst, c) = (&t.cfg, t.cfg.len(), t.cfg.instances(), t.cfg.c);
    let (xb, gyb) = (up(&t.x), up(&t.gy));

    let (mut mean, mut invstd) = (vec![0.0; inst], vec![0.0; inst]);
    r::instance_norm_stats(cfg, &t.x, &mut mean, &mut invstd);
    let (mean_b, invstd_b) = (v.poisoned(inst), v.poisoned(inst));
    k::instance_norm_stats(cfg, &xb, &mean_b, &invstd_b);
    for (what, b, want) in [("mean", &mean_b, &mean), ("invstd", &invstd_b, &invstd)] {
        let got = v.read(b);
        let case = format!("{} {what}", t.name);
        v.check(
            "instance_norm.instance_norm_stats",
            "direct",
            &case,
            &got,
            &to_f32(want),
            TOL_FORWARD,
        );
    }

    let (mean, invstd) = (round_f32(&mean), round_f32(&invstd));
    let (mean_b, invstd_b, gamma_b) = (up(&mean), up(&invstd), up(&t.gamma));
    let mut y = vec![0.0; len];
    r::instance_norm_apply(cfg, &t.x, &mean, &invstd, &t.gamma, &t.beta, &mut y);
    let yb = v.poisoned(len);
    k::instance_norm_apply(cfg, &xb, &mean_b, &invstd_b, &gamma_b, &up(&t.beta), &yb);
    let got = v.read(&yb);
    v.check(
        "instance_norm.instance_norm_apply",
        "direct",
        &t.name,
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );

    let (mut sum_gy_xhat, mut sum_gy) = (vec![0.0; inst], vec![0.0; inst]);
    r::instance_norm_backward_reduce(
        cfg,
        &t.x,
        &t.gy,
        &mean,
        &invstd,
        &mut sum_gy_xhat,
        &mut sum_gy,
    );
    let (sgx_b, sg_b) = (v.poisoned(inst), v.poisoned(inst));
    k::instance_norm_backward_reduce(cfg, &xb, &gyb, &mean_b, &invstd_b, &sgx_b, &sg_b);
    for (what, b, want) in [
        ("sum_gy_xhat", &sgx_b, &sum_gy_xhat),
        ("sum_gy", &sg_b, &sum_gy),
    ] {
        let got = v.read(b);
        let case = format!("{} {what}", t.name);
        v.check(
            "instance_norm.instance_norm_backward_reduce",
            "direct",
            &case,
            &got,
            &to_f32(want),
            TOL_GRAD,
        );
    }

    let (sum_gy_xhat, sum_gy) = (round_f32(&sum_gy_xhat), round_f32(&sum_gy));
    let (sgx_b, sg_b) = (up(&sum_gy_xhat), up(&sum_gy));
    let mut gx = vec![0.0; len];
    r::instance_norm_backward_apply(
        cfg,
        &t.x,
        &t.gy,
        &mean,
        &invstd,
        &t.gamma,
        &sum_gy_xhat,
        &sum_gy,
        &mut gx,
    );
    let gx_b = v.poisoned(len);
    k::instance_norm_backward_apply(
        cfg, &xb, &gyb, &mean_b, &invstd_b, &gamma_b, &sgx_b, &sg_b, &gx_b,
    );
    let got = v.read(&gx_b);
    v.check(
        "instance_norm.instance_norm_backward_apply",
        "direct",
        &t.name,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );

    let (mut ggamma, mut gbeta) = (vec![0.0; c], vec![0.0; c]);
    r::instance_norm_param_grads(cfg, &sum_gy_xhat, &sum_gy, &mut ggamma, &mut gbeta);
    let (ggamma_b, gbeta_b) = (v.poisoned(c), v.poisoned(c));
    k::instance_norm_param_grads(cfg, &sgx_b, &sg_b, &ggamma_b, &gbeta_b);
    for (what, b, want) in [("ggamma", &ggamma_b, &ggamma), ("gbeta", &gbeta_b, &gbeta)] {
        let got = v.read(b);
        let case = format!("{} {what}", t.name);
        v.check(
            "instance_norm.instance_norm_param_grads",
            "direct",
            &case,
            &got,
            &to_f32(want),
            TOL_GRAD,
        );
    }
}

/// The fast CPU device's kernels against the reference (outputs poisoned with NaN), each fed
/// the reference's statistics and sums rounded to f32, as the GPU's are.
fn check_cpu(v: &mut Validator, t: &Case) {
    use super::cpu as f;
    let (cfg, len, inst) = (&t.cfg, t.cfg.len(), t.cfg.instances());
    let (x, gy, gamma, beta) = (
        to_f32(&t.x),
        to_f32(&t.gy),
        to_f32(&t.gamma),
        to_f32(&t.beta),
    );
    let nan = |n: usize| vec![f32::NAN; n];

    let (mut mean, mut invstd) = (vec![0.0; inst], vec![0.0; inst]);
    r::instance_norm_stats(cfg, &t.x, &mut mean, &mut invstd);
    let (mut got_mean, mut got_invstd) = (nan(inst), nan(inst));
    f::instance_norm_stats(cfg, &x, &mut got_mean, &mut got_invstd);
    for (what, got, want) in [("mean", &got_mean, &mean), ("invstd", &got_invstd, &invstd)] {
        let case = format!("{} {what}", t.name);
        let row = "instance_norm.instance_norm_stats";
        v.check(row, "cpu", &case, got, &to_f32(want), TOL_FORWARD);
    }

    let (mean, invstd) = (round_f32(&mean), round_f32(&invstd));
    let (mean32, invstd32) = (to_f32(&mean), to_f32(&invstd));
    let mut y = vec![0.0; len];
    r::instance_norm_apply(cfg, &t.x, &mean, &invstd, &t.gamma, &t.beta, &mut y);
    let mut got = nan(len);
    f::instance_norm_apply(cfg, &x, (&mean32, &invstd32), (&gamma, &beta), &mut got);
    let row = "instance_norm.instance_norm_apply";
    v.check(row, "cpu", &t.name, &got, &to_f32(&y), TOL_FORWARD);

    let (mut sum_gy_xhat, mut sum_gy) = (vec![0.0; inst], vec![0.0; inst]);
    let (m, s) = (&mean, &invstd);
    r::instance_norm_backward_reduce(cfg, &t.x, &t.gy, m, s, &mut sum_gy_xhat, &mut sum_gy);
    let (mut got_sgx, mut got_sg) = (nan(inst), nan(inst));
    let stats = (&mean32[..], &invstd32[..]);
    f::instance_norm_backward_reduce(cfg, &x, &gy, stats, &mut got_sgx, &mut got_sg);
    for (what, got, want) in [
        ("sum_gy_xhat", &got_sgx, &sum_gy_xhat),
        ("sum_gy", &got_sg, &sum_gy),
    ] {
        let case = format!("{} {what}", t.name);
        let row = "instance_norm.instance_norm_backward_reduce";
        v.check(row, "cpu", &case, got, &to_f32(want), TOL_GRAD);
    }

    let (sum_gy_xhat, sum_gy) = (round_f32(&sum_gy_xhat), round_f32(&sum_gy));
    let mut gx = vec![0.0; len];
    let sums = (&sum_gy_xhat[..], &sum_gy[..]);
    r::instance_norm_backward_apply(cfg, &t.x, &t.gy, m, s, &t.gamma, sums.0, sums.1, &mut gx);
    let mut got = nan(len);
    let sums32 = (to_f32(&sum_gy_xhat), to_f32(&sum_gy));
    f::instance_norm_backward_apply(
        cfg,
        (&x, &gy),
        (&mean32, &invstd32, &gamma),
        (&sums32.0, &sums32.1),
        &mut got,
    );
    let row = "instance_norm.instance_norm_backward_apply";
    v.check(row, "cpu", &t.name, &got, &to_f32(&gx), TOL_GRAD);
}

/// The reference's forward as a function of (x, gamma, beta).
fn forward(cfg: &InstanceNormConfig, x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let (mut mean, mut invstd) = (vec![0.0; cfg.instances()], vec![0.0; cfg.instances()]);
    r::instance_norm_stats(cfg, x, &mut mean, &mut invstd);
    let mut y = vec![0.0; cfg.len()];
    r::instance_norm_apply(cfg, x, &mean, &invstd, gamma, beta, &mut y);
    y
}

/// The reference's backward against finite differences of its forward, on small shapes.
fn check_reference_gradients(v: &mut Validator) {
    for shape in [[2, 3, 3, 2], [1, 2, 1, 3]] {
        let t = case(v, shape);
        let (cfg, inst, c) = (&t.cfg, t.cfg.instances(), t.cfg.c);
        let (mut mean, mut invstd) = (vec![0.0; inst], vec![0.0; inst]);
        r::instance_norm_stats(cfg, &t.x, &mut mean, &mut invstd);
        let (mut sum_gy_xhat, mut sum_gy) = (vec![0.0; inst], vec![0.0; inst]);
        r::instance_norm_backward_reduce(
            cfg,
            &t.x,
            &t.gy,
            &mean,
            &invstd,
            &mut sum_gy_xhat,
            &mut sum_gy,
        );
        let mut gx = vec![0.0; cfg.len()];
        r::instance_norm_backward_apply(
            cfg,
            &t.x,
            &t.gy,
            &mean,
            &invstd,
            &t.gamma,
            &sum_gy_xhat,
            &sum_gy,
            &mut gx,
        );
        let (mut ggamma, mut gbeta) = (vec![0.0; c], vec![0.0; c]);
        r::instance_norm_param_grads(cfg, &sum_gy_xhat, &sum_gy, &mut ggamma, &mut gbeta);

        let fd_x = numeric_gradient(&t.x, |x| dot(&forward(cfg, x, &t.gamma, &t.beta), &t.gy));
        let fd_gamma = numeric_gradient(&t.gamma, |g| dot(&forward(cfg, &t.x, g, &t.beta), &t.gy));
        let fd_beta = numeric_gradient(&t.beta, |b| dot(&forward(cfg, &t.x, &t.gamma, b), &t.gy));
        for (what, analytic, numeric) in [
            ("gx", &gx, &fd_x),
            ("ggamma", &ggamma, &fd_gamma),
            ("gbeta", &gbeta, &fd_beta),
        ] {
            let case = format!("{} {what}", t.name);
            let (a, n) = (to_f32(analytic), to_f32(numeric));
            v.check(
                "instance_norm.reference_backward",
                "finite_diff",
                &case,
                &a,
                &n,
                TOL_FINITE_DIFF,
            );
        }
    }
}
