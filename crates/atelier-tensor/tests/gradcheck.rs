//! Every differentiable op's backward against central finite differences in f64.

use atelier_tensor::{Device, Tensor, gradcheck};

const TOL: f64 = 1e-6;

fn rand(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, -1.0, 1.0, seed, Device::Cpu)
}

fn positive(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, 0.5, 2.0, seed, Device::Cpu)
}

/// Values away from 0 so kinks (relu, abs, leaky_relu) are not straddled by ±ε.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let v = rand(shape, seed)
        .to_vec()
        .iter()
        .map(|x| {
            if x.abs() < 0.1 {
                x.signum() * 0.3 + x
            } else {
                *x
            }
        })
        .collect();
    Tensor::from_vec(v, shape, Device::Cpu)
}

fn assert_grad(name: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    let r = gradcheck::check(f, inputs);
    assert!(
        r.max_relative_error < TOL,
        "{name}: gradient rel err {:.3e}",
        r.max_relative_error
    );
}

#[test]
fn unary_ops() {
    let x = away_from_zero(&[3, 5], 1);
    assert_grad("neg", |t| t[0].neg(), std::slice::from_ref(&x));
    assert_grad("exp", |t| t[0].exp(), std::slice::from_ref(&x));
    assert_grad("abs", |t| t[0].abs(), std::slice::from_ref(&x));
    assert_grad("relu", |t| t[0].relu(), std::slice::from_ref(&x));
    assert_grad(
        "leaky_relu",
        |t| t[0].leaky_relu(0.2),
        std::slice::from_ref(&x),
    );
    assert_grad("tanh", |t| t[0].tanh(), std::slice::from_ref(&x));
    assert_grad("sigmoid", |t| t[0].sigmoid(), std::slice::from_ref(&x));
    assert_grad("softplus", |t| t[0].softplus(), std::slice::from_ref(&x));
    assert_grad("square", |t| t[0].square(), std::slice::from_ref(&x));
    assert_grad(
        "add_scalar",
        |t| t[0].add_scalar(3.0),
        std::slice::from_ref(&x),
    );
    assert_grad(
        "mul_scalar",
        |t| t[0].mul_scalar(-2.5),
        std::slice::from_ref(&x),
    );
    let p = positive(&[4, 3], 2);
    assert_grad("log", |t| t[0].log(), std::slice::from_ref(&p));
    assert_grad("sqrt", |t| t[0].sqrt(), std::slice::from_ref(&p));
    assert_grad("powf", |t| t[0].powf(1.7), std::slice::from_ref(&p));
}

#[test]
fn binary_ops_with_broadcasting() {
    let a = rand(&[2, 3, 4], 3);
    let b = positive(&[3, 1], 4);
    let c = rand(&[2, 3, 4], 5);
    for (name, f) in [
        ("add", Tensor::add as fn(&Tensor, &Tensor) -> Tensor),
        ("sub", Tensor::sub),
        ("mul", Tensor::mul),
        ("div", Tensor::div),
    ] {
        assert_grad(name, |t| f(&t[0], &t[1]), &[a.clone(), b.clone()]);
        assert_grad(name, |t| f(&t[1], &t[0]), &[a.clone(), b.clone()]);
        assert_grad(name, |t| f(&t[0], &t[1]), &[a.clone(), c.clone()]);
    }
    let d = away_from_zero(&[2, 3, 4], 6);
    assert_grad("maximum", |t| t[0].maximum(&t[1]), &[a.clone(), d.clone()]);
    assert_grad("minimum", |t| t[0].minimum(&t[1]), &[a.clone(), d]);
}

#[test]
fn tensor_used_twice_accumulates() {
    let x = rand(&[5], 7);
    assert_grad("x*x+x", |t| t[0].mul(&t[0]).add(&t[0]), &[x]);
}

#[test]
fn reductions() {
    let x = rand(&[3, 4, 5], 8);
    assert_grad(
        "sum(1)",
        |t| t[0].sum(&[1], false),
        std::slice::from_ref(&x),
    );
    assert_grad(
        "sum(0,2) keepdim",
        |t| t[0].sum(&[0, 2], true),
        std::slice::from_ref(&x),
    );
    assert_grad(
        "mean(2)",
        |t| t[0].mean(&[2], false),
        std::slice::from_ref(&x),
    );
    assert_grad("mean_all", |t| t[0].mean_all(), std::slice::from_ref(&x));
    assert_grad(
        "max(1)",
        |t| t[0].max(&[1], false),
        std::slice::from_ref(&x),
    );
    assert_grad(
        "max(0,1,2)",
        |t| t[0].max(&[0, 1, 2], true),
        std::slice::from_ref(&x),
    );
}

#[test]
fn layout_ops() {
    let x = rand(&[2, 3, 4], 9);
    assert_grad(
        "reshape",
        |t| t[0].reshape(&[4, 6]).mul(&t[0].reshape(&[4, 6])),
        std::slice::from_ref(&x),
    );
    assert_grad(
        "permute",
        |t| t[0].permute(&[2, 0, 1]),
        std::slice::from_ref(&x),
    );
    assert_grad(
        "transpose",
        |t| t[0].transpose(0, 2),
        std::slice::from_ref(&x),
    );
    assert_grad("slice", |t| t[0].slice(1, 1, 3), std::slice::from_ref(&x));
    assert_grad(
        "slice(-1)",
        |t| t[0].slice(-1, 0, 1),
        std::slice::from_ref(&x),
    );
    let y = rand(&[2, 5, 4], 10);
    assert_grad(
        "concat",
        |t| Tensor::concat(&[t[0].clone(), t[1].clone()], 1),
        &[x.clone(), y],
    );
    let b = rand(&[3, 1], 11);
    assert_grad("expand", |t| t[0].expand(&[2, 3, 4]), &[b]);
}

#[test]
fn matmul() {
    let a = rand(&[3, 4], 12);
    let b = rand(&[4, 5], 13);
    assert_grad("matmul 2d", |t| t[0].matmul(&t[1]), &[a.clone(), b]);
    let ba = rand(&[2, 3, 4], 14);
    let bb = rand(&[2, 4, 5], 15);
    assert_grad(
        "matmul 3d",
        |t| t[0].matmul(&t[1]),
        &[ba.clone(), bb.clone()],
    );
    let b1 = rand(&[1, 4, 5], 16);
    assert_grad(
        "matmul batch broadcast",
        |t| t[0].matmul(&t[1]),
        &[ba.clone(), b1],
    );
    let w = rand(&[4, 2], 17);
    assert_grad("matmul 3d by 2d", |t| t[0].matmul(&t[1]), &[ba, w]);
    // Gram matrix F Fᵀ, the style-loss building block: F used twice
    let f = rand(&[3, 7], 18);
    assert_grad("gram", |t| t[0].matmul(&t[0].transpose(0, 1)), &[f]);
    // ... and the op that computes it without a copy of Fᵀ: gradient (gG + gGᵀ)·F
    let fb = rand(&[2, 3, 7], 19);
    assert_grad("Tensor::gram", |t| t[0].gram(), &[fb]);
}

#[test]
fn losses() {
    let x = rand(&[4, 3], 19).mul_scalar(3.0);
    let t = Tensor::rand_uniform(&[4, 3], 0.0, 1.0, 20, Device::Cpu).to_f64();
    assert_grad(
        "bce_with_logits",
        |v| v[0].bce_with_logits(&t),
        std::slice::from_ref(&x),
    );
    // the targets' gradient too (−x / n; the fused kernel leaves it to the backward)
    assert_grad(
        "bce_with_logits targets",
        |v| v[0].bce_with_logits(&v[1]),
        &[x.clone(), t.clone()],
    );
    let y = rand(&[4, 3], 21);
    assert_grad("mse", |v| v[0].mse(&v[1]), &[x.clone(), y.clone()]);
    let x2 = away_from_zero(&[4, 3], 22);
    let zero = Tensor::zeros(&[4, 3], Device::Cpu);
    assert_grad("l1", |v| v[0].l1(&v[1]), &[x2, zero]);
}

#[test]
fn gradcheck_catches_a_wrong_gradient() {
    // x * detach(x) has true derivative 2x but autograd (correctly for detach) reports x:
    // the finite difference sees the difference
    let x = rand(&[6], 23);
    let r = gradcheck::check(|t| t[0].mul(&t[0].detach()), &[x]);
    assert!(
        r.max_relative_error > 0.4,
        "gradcheck missed a wrong gradient: {:.3e}",
        r.max_relative_error
    );
}

mod image_ops {
    use super::*;
    use atelier_tensor::{Conv2dParams, ConvTranspose2dParams};

    #[test]
    fn conv2d_with_bias_stride_padding_dilation() {
        let x = rand(&[2, 3, 7, 6], 30);
        let w = rand(&[4, 3, 3, 2], 31);
        let b = rand(&[4], 32);
        let p = Conv2dParams {
            stride: (2, 1),
            padding: (1, 2),
            dilation: (1, 2),
        };
        assert_grad(
            "conv2d",
            |t| t[0].conv2d(&t[1], Some(&t[2]), p),
            &[x.clone(), w.clone(), b],
        );
        assert_grad(
            "conv2d no bias",
            |t| t[0].conv2d(&t[1], None, Conv2dParams::new(1, 1)),
            &[x, w],
        );
    }

    #[test]
    fn conv_transpose2d_with_output_padding() {
        let x = rand(&[2, 3, 4, 5], 33);
        let w = rand(&[3, 2, 4, 3], 34);
        let b = rand(&[2], 35);
        let p = ConvTranspose2dParams {
            stride: (2, 2),
            padding: (1, 0),
            output_padding: (1, 1),
            dilation: (1, 1),
        };
        assert_grad(
            "conv_transpose2d",
            |t| t[0].conv_transpose2d(&t[1], Some(&t[2]), p),
            &[x, w, b],
        );
    }

    #[test]
    fn batch_norm_training_and_evaluation() {
        let x = rand(&[3, 2, 3, 4], 36);
        let gamma = rand(&[2], 37);
        let beta = rand(&[2], 38);
        // running statistics are module state, not inputs: fresh ones per call keep every
        // finite-difference evaluation identical
        let train = |t: &[Tensor]| {
            let (rm, rv) = (
                Tensor::zeros(&[2], Device::Cpu),
                Tensor::ones(&[2], Device::Cpu),
            );
            t[0].batch_norm2d(&t[1], &t[2], &rm, &rv, true, 0.1, 1e-5)
        };
        assert_grad(
            "batch_norm2d train",
            train,
            &[x.clone(), gamma.clone(), beta.clone()],
        );
        let eval = |t: &[Tensor]| {
            let rm = Tensor::from_vec(vec![0.1, -0.2], &[2], Device::Cpu);
            let rv = Tensor::from_vec(vec![0.5, 2.0], &[2], Device::Cpu);
            t[0].batch_norm2d(&t[1], &t[2], &rm, &rv, false, 0.1, 1e-5)
        };
        assert_grad(
            "batch_norm2d eval",
            eval,
            &[x.clone(), gamma.clone(), beta.clone()],
        );
        // fused with a ReLU (slope 0) and DCGAN's LeakyReLU; the derivative read off the output
        for slope in [0.0, 0.2] {
            let train_act = |t: &[Tensor]| {
                let (rm, rv) = (
                    Tensor::zeros(&[2], Device::Cpu),
                    Tensor::ones(&[2], Device::Cpu),
                );
                t[0].batch_norm2d_act(&t[1], &t[2], &rm, &rv, true, 0.1, 1e-5, slope)
            };
            assert_grad(
                &format!("batch_norm2d_act {slope}"),
                train_act,
                &[x.clone(), gamma.clone(), beta.clone()],
            );
        }
    }

    #[test]
    fn instance_norm() {
        let x = rand(&[2, 3, 4, 5], 39);
        let gamma = rand(&[3], 40);
        let beta = rand(&[3], 41);
        assert_grad(
            "instance_norm2d",
            |t| t[0].instance_norm2d(&t[1], &t[2], 1e-5),
            &[x.clone(), gamma, beta],
        );
        assert_grad(
            "instance_norm2d_no_affine",
            |t| t[0].instance_norm2d_no_affine(1e-5),
            std::slice::from_ref(&x),
        );
    }

    #[test]
    fn pooling_upsampling_padding() {
        let x = rand(&[2, 2, 6, 5], 42);
        assert_grad(
            "max_pool2d",
            |t| t[0].max_pool2d(2, 2, 0),
            std::slice::from_ref(&x),
        );
        assert_grad(
            "max_pool2d overlapping padded",
            |t| t[0].max_pool2d(3, 2, 1),
            std::slice::from_ref(&x),
        );
        assert_grad(
            "avg_pool2d",
            |t| t[0].avg_pool2d(3, 2, 1),
            std::slice::from_ref(&x),
        );
        assert_grad(
            "upsample_nearest2d",
            |t| t[0].upsample_nearest2d(2),
            std::slice::from_ref(&x),
        );
        assert_grad(
            "reflection_pad2d",
            |t| t[0].reflection_pad2d([2, 1, 3, 0]),
            std::slice::from_ref(&x),
        );
    }
}
