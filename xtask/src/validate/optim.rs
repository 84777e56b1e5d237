//! Validation of `shaders/optim.wgsl`: several steps in a row with the optimizer state carried
//! from step to step, GPU and reference side by side; then Adam against PyTorch's own numbers
//! (tests/data/pytorch/ops.safetensors, `adam.*`).

use std::path::PathBuf;

use atelier_kernels::gpu;
use atelier_kernels::kernels::optim::{self as k, AdamStep, SgdStep};
use atelier_kernels::reference::optim as r;
use safetensors::{Dtype, SafeTensors};

use super::{TOL_FORWARD, Validator};

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
    if v.wants("optim::adam") {
        for (variant, hp) in adam_variants() {
            for n in LENGTHS {
                adam_steps(v, variant, hp, n);
            }
        }
        adam_vs_pytorch(v);
    }
    if v.wants("optim::sgd") {
        for (variant, hp) in sgd_variants() {
            for n in LENGTHS {
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
    for step in 1..=STEPS {
        let hp = AdamStep { step, ..hp };
        let grad = v.rand(n);
        k::adam(&hp, &pb, &g.upload(&grad), &mb, &vb);
        r::adam(&hp, &mut p, &grad, &mut m, &mut vv);
        for (name, buf, want) in [("p", &pb, &p), ("m", &mb, &m), ("v", &vb, &vv)] {
            let got = v.read(buf);
            let case = format!("n={n} step {step} {name}");
            v.check("optim::adam", variant, &case, &got, want, TOL_FORWARD);
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
    for step in 1..=STEPS {
        let hp = SgdStep { step, ..hp };
        let grad = v.rand(n);
        k::sgd(&hp, &pb, &g.upload(&grad), bufb.as_ref());
        r::sgd(&hp, &mut p, &grad, with_momentum.then_some(&mut buf[..]));
        let got = v.read(&pb);
        v.check(
            "optim::sgd",
            variant,
            &format!("n={n} step {step} p"),
            &got,
            &p,
            TOL_FORWARD,
        );
        if let Some(bufb) = &bufb {
            let got = v.read(bufb);
            v.check(
                "optim::sgd",
                variant,
                &format!("n={n} step {step} buf"),
                &got,
                &buf,
                TOL_FORWARD,
            );
        }
    }
}

fn pytorch_ops_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pytorch/ops.safetensors")
}

/// PyTorch's three Adam steps: p0 and g1..g3 in, p1..p3 out, hyperparameters in the metadata.
/// Row `pytorch` compares p1..p3 (tol 1e-5 relative). An update is about lr = 2e-4 of |p|, so
/// that alone would miss a 5% error in the update; row `pytorch_update` compares the updates
/// pk - p0 themselves, up to the f32 rounding of p (about 1e-7 absolute, 1e-4 relative).
fn adam_vs_pytorch(v: &mut Validator) {
    let path = pytorch_ops_file();
    let loaded = std::fs::read(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|bytes| read_adam_case(&bytes));
    let case = match loaded {
        Ok(case) => case,
        Err(e) => {
            // an empty result against a non-empty one records a failure that names the problem
            v.check("optim::adam", "pytorch", &e, &[], &[0.0], TOL_FORWARD);
            return;
        }
    };
    let g = gpu();
    let p0 = to_f32(&case.p0);
    let zeros = vec![0.0; p0.len()];
    let (pb, mb, vb) = (g.upload(&p0), g.upload(&zeros), g.upload(&zeros));
    for (i, (grad, want)) in case.grads.iter().zip(&case.params).enumerate() {
        let step = i as u64 + 1;
        k::adam(
            &AdamStep { step, ..case.hp },
            &pb,
            &g.upload(&to_f32(grad)),
            &mb,
            &vb,
        );
        let got = v.read(&pb);
        v.check(
            "optim::adam",
            "pytorch",
            &format!("p{step}"),
            &got,
            &to_f32(want),
            TOL_FORWARD,
        );
        let got_update: Vec<f32> = got
            .iter()
            .zip(&p0)
            .map(|(&a, &b)| (a as f64 - b as f64) as f32)
            .collect();
        let want_update: Vec<f32> = want
            .iter()
            .zip(&case.p0)
            .map(|(a, b)| (a - b) as f32)
            .collect();
        let case = format!("p{step} - p0");
        v.check(
            "optim::adam",
            "pytorch_update",
            &case,
            &got_update,
            &want_update,
            TOL_UPDATE,
        );
    }
}

/// Relative tolerance on an f32 Adam update measured against f64 (see `adam_vs_pytorch`).
const TOL_UPDATE: f64 = 1e-3;

/// The `adam.*` case of ops.safetensors, in f64 as stored.
struct AdamCase {
    hp: AdamStep,
    p0: Vec<f64>,
    grads: Vec<Vec<f64>>,
    /// p1, p2, p3: the parameters after each step
    params: Vec<Vec<f64>>,
}

fn read_adam_case(bytes: &[u8]) -> Result<AdamCase, String> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
    let settings = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("adam"))
        .ok_or("ops.safetensors: no `adam` entry in the metadata")?;
    let settings: serde_json::Value = serde_json::from_str(settings).map_err(|e| e.to_string())?;
    let num = |key: &str| {
        settings[key].as_f64().ok_or(format!(
            "ops.safetensors: adam metadata has no number {key}"
        ))
    };
    let hp = AdamStep {
        lr: num("lr")?,
        beta1: num("beta1")?,
        beta2: num("beta2")?,
        eps: num("eps")?,
        ..AdamStep::default()
    };
    let st = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let get = |name: &str| read_f64(&st, &format!("adam.{name}"));
    Ok(AdamCase {
        hp,
        p0: get("p0")?,
        grads: ["g1", "g2", "g3"]
            .map(get)
            .into_iter()
            .collect::<Result<_, _>>()?,
        params: ["p1", "p2", "p3"]
            .map(get)
            .into_iter()
            .collect::<Result<_, _>>()?,
    })
}

fn read_f64(st: &SafeTensors, name: &str) -> Result<Vec<f64>, String> {
    let t = st
        .tensor(name)
        .map_err(|e| format!("ops.safetensors: {name}: {e}"))?;
    if t.dtype() != Dtype::F64 {
        return Err(format!(
            "ops.safetensors: {name} is {:?}, expected F64",
            t.dtype()
        ));
    }
    Ok(t.data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect())
}

fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}
