//! Parity with PyTorch (tests/data/pytorch/ops.safetensors, float64 on CPU) on CPU and GPU.

use atelier_nn::{Adam, AdamConfig, Optimizer};
use atelier_tensor::Tensor;
use atelier_tests::{Refs, assert_close, devices};

const FWD: f64 = 1e-5;
const GRAD: f64 = 1e-4;

fn pointwise(name: &str, f: impl Fn(&Tensor) -> Tensor) {
    let refs = Refs::load("ops");
    for dev in devices() {
        let x = refs.tensor(&format!("{name}.x"), dev).requires_grad_(true);
        let y = f(&x);
        assert_close(
            &format!("{name} on {dev}"),
            &y,
            &refs,
            &format!("{name}.y"),
            FWD,
        );
        y.backward_with(refs.tensor(&format!("{name}.gy"), dev));
        assert_close(
            &format!("{name} grad on {dev}"),
            &x.grad().unwrap(),
            &refs,
            &format!("{name}.gx"),
            GRAD,
        );
    }
}

#[test]
fn relu() {
    pointwise("relu", |x| x.relu());
}

#[test]
fn leaky_relu() {
    pointwise("leaky_relu", |x| x.leaky_relu(0.2));
}

#[test]
fn tanh() {
    pointwise("tanh", |x| x.tanh());
}

#[test]
fn sigmoid() {
    pointwise("sigmoid", |x| x.sigmoid());
}

#[test]
fn bce_with_logits() {
    let refs = Refs::load("ops");
    for dev in devices() {
        let x = refs.tensor("bce.x", dev).requires_grad_(true);
        let loss = x.bce_with_logits(&refs.tensor("bce.target", dev));
        assert_close(&format!("bce on {dev}"), &loss, &refs, "bce.loss", FWD);
        loss.backward();
        assert_close(
            &format!("bce grad on {dev}"),
            &x.grad().unwrap(),
            &refs,
            "bce.gx",
            GRAD,
        );
    }
}

#[test]
fn matmul_and_both_gradients() {
    let refs = Refs::load("ops");
    for dev in devices() {
        let a = refs.tensor("matmul.a", dev).requires_grad_(true);
        let b = refs.tensor("matmul.b", dev).requires_grad_(true);
        let y = a.matmul(&b);
        assert_close(&format!("matmul on {dev}"), &y, &refs, "matmul.y", FWD);
        y.backward_with(refs.tensor("matmul.gy", dev));
        assert_close(
            &format!("matmul ga on {dev}"),
            &a.grad().unwrap(),
            &refs,
            "matmul.ga",
            GRAD,
        );
        assert_close(
            &format!("matmul gb on {dev}"),
            &b.grad().unwrap(),
            &refs,
            "matmul.gb",
            GRAD,
        );
    }
}

#[test]
fn gram_matrix_via_matmul() {
    let refs = Refs::load("ops");
    for dev in devices() {
        let x = refs.tensor("gram.x", dev);
        let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
        let f = x.reshape(&[n, c, h * w]);
        let gram = f.matmul(&f.transpose(1, 2)).div_scalar((c * h * w) as f32);
        assert_close(&format!("gram on {dev}"), &gram, &refs, "gram.y", FWD);
    }
}

#[test]
fn three_adam_steps() {
    let refs = Refs::load("ops");
    let cfg: serde_json::Value = serde_json::from_str(&refs.metadata["adam"]).unwrap();
    let config = AdamConfig {
        lr: cfg["lr"].as_f64().unwrap(),
        beta1: cfg["beta1"].as_f64().unwrap(),
        beta2: cfg["beta2"].as_f64().unwrap(),
        eps: cfg["eps"].as_f64().unwrap(),
        ..AdamConfig::default()
    };
    for dev in devices() {
        let p = refs.tensor("adam.p0", dev).requires_grad_(true);
        let mut adam = Adam::new(vec![p.clone()], config);
        for k in 1..=3 {
            p.set_grad(Some(refs.tensor(&format!("adam.g{k}"), dev)));
            adam.step();
            assert_close(
                &format!("adam step {k} on {dev}"),
                &p,
                &refs,
                &format!("adam.p{k}"),
                FWD,
            );
            // the update itself, p_k − p_0, must match too: p is near 1 and the update near
            // 1e-4, so f32's rounding of p (6e-8) bounds this check to about 1e-3
            let p0 = refs.values("adam.p0");
            let got: Vec<f32> = p
                .to_vec()
                .iter()
                .zip(p0)
                .map(|(a, b)| (*a as f64 - b) as f32)
                .collect();
            let want: Vec<f64> = refs
                .values(&format!("adam.p{k}"))
                .iter()
                .zip(p0)
                .map(|(a, b)| a - b)
                .collect();
            let e = atelier_tests::rel_err(&got, &want);
            assert!(e < 2e-3, "adam step {k} on {dev}: update rel err {e:.3e}");
        }
    }
}
