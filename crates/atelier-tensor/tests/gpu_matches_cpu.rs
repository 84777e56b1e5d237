//! Every op, forward and backward, gives the same result on the GPU as on the CPU reference.

use atelier_kernels::context::gpu_for_tests;
use atelier_tensor::{Device, Tensor};

use atelier_kernels::harness::relative_error as rel_err;

/// Runs `f` on CPU and GPU copies of `inputs` (all requiring grad), backpropagates a fixed
/// weighting of the output, and compares outputs (1e-5) and gradients (1e-4).
fn same_on_both(
    name: &str,
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Vec<f32>],
    shapes: &[&[usize]],
) {
    let run = |dev: Device| {
        let xs: Vec<Tensor> = inputs
            .iter()
            .zip(shapes)
            .map(|(v, s)| Tensor::from_vec(v.clone(), s, dev).requires_grad_(true))
            .collect();
        let y = f(&xs);
        let w = Tensor::rand_uniform(y.shape(), 0.5, 1.5, 99, dev);
        y.mul(&w).sum_all().backward();
        let grads: Vec<Vec<f32>> = xs
            .iter()
            .map(|x| x.grad().map(|g| g.to_vec()).unwrap_or_default())
            .collect();
        (y.to_vec(), grads)
    };
    let (yc, gc) = run(Device::Cpu);
    let (yg, gg) = run(Device::Gpu);
    let e = rel_err(&yg, &yc);
    assert!(e < 1e-5, "{name}: forward differs, rel err {e:.3e}");
    for (i, (a, b)) in gg.iter().zip(&gc).enumerate() {
        let e = rel_err(a, b);
        assert!(
            e < 1e-4,
            "{name}: gradient of input {i} differs, rel err {e:.3e}"
        );
    }
}

fn r(shape: &[usize], seed: u64) -> Vec<f32> {
    Tensor::rand_uniform(shape, -1.0, 1.0, seed, Device::Cpu).to_vec()
}

fn p(shape: &[usize], seed: u64) -> Vec<f32> {
    Tensor::rand_uniform(shape, 0.5, 2.0, seed, Device::Cpu).to_vec()
}

#[test]
fn pointwise_ops() {
    if !gpu_for_tests() {
        return;
    }
    let s: &[usize] = &[3, 17];
    let x = r(s, 1);
    type UnaryFn = fn(&Tensor) -> Tensor;
    let unary: Vec<(&str, UnaryFn)> = vec![
        ("neg", |t| t.neg()),
        ("exp", |t| t.exp()),
        ("abs", |t| t.abs()),
        ("relu", |t| t.relu()),
        ("leaky_relu", |t| t.leaky_relu(0.2)),
        ("tanh", |t| t.tanh()),
        ("sigmoid", |t| t.sigmoid()),
        ("softplus", |t| t.softplus()),
        ("square", |t| t.square()),
        ("add_scalar", |t| t.add_scalar(0.5)),
        ("mul_scalar", |t| t.mul_scalar(3.0)),
    ];
    for (name, f) in unary {
        same_on_both(name, |t| f(&t[0]), std::slice::from_ref(&x), &[s]);
    }
    // near 0, where 1 - 2/(e^2x + 1) loses the digits (its relative error was 1e-4 at 1e-3)
    let tiny: Vec<f32> = x.iter().map(|v| v * 1e-3).collect();
    same_on_both(
        "tanh near 0",
        |t| t[0].tanh(),
        std::slice::from_ref(&tiny),
        &[s],
    );
    let xp = p(s, 2);
    same_on_both("log", |t| t[0].log(), std::slice::from_ref(&xp), &[s]);
    same_on_both("sqrt", |t| t[0].sqrt(), std::slice::from_ref(&xp), &[s]);
    same_on_both("powf", |t| t[0].powf(1.5), std::slice::from_ref(&xp), &[s]);
}

#[test]
fn broadcasting_binary_ops() {
    if !gpu_for_tests() {
        return;
    }
    let (sa, sb): (&[usize], &[usize]) = (&[2, 3, 5], &[3, 1]);
    let (a, b) = (r(sa, 3), p(sb, 4));
    same_on_both(
        "add",
        |t| t[0].add(&t[1]),
        &[a.clone(), b.clone()],
        &[sa, sb],
    );
    same_on_both(
        "sub",
        |t| t[1].sub(&t[0]),
        &[a.clone(), b.clone()],
        &[sa, sb],
    );
    same_on_both(
        "mul",
        |t| t[0].mul(&t[1]),
        &[a.clone(), b.clone()],
        &[sa, sb],
    );
    same_on_both(
        "div",
        |t| t[0].div(&t[1]),
        &[a.clone(), b.clone()],
        &[sa, sb],
    );
    let c = r(sa, 5);
    same_on_both(
        "maximum",
        |t| t[0].maximum(&t[1]),
        &[a.clone(), c.clone()],
        &[sa, sa],
    );
    same_on_both("x*x", |t| t[0].mul(&t[0]), &[a], &[sa]);
}

#[test]
fn reductions_layout_matmul_losses() {
    if !gpu_for_tests() {
        return;
    }
    let s: &[usize] = &[4, 5, 6];
    let x = r(s, 6);
    same_on_both(
        "sum",
        |t| t[0].sum(&[1], false),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both(
        "sum keepdim",
        |t| t[0].sum(&[0, 2], true),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both(
        "mean_all",
        |t| t[0].mean_all(),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both(
        "max",
        |t| t[0].max(&[2], false),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both("gram", |t| t[0].gram(), std::slice::from_ref(&x), &[s]);
    same_on_both(
        "permute",
        |t| t[0].permute(&[1, 2, 0]),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both(
        "slice",
        |t| t[0].slice(2, 1, 4),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both(
        "concat",
        |t| Tensor::concat(&[t[0].clone(), t[0].slice(0, 0, 2)], 0),
        std::slice::from_ref(&x),
        &[s],
    );
    same_on_both(
        "expand",
        |t| t[0].reshape(&[4, 5, 6, 1]).expand(&[2, 4, 5, 6, 3]),
        std::slice::from_ref(&x),
        &[s],
    );
    let (sa, sb): (&[usize], &[usize]) = (&[3, 33, 17], &[3, 17, 9]);
    same_on_both(
        "matmul",
        |t| t[0].matmul(&t[1]),
        &[r(sa, 7), r(sb, 8)],
        &[sa, sb],
    );
    let sw: &[usize] = &[17, 9];
    same_on_both(
        "matmul broadcast",
        |t| t[0].matmul(&t[1]),
        &[r(sa, 7), r(sw, 9)],
        &[sa, sw],
    );
    let t01 = Tensor::rand_uniform(&[4, 5, 6], 0.0, 1.0, 10, Device::Cpu).to_vec();
    same_on_both(
        "bce_with_logits",
        |t| t[0].mul_scalar(4.0).bce_with_logits(&t[1]),
        &[x.clone(), t01],
        &[s, s],
    );
    same_on_both("mse", |t| t[0].mse(&t[1]), &[x.clone(), r(s, 11)], &[s, s]);
    same_on_both("l1", |t| t[0].l1(&t[1]), &[x, r(s, 12)], &[s, s]);
}

#[test]
fn image_ops() {
    use atelier_tensor::{Conv2dParams, ConvTranspose2dParams};
    if !gpu_for_tests() {
        return;
    }
    let xs: &[usize] = &[2, 8, 9, 11];
    let x = r(xs, 20);
    let ws: &[usize] = &[16, 8, 3, 3];
    let bs: &[usize] = &[16];
    same_on_both(
        "conv2d",
        |t| t[0].conv2d(&t[1], Some(&t[2]), Conv2dParams::new(2, 1)),
        &[x.clone(), r(ws, 21), r(bs, 22)],
        &[xs, ws, bs],
    );
    let wt: &[usize] = &[8, 4, 4, 4];
    same_on_both(
        "conv_transpose2d",
        |t| t[0].conv_transpose2d(&t[1], None, ConvTranspose2dParams::new(2, 1)),
        &[x.clone(), r(wt, 23)],
        &[xs, wt],
    );
    let cs: &[usize] = &[8];
    same_on_both(
        "batch_norm2d",
        |t| {
            let dev = t[0].device();
            let (rm, rv) = (Tensor::zeros(&[8], dev), Tensor::ones(&[8], dev));
            t[0].batch_norm2d(&t[1], &t[2], &rm, &rv, true, 0.1, 1e-5)
        },
        &[x.clone(), p(cs, 24), r(cs, 25)],
        &[xs, cs, cs],
    );
    same_on_both(
        "batch_norm2d_act",
        |t| {
            let dev = t[0].device();
            let (rm, rv) = (Tensor::zeros(&[8], dev), Tensor::ones(&[8], dev));
            t[0].batch_norm2d_act(&t[1], &t[2], &rm, &rv, true, 0.1, 1e-5, 0.2)
        },
        &[x.clone(), p(cs, 24), r(cs, 25)],
        &[xs, cs, cs],
    );
    same_on_both(
        "instance_norm2d",
        |t| t[0].instance_norm2d(&t[1], &t[2], 1e-5),
        &[x.clone(), p(cs, 26), r(cs, 27)],
        &[xs, cs, cs],
    );
    same_on_both(
        "instance_norm2d_no_affine",
        |t| t[0].instance_norm2d_no_affine(1e-5),
        std::slice::from_ref(&x),
        &[xs],
    );
    same_on_both(
        "max_pool2d",
        |t| t[0].max_pool2d(2, 2, 0),
        std::slice::from_ref(&x),
        &[xs],
    );
    same_on_both(
        "avg_pool2d",
        |t| t[0].avg_pool2d(3, 1, 1),
        std::slice::from_ref(&x),
        &[xs],
    );
    same_on_both(
        "upsample_nearest2d",
        |t| t[0].upsample_nearest2d(2),
        std::slice::from_ref(&x),
        &[xs],
    );
    same_on_both(
        "reflection_pad2d",
        |t| t[0].reflection_pad2d([4, 4, 1, 2]),
        std::slice::from_ref(&x),
        &[xs],
    );
}
