//! Validation of `batchnorm.wgsl`.
//!
//! Every kernel is fed the same inputs as the f64 reference (statistics and sums taken from the
//! reference, rounded to f32), so each row checks one kernel on its own. The reference's
//! backward is itself checked against finite differences of its forward. The two per-channel
//! reductions run in every `BatchNormReduction` variant (rows `workgroup`, `subgroup`, `split`;
//! the subgroup one is skipped, with the reason, on a device without subgroups). The backward
//! fused with the activation runs in every variant too, for ReLU and LeakyReLU 0.2.

use super::reference as r;
use super::{self as k, BatchNormConfig, BatchNormMode, BatchNormReduction};
use crate::gpu;
use crate::variant::Variant;

use crate::harness::numeric::{TOL_FINITE_DIFF, dot, numeric_gradient, round_f32, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// [n, c, h, w]: batch 1 with one channel and odd sizes; 1x1 images with n > 1; more channels
/// than a workgroup has invocations; many elements per channel; more than 65,535 per channel.
const SHAPES: [[usize; 4]; 6] = [
    [1, 1, 5, 3],
    [4, 3, 1, 1],
    [2, 300, 3, 5],
    [3, 5, 7, 9],
    [2, 3, 67, 61],
    [3, 2, 151, 149],
];

struct Case {
    cfg: BatchNormConfig,
    name: String,
    x: Vec<f64>,
    gy: Vec<f64>,
    gamma: Vec<f64>,
    beta: Vec<f64>,
    running_mean: Vec<f64>,
    running_var: Vec<f64>,
}

fn case(v: &mut Validator, [n, c, h, w]: [usize; 4]) -> Case {
    let cfg = BatchNormConfig::new(n, c, h, w);
    // an offset and a scale per call so the statistics are not those of U(-1, 1)
    let x = v.uniform(cfg.len(), -1.5, 2.5);
    Case {
        cfg,
        name: format!("{n}x{c}x{h}x{w}"),
        x: to_f64(&x),
        gy: to_f64(&v.rand(cfg.len())),
        gamma: to_f64(&v.uniform(c, 0.5, 1.5)),
        beta: to_f64(&v.rand(c)),
        running_mean: to_f64(&v.rand(c)),
        running_var: to_f64(&v.uniform(c, 0.5, 1.5)),
    }
}

/// The rows this file reports; all run when the filter matches any.
const ROWS: [&str; 9] = [
    "batchnorm.batchnorm_stats",
    "batchnorm.batchnorm_invstd",
    "batchnorm.batchnorm_apply",
    "batchnorm.batchnorm_apply_act",
    "batchnorm.batchnorm_backward_reduce",
    "batchnorm.batchnorm_backward_apply",
    "batchnorm.batchnorm_backward_reduce_act",
    "batchnorm.batchnorm_backward_apply_act",
    "batchnorm.reference_backward",
];

pub fn run(v: &mut Validator) {
    if !ROWS.iter().any(|row| v.wants(row)) {
        return;
    }
    for shape in v.pick(SHAPES.to_vec(), 2) {
        let t = case(v, shape);
        check_training(v, &t);
        check_evaluation(v, &t);
    }
    // a batch larger than one binding (lowered to two items of 256 f32 for the case) runs in
    // chunks: 2 + 2 + 1 items, the statistics from chunked sums
    let mut t = case(v, [5, 4, 8, 8]);
    t.name += " in batch chunks";
    crate::chunk::with_binding_limit(2048, || {
        check_training(v, &t);
        check_evaluation(v, &t);
    });
    check_reference_gradients(v);
}

/// Uploads f64 data as f32.
fn up(data: &[f64]) -> crate::GpuBuffer {
    gpu().upload(&to_f32(data))
}

fn check_training(v: &mut Validator, t: &Case) {
    let (cfg, c) = (&t.cfg, t.cfg.c);
    let xb = up(&t.x);

    // statistics and running averages
    let (mut mean, mut invstd) = (vec![0.0; c], vec![0.0; c]);
    let (mut rmean, mut rvar) = (t.running_mean.clone(), t.running_var.clone());
    r::batchnorm_stats(cfg, &t.x, &mut mean, &mut invstd, &mut rmean, &mut rvar);
    let kernel = "batchnorm.batchnorm_stats";
    for &variant in BatchNormReduction::ALL {
        if let Some(why) = variant.unavailable() {
            v.skip(kernel, variant.name(), &why);
            continue;
        }
        let (mean_b, invstd_b) = (v.poisoned(c), v.poisoned(c));
        let (rmean_b, rvar_b) = (up(&t.running_mean), up(&t.running_var));
        k::batchnorm_stats_with(variant, cfg, &xb, &mean_b, &invstd_b, &rmean_b, &rvar_b);
        for (what, b, want) in [
            ("mean", &mean_b, &mean),
            ("invstd", &invstd_b, &invstd),
            ("running_mean", &rmean_b, &rmean),
            ("running_var", &rvar_b, &rvar),
        ] {
            let got = v.read(b);
            v.check(
                kernel,
                variant.name(),
                &format!("{} {what}", t.name),
                &got,
                &to_f32(want),
                TOL_FORWARD,
            );
        }
    }

    // the fast CPU device
    let (mut mean_f, mut invstd_f) = (vec![f32::NAN; c], vec![f32::NAN; c]);
    let (mut rmean_f, mut rvar_f) = (to_f32(&t.running_mean), to_f32(&t.running_var));
    let x = to_f32(&t.x);
    let (m, s) = (&mut mean_f, &mut invstd_f);
    super::cpu::batchnorm_stats(cfg, &x, m, s, &mut rmean_f, &mut rvar_f);
    for (what, got, want) in [
        ("mean", &mean_f, &mean),
        ("invstd", &invstd_f, &invstd),
        ("running_mean", &rmean_f, &rmean),
        ("running_var", &rvar_f, &rvar),
    ] {
        let case = format!("{} {what}", t.name);
        v.check(kernel, "cpu", &case, got, &to_f32(want), TOL_FORWARD);
    }

    let (mean, invstd) = (round_f32(&mean), round_f32(&invstd));
    check_apply(v, t, &xb, &mean, &invstd, "train");
    check_backward(v, t, &xb, BatchNormMode::Training, &mean, &invstd);
}

fn check_evaluation(v: &mut Validator, t: &Case) {
    let (cfg, c) = (&t.cfg, t.cfg.c);
    let mut invstd = vec![0.0; c];
    r::batchnorm_invstd(cfg, &t.running_var, &mut invstd);
    let invstd_b = v.poisoned(c);
    k::batchnorm_invstd(cfg, &up(&t.running_var), &invstd_b);
    let got = v.read(&invstd_b);
    v.check(
        "batchnorm.batchnorm_invstd",
        "direct",
        &t.name,
        &got,
        &to_f32(&invstd),
        TOL_FORWARD,
    );

    let xb = up(&t.x);
    let invstd = round_f32(&invstd);
    check_apply(v, t, &xb, &t.running_mean, &invstd, "eval");
    check_backward(
        v,
        t,
        &xb,
        BatchNormMode::Evaluation,
        &t.running_mean,
        &invstd,
    );
}

fn check_apply(
    v: &mut Validator,
    t: &Case,
    xb: &crate::GpuBuffer,
    mean: &[f64],
    invstd: &[f64],
    mode: &str,
) {
    let cfg = &t.cfg;
    let mut y = vec![0.0; cfg.len()];
    r::batchnorm_apply(cfg, &t.x, mean, invstd, &t.gamma, &t.beta, &mut y);
    let yb = v.poisoned(cfg.len());
    k::batchnorm_apply(
        cfg,
        xb,
        &up(mean),
        &up(invstd),
        &up(&t.gamma),
        &up(&t.beta),
        &yb,
    );
    let got = v.read(&yb);
    v.check(
        "batchnorm.batchnorm_apply",
        "direct",
        &format!("{} {mode}", t.name),
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );
    check_apply_act(v, t, xb, mean, invstd, &format!("{} {mode}", t.name));
    let mut got = vec![f32::NAN; cfg.len()];
    let (mean, invstd) = (to_f32(mean), to_f32(invstd));
    let (x, gamma, beta) = (to_f32(&t.x), to_f32(&t.gamma), to_f32(&t.beta));
    super::cpu::batchnorm_apply(cfg, &x, &mean, &invstd, &gamma, &beta, &mut got);
    let case = format!("{} {mode}", t.name);
    v.check(
        "batchnorm.batchnorm_apply",
        "cpu",
        &case,
        &got,
        &to_f32(&y),
        TOL_FORWARD,
    );
}

/// `batchnorm_apply_act` as ReLU (slope 0) and as DCGAN's LeakyReLU (slope 0.2).
fn check_apply_act(
    v: &mut Validator,
    t: &Case,
    xb: &crate::GpuBuffer,
    mean: &[f64],
    invstd: &[f64],
    case: &str,
) {
    let cfg = &t.cfg;
    for (variant, slope) in [("relu", 0.0f32), ("leaky_relu_0.2", 0.2)] {
        let mut y = vec![0.0; cfg.len()];
        r::batchnorm_apply_act(cfg, &t.x, mean, invstd, &t.gamma, &t.beta, &mut y, slope);
        let yb = v.poisoned(cfg.len());
        k::batchnorm_apply_act(
            cfg,
            xb,
            &up(mean),
            &up(invstd),
            &up(&t.gamma),
            &up(&t.beta),
            &yb,
            slope,
        );
        let got = v.read(&yb);
        let kernel = "batchnorm.batchnorm_apply_act";
        v.check(kernel, variant, case, &got, &to_f32(&y), TOL_FORWARD);
    }
}

fn check_backward(
    v: &mut Validator,
    t: &Case,
    xb: &crate::GpuBuffer,
    mode: BatchNormMode,
    mean: &[f64],
    invstd: &[f64],
) {
    let (cfg, c) = (&t.cfg, t.cfg.c);
    let case = format!("{} {mode:?}", t.name);
    let (gyb, mean_b, invstd_b) = (up(&t.gy), up(mean), up(invstd));

    let (mut ggamma, mut gbeta) = (vec![0.0; c], vec![0.0; c]);
    r::batchnorm_backward_reduce(cfg, &t.x, &t.gy, mean, invstd, &mut ggamma, &mut gbeta);
    let kernel = "batchnorm.batchnorm_backward_reduce";
    for &variant in BatchNormReduction::ALL {
        if let Some(why) = variant.unavailable() {
            v.skip(kernel, variant.name(), &why);
            continue;
        }
        let (ggamma_b, gbeta_b) = (v.poisoned(c), v.poisoned(c));
        k::batchnorm_backward_reduce_with(
            variant, cfg, xb, &gyb, &mean_b, &invstd_b, &ggamma_b, &gbeta_b,
        );
        for (what, b, want) in [("ggamma", &ggamma_b, &ggamma), ("gbeta", &gbeta_b, &gbeta)] {
            let got = v.read(b);
            v.check(
                kernel,
                variant.name(),
                &format!("{case} {what}"),
                &got,
                &to_f32(want),
                TOL_GRAD,
            );
        }
    }

    let (x, gy, mean_f, invstd_f) = (to_f32(&t.x), to_f32(&t.gy), to_f32(mean), to_f32(invstd));
    let (mut ggamma_f, mut gbeta_f) = (vec![f32::NAN; c], vec![f32::NAN; c]);
    let (gg, gb) = (&mut ggamma_f, &mut gbeta_f);
    super::cpu::batchnorm_backward_reduce(cfg, &x, &gy, &mean_f, &invstd_f, gg, gb);
    for (what, got, want) in [("ggamma", &ggamma_f, &ggamma), ("gbeta", &gbeta_f, &gbeta)] {
        let case = format!("{case} {what}");
        v.check(kernel, "cpu", &case, got, &to_f32(want), TOL_GRAD);
    }

    let (ggamma, gbeta) = (round_f32(&ggamma), round_f32(&gbeta));
    let mut gx = vec![0.0; cfg.len()];
    r::batchnorm_backward_apply(
        cfg, mode, &t.x, &t.gy, mean, invstd, &t.gamma, &ggamma, &gbeta, &mut gx,
    );
    let gx_b = v.poisoned(cfg.len());
    let (gamma_b, ggamma_b, gbeta_b) = (up(&t.gamma), up(&ggamma), up(&gbeta));
    k::batchnorm_backward_apply(
        cfg, mode, xb, &gyb, &mean_b, &invstd_b, &gamma_b, &ggamma_b, &gbeta_b, &gx_b,
    );
    let got = v.read(&gx_b);
    v.check(
        "batchnorm.batchnorm_backward_apply",
        "direct",
        &case,
        &got,
        &to_f32(&gx),
        TOL_GRAD,
    );
    let mut got = vec![f32::NAN; cfg.len()];
    let (gamma, gg, gb) = (to_f32(&t.gamma), to_f32(&ggamma), to_f32(&gbeta));
    super::cpu::batchnorm_backward_apply(
        cfg, mode, &x, &gy, &mean_f, &invstd_f, &gamma, &gg, &gb, &mut got,
    );
    let kernel = "batchnorm.batchnorm_backward_apply";
    v.check(kernel, "cpu", &case, &got, &to_f32(&gx), TOL_GRAD);
    check_backward_act(v, t, xb, mode, mean, invstd);
}

/// The backward fused with the activation's: ReLU and LeakyReLU 0.2 of the forward's output,
/// each reduction variant, against the reference's activation backward followed by the
/// unfused reference backward.
fn check_backward_act(
    v: &mut Validator,
    t: &Case,
    xb: &crate::GpuBuffer,
    mode: BatchNormMode,
    mean: &[f64],
    invstd: &[f64],
) {
    let (cfg, c) = (&t.cfg, t.cfg.c);
    let (mean_b, invstd_b, gyb) = (up(mean), up(invstd), up(&t.gy));
    // short names: each reduction row is "<variant> <activation>"
    for (act, slope) in [("relu", 0.0f32), ("leaky0.2", 0.2)] {
        let case = format!("{} {mode:?} {act}", t.name);
        let mut y = vec![0.0; cfg.len()];
        r::batchnorm_apply_act(cfg, &t.x, mean, invstd, &t.gamma, &t.beta, &mut y, slope);
        // the kernels read y in f32: the reference takes the same signs
        let y = round_f32(&y);
        let yb = up(&y);
        let gy_act = r::activation_backward(&y, &t.gy, slope);
        let (mut ggamma, mut gbeta) = (vec![0.0; c], vec![0.0; c]);
        r::batchnorm_backward_reduce(cfg, &t.x, &gy_act, mean, invstd, &mut ggamma, &mut gbeta);
        let kernel = "batchnorm.batchnorm_backward_reduce_act";
        for &variant in BatchNormReduction::ALL {
            let name = format!("{} {act}", variant.name());
            if let Some(why) = variant.unavailable() {
                v.skip(kernel, &name, &why);
                continue;
            }
            let (ggamma_b, gbeta_b) = (v.poisoned(c), v.poisoned(c));
            k::batchnorm_backward_reduce_act_with(
                variant, cfg, xb, &yb, &gyb, &mean_b, &invstd_b, &ggamma_b, &gbeta_b, slope,
            );
            for (what, b, want) in [("ggamma", &ggamma_b, &ggamma), ("gbeta", &gbeta_b, &gbeta)] {
                let got = v.read(b);
                let case = format!("{case} {what}");
                v.check(kernel, &name, &case, &got, &to_f32(want), TOL_GRAD);
            }
        }
        let kernel = "batchnorm.batchnorm_backward_apply_act";
        if !k::batchnorm_act_backward_fits() {
            v.skip(kernel, act, "the device binds fewer than 9 storage buffers");
            continue;
        }
        let (ggamma, gbeta) = (round_f32(&ggamma), round_f32(&gbeta));
        let mut gx = vec![0.0; cfg.len()];
        r::batchnorm_backward_apply(
            cfg, mode, &t.x, &gy_act, mean, invstd, &t.gamma, &ggamma, &gbeta, &mut gx,
        );
        let gx_b = v.poisoned(cfg.len());
        let (gamma_b, ggamma_b, gbeta_b) = (up(&t.gamma), up(&ggamma), up(&gbeta));
        k::batchnorm_backward_apply_act(
            cfg, mode, xb, &yb, &gyb, &mean_b, &invstd_b, &gamma_b, &ggamma_b, &gbeta_b, &gx_b,
            slope,
        );
        let got = v.read(&gx_b);
        v.check(kernel, act, &case, &got, &to_f32(&gx), TOL_GRAD);
    }
}

/// The reference's forward, training or evaluation, as a function of (x, gamma, beta).
fn forward(t: &Case, mode: BatchNormMode, x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let (cfg, c) = (&t.cfg, t.cfg.c);
    let mut invstd = vec![0.0; c];
    let mean = match mode {
        BatchNormMode::Training => {
            let mut mean = vec![0.0; c];
            let (mut rm, mut rv) = (t.running_mean.clone(), t.running_var.clone());
            r::batchnorm_stats(cfg, x, &mut mean, &mut invstd, &mut rm, &mut rv);
            mean
        }
        BatchNormMode::Evaluation => {
            r::batchnorm_invstd(cfg, &t.running_var, &mut invstd);
            t.running_mean.clone()
        }
    };
    let mut y = vec![0.0; cfg.len()];
    r::batchnorm_apply(cfg, x, &mean, &invstd, gamma, beta, &mut y);
    y
}

/// The reference's backward against finite differences of its forward, on small shapes.
fn check_reference_gradients(v: &mut Validator) {
    for shape in [[2, 3, 3, 2], [3, 1, 1, 1]] {
        let t = case(v, shape);
        let (cfg, c) = (&t.cfg, t.cfg.c);
        for mode in [BatchNormMode::Training, BatchNormMode::Evaluation] {
            let (mut mean, mut invstd) = (vec![0.0; c], vec![0.0; c]);
            match mode {
                BatchNormMode::Training => {
                    let (mut rm, mut rv) = (t.running_mean.clone(), t.running_var.clone());
                    r::batchnorm_stats(cfg, &t.x, &mut mean, &mut invstd, &mut rm, &mut rv);
                }
                BatchNormMode::Evaluation => {
                    mean = t.running_mean.clone();
                    r::batchnorm_invstd(cfg, &t.running_var, &mut invstd);
                }
            }
            let (mut ggamma, mut gbeta) = (vec![0.0; c], vec![0.0; c]);
            r::batchnorm_backward_reduce(cfg, &t.x, &t.gy, &mean, &invstd, &mut ggamma, &mut gbeta);
            let mut gx = vec![0.0; cfg.len()];
            r::batchnorm_backward_apply(
                cfg, mode, &t.x, &t.gy, &mean, &invstd, &t.gamma, &ggamma, &gbeta, &mut gx,
            );

            let fd_x = numeric_gradient(&t.x, |x| {
                dot(&forward(&t, mode, x, &t.gamma, &t.beta), &t.gy)
            });
            let fd_gamma = numeric_gradient(&t.gamma, |g| {
                dot(&forward(&t, mode, &t.x, g, &t.beta), &t.gy)
            });
            let fd_beta = numeric_gradient(&t.beta, |b| {
                dot(&forward(&t, mode, &t.x, &t.gamma, b), &t.gy)
            });
            let kernel = "batchnorm.reference_backward";
            for (what, analytic, numeric) in [
                ("gx", &gx, &fd_x),
                ("ggamma", &ggamma, &fd_gamma),
                ("gbeta", &gbeta, &fd_beta),
            ] {
                let case = format!("{} {mode:?} {what}", t.name);
                v.check(
                    kernel,
                    "finite_diff",
                    &case,
                    &to_f32(analytic),
                    &to_f32(numeric),
                    TOL_FINITE_DIFF,
                );
            }
        }
    }
}
