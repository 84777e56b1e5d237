//! Validation of `optim.wgsl`: several steps in a row with the optimizer state carried
//! from step to step, GPU and reference side by side. (Adam against PyTorch's own numbers is
//! a parity test: tests/tests/pytorch_ops.rs.)

use super::reference as r;
use super::{self as k, AdamGroup, AdamStep, AdamVariant, SgdStep};
use crate::gpu;
use crate::variant::Variant;

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
    if v.wants("optim.adam_group") {
        for variant in AdamVariant::ALL {
            if let Some(why) = variant.unavailable() {
                v.skip("optim.adam_group", variant.name(), &why);
                continue;
            }
            for (name, hp) in v.pick(adam_variants().to_vec(), 2) {
                adam_group_steps(v, *variant, name, hp);
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

/// Tensors of a group: 1-element ones, primes, more tensors than a dispatch has slots, and
/// more chunks in one dispatch than a workgroup has invocations (70,001 elements are 69
/// chunks). The smoke level keeps the first few.
fn group_lengths() -> Vec<usize> {
    let mut lens = vec![1, 7, 70_001, 1, 4099, 70_001, 2, 70_001, 13, 70_001];
    lens.extend([3, 5, 64, 65, 127, 1023, 1025, 31, 1, 257]);
    lens
}

fn adam_group_steps(v: &mut Validator, variant: AdamVariant, case: &str, hp: AdamStep) {
    let g = gpu();
    let lens = v.pick(group_lengths(), 4);
    let group = AdamGroup::new(&lens).expect("the validation group fits one binding");
    // the padding between tensors' moments starts poisoned and must stay so
    let mut padding = Vec::new();
    for (i, &n) in lens.iter().enumerate() {
        let end = lens
            .get(i + 1)
            .map_or(group.m.len(), |_| group.offset(i + 1));
        let start = group.offset(i) + n;
        if end > start {
            for b in [&group.m, &group.v] {
                g.write(b, start, &vec![f32::NAN; end - start]);
            }
            padding.push(start..end);
        }
    }
    let mut p: Vec<Vec<f32>> = lens.iter().map(|&n| v.rand(n)).collect();
    let mut m: Vec<Vec<f32>> = lens.iter().map(|&n| vec![0.0; n]).collect();
    let mut vv = m.clone();
    let pb: Vec<_> = p.iter().map(|p| g.upload(p)).collect();
    let kernel = "optim.adam_group";
    for step in 1..=STEPS {
        let hp = AdamStep { step, ..hp };
        let grads: Vec<Vec<f32>> = lens.iter().map(|&n| v.rand(n)).collect();
        let gb: Vec<_> = grads.iter().map(|x| g.upload(x)).collect();
        let (pr, gr): (Vec<_>, Vec<_>) = (pb.iter().collect(), gb.iter().collect());
        k::adam_group_with(variant, &hp, &group, &pr, &gr);
        for i in 0..lens.len() {
            r::adam(&hp, &mut p[i], &grads[i], &mut m[i], &mut vv[i]);
        }
        let flat = |x: &[Vec<f32>]| x.concat();
        let got_p: Vec<f32> = pb.iter().flat_map(|b| v.read(b)).collect();
        let (gm, gv) = (v.read(&group.m), v.read(&group.v));
        let moments = |all: &[f32]| -> Vec<f32> {
            (0..lens.len())
                .flat_map(|i| all[group.offset(i)..group.offset(i) + lens[i]].to_vec())
                .collect()
        };
        let name = variant.name();
        let what = format!("{case}, {} tensors, step {step}", lens.len());
        v.check(
            kernel,
            name,
            &format!("{what} p"),
            &got_p,
            &flat(&p),
            TOL_FORWARD,
        );
        v.check(
            kernel,
            name,
            &format!("{what} m"),
            &moments(&gm),
            &flat(&m),
            TOL_FORWARD,
        );
        v.check(
            kernel,
            name,
            &format!("{what} v"),
            &moments(&gv),
            &flat(&vv),
            TOL_FORWARD,
        );
        // 1 where the padding is still NaN: nothing wrote outside a tensor's moments
        let untouched: Vec<f32> = padding
            .iter()
            .flat_map(|r| gm[r.clone()].iter().chain(&gv[r.clone()]))
            .map(|x| if x.is_nan() { 1.0 } else { 0.0 })
            .collect();
        let ones = vec![1.0; untouched.len()];
        v.check(
            kernel,
            name,
            &format!("{what} padding"),
            &untouched,
            &ones,
            TOL_FORWARD,
        );
    }
}
