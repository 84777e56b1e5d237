//! Validation of `optim.wgsl`: several steps in a row with the optimizer state carried
//! from step to step, GPU and reference side by side. (Adam against PyTorch's own numbers is
//! a parity test: tests/tests/pytorch_ops.rs.)

use crate::gpu;
use super::{self as k, AdamStep, SgdStep};
use super::reference as r;

use crate::harness::{TOL_FORWARD, Validator};

/// 1, a prime below one workgroup, a prime above a few, and one above 256 workgroups.
const LENGTHS: [usize; 4] = [1, 7, 4099, 70_001];
const STEPS: u64 = 4;

fn adam_variants() -> [(&'static str, AdamStep); 4] {
    let base = AdamStep {
        lr: 1e-2,
        ..AdamStep::default()
    };
    [
        ("adam", base),
        (
            "adam_dcgan",
            AdamStep {
                lr: 2e-4,
                beta1: 0.5,
                ..base
            },
        ),
        (
            "adam_l2",
            AdamStep {
                weight_decay: 0.1,
                ..base
            },
        ),
        (
            "adamw",
            AdamStep {
                weight_decay: 0.1,
                decoupled_weight_decay: true,
                ..base
            },
        ),
    ]
}

fn sgd_variants() -> [(&'static str, SgdStep); 4] {
    let base = SgdStep {
        lr: 1e-2,
        ..SgdStep::default()
    };
    [
        (
            "plain",
            SgdStep {
                weight_decay: 1e-2,
                ..base
            },
        ),
        (
            "momentum",
            SgdStep {
                momentum: 0.9,
                ..base
            },
        ),
        (
            "dampening",
            SgdStep {
                momentum: 0.9,
                dampening: 0.1,
                weight_decay: 1e-2,
                ..base
            },
        ),
        (
            "nesterov",
            SgdStep {
                momentum: 0.9,
                nesterov: true,
                weight_decay: 1e-2,
                ..base
            },
        ),
    ]
}

pub fn run(v: &mut Validator) {
    if v.wants("optim.adam") {
        for (variant, hp) in adam_variants() {
            for n in v.pick(LENGTHS.to_vec(), 2) {
                adam_steps(v, variant, hp, n);
            }
        }
    }
    if v.wants("optim.sgd") {
        for (variant, hp) in sgd_variants() {
            for n in v.pick(LENGTHS.to_vec(), 2) {
                sgd_steps(v, variant, hp, n);
            }
        }
    }
}

fn adam_steps(v: &mut Validator, variant: &str, hp: AdamStep, n: usize) {
    let g = gpu();
    let mut p = v.rand(n);
    let (mut m, mut vv) = (vec![0.0f32; n], vec![0.0f32; n]);
    let (pb, mb, vb) = (g.upload(&p), g.upload(&m), g.upload(&vv));
    // the fast CPU device's copies of the parameter and moments
    let (mut pf, mut mf, mut vf) = (p.clone(), m.clone(), vv.clone());
    let cpu_variant = format!("cpu {variant}");
    for step in 1..=STEPS {
        let hp = AdamStep { step, ..hp };
        let grad = v.rand(n);
        k::adam(&hp, &pb, &g.upload(&grad), &mb, &vb);
        r::adam(&hp, &mut p, &grad, &mut m, &mut vv);
        super::cpu::adam(&hp, &mut pf, &grad, &mut mf, &mut vf);
        for (name, buf, want) in [("p", &pb, &p), ("m", &mb, &m), ("v", &vb, &vv)] {
            let got = v.read(buf);
            let case = format!("n={n} step {step} {name}");
            v.check("optim.adam", variant, &case, &got, want, TOL_FORWARD);
        }
        for (name, got, want) in [("p", &pf, &p), ("m", &mf, &m), ("v", &vf, &vv)] {
            let case = format!("n={n} step {step} {name}");
            v.check("optim.adam", &cpu_variant, &case, got, want, TOL_FORWARD);
        }
    }
}

fn sgd_steps(v: &mut Validator, variant: &str, hp: SgdStep, n: usize) {
    let g = gpu();
    let mut p = v.rand(n);
    let pb = g.upload(&p);
    let with_momentum = hp.momentum != 0.0;
    // step 1 must overwrite the momentum buffer, so it starts poisoned
    let mut buf = vec![f32::NAN; n];
    let bufb = with_momentum.then(|| v.poisoned(n));
    let (mut pf, mut buf_f) = (p.clone(), buf.clone());
    let cpu_variant = format!("cpu {variant}");
    for step in 1..=STEPS {
        let hp = SgdStep { step, ..hp };
        let grad = v.rand(n);
        k::sgd(&hp, &pb, &g.upload(&grad), bufb.as_ref());
        r::sgd(&hp, &mut p, &grad, with_momentum.then_some(&mut buf[..]));
        super::cpu::sgd(&hp, &mut pf, &grad, with_momentum.then_some(&mut buf_f[..]));
        let case = format!("n={n} step {step} p");
        v.check("optim.sgd", &cpu_variant, &case, &pf, &p, TOL_FORWARD);
        if with_momentum {
            let case = format!("n={n} step {step} buf");
            v.check("optim.sgd", &cpu_variant, &case, &buf_f, &buf, TOL_FORWARD);
        }
        let got = v.read(&pb);
        v.check(
            "optim.sgd",
            variant,
            &format!("n={n} step {step} p"),
            &got,
            &p,
            TOL_FORWARD,
        );
        if let Some(bufb) = &bufb {
            let got = v.read(bufb);
            v.check(
                "optim.sgd",
                variant,
                &format!("n={n} step {step} buf"),
                &got,
                &buf,
                TOL_FORWARD,
            );
        }
    }
}
