//! Parity with PyTorch for convolutions and normalisation (tests/data/pytorch/{conv2d,
//! conv_transpose2d, norm}.safetensors, float64 on CPU): every forward output and every
//! gradient, on CPU and GPU, relative error < 1e-4.

use atelier_tensor::{Conv2dParams, ConvTranspose2dParams, Tensor};
use atelier_tests::{Refs, assert_close, devices};

const TOL: f64 = 1e-4;

fn pair(v: &serde_json::Value, key: &str, default: usize) -> (usize, usize) {
    match &v[key] {
        serde_json::Value::Number(n) => {
            let n = n.as_u64().unwrap() as usize;
            (n, n)
        }
        serde_json::Value::Array(a) => (
            a[0].as_u64().unwrap() as usize,
            a[1].as_u64().unwrap() as usize,
        ),
        _ => (default, default),
    }
}

/// Runs `f(x, w, b)`, backpropagates `gy`, and checks y, gx, gw, gb for one case.
fn check_case(refs: &Refs, prefix: &str, f: &dyn Fn(&Tensor, &Tensor, Option<&Tensor>) -> Tensor) {
    for dev in devices() {
        let k = |name: &str| format!("{prefix}{name}");
        let x = refs.tensor(&k("x"), dev).requires_grad_(true);
        let w = refs.tensor(&k("w"), dev).requires_grad_(true);
        let b = refs
            .has(&k("b"))
            .then(|| refs.tensor(&k("b"), dev).requires_grad_(true));
        let y = f(&x, &w, b.as_ref());
        let what = format!("{prefix} on {dev}");
        assert_close(&what, &y, refs, &k("y"), TOL);
        y.backward_with(refs.tensor(&k("gy"), dev));
        assert_close(&what, &x.grad().unwrap(), refs, &k("gx"), TOL);
        assert_close(&what, &w.grad().unwrap(), refs, &k("gw"), TOL);
        if let Some(b) = b {
            assert_close(&what, &b.grad().unwrap(), refs, &k("gb"), TOL);
        }
    }
}

#[test]
fn conv2d() {
    let refs = Refs::load("conv2d");
    let cases = refs.cases();
    assert!(!cases.is_empty());
    for case in cases {
        let prefix = case["prefix"].as_str().unwrap().to_string();
        let p = Conv2dParams {
            stride: pair(&case, "stride", 1),
            padding: pair(&case, "padding", 0),
            dilation: pair(&case, "dilation", 1),
        };
        check_case(&refs, &prefix, &|x, w, b| x.conv2d(w, b, p));
    }
}

#[test]
fn conv_transpose2d() {
    let refs = Refs::load("conv_transpose2d");
    let cases = refs.cases();
    assert!(!cases.is_empty());
    for case in cases {
        let prefix = case["prefix"].as_str().unwrap().to_string();
        let p = ConvTranspose2dParams {
            stride: pair(&case, "stride", 1),
            padding: pair(&case, "padding", 0),
            output_padding: pair(&case, "output_padding", 0),
            dilation: pair(&case, "dilation", 1),
        };
        check_case(&refs, &prefix, &|x, w, b| x.conv_transpose2d(w, b, p));
    }
}

#[test]
fn batch_norm_and_instance_norm() {
    let refs = Refs::load("norm");
    let cases = refs.cases();
    assert!(cases.len() >= 2);
    for case in cases {
        let prefix = case["prefix"].as_str().unwrap().to_string();
        let kind = case["kind"].as_str().unwrap();
        let eps = case["eps"].as_f64().unwrap() as f32;
        for dev in devices() {
            let k = |name: &str| format!("{prefix}{name}");
            let x = refs.tensor(&k("x"), dev).requires_grad_(true);
            let gamma = refs.tensor(&k("gamma"), dev).requires_grad_(true);
            let beta = refs.tensor(&k("beta"), dev).requires_grad_(true);
            let c = gamma.numel();
            let (rm, rv) = (Tensor::zeros(&[c], dev), Tensor::ones(&[c], dev));
            let y = match kind {
                "batchnorm2d_train" => {
                    let momentum = case["momentum"].as_f64().unwrap() as f32;
                    x.batch_norm2d(&gamma, &beta, &rm, &rv, true, momentum, eps)
                }
                "instance_norm" => x.instance_norm2d(&gamma, &beta, eps),
                other => panic!("unknown norm case kind {other}"),
            };
            let what = format!("{prefix} ({kind}) on {dev}");
            assert_close(&what, &y, &refs, &k("y"), TOL);
            if kind == "batchnorm2d_train" {
                assert_close(&what, &rm, &refs, &k("running_mean"), TOL);
                assert_close(&what, &rv, &refs, &k("running_var"), TOL);
            }
            y.backward_with(refs.tensor(&k("gy"), dev));
            assert_close(&what, &x.grad().unwrap(), &refs, &k("gx"), TOL);
            assert_close(&what, &gamma.grad().unwrap(), &refs, &k("ggamma"), TOL);
            assert_close(&what, &beta.grad().unwrap(), &refs, &k("gbeta"), TOL);
        }
    }
}
