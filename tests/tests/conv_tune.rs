//! `conv2d=tune`: the first convolution of each shape and direction times every candidate
//! variant and keeps the fastest; the results are the same as on the CPU, later calls reuse
//! the choice without tuning again. (One test in this binary: the tuning table is the
//! process's.) The tune cache is off here: this test tunes in memory, and must neither read
//! nor write the user's cache file (crates/atelier-kernels/tests/tune_cache.rs tests that).

use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::conv2d::{Conv2dSpec, ConvDirection, ConvProblem, ConvVariant};
use atelier_kernels::tune::{tuned_choice, tuned_count, with_tune_cache};
use atelier_kernels::variant::{Variant, with_kernels};
use atelier_tensor::{Conv2dParams, ConvTranspose2dParams, Device, Tensor};

/// conv2d then conv_transpose2d, summed, and the gradients of the sum wrt both weights and
/// the input.
fn forward_backward(device: Device) -> Vec<Vec<f32>> {
    let x = Tensor::randn(&[2, 3, 9, 11], 0.0, 1.0, 1, device).requires_grad_(true);
    let w = Tensor::randn(&[5, 3, 3, 3], 0.0, 0.3, 2, device).requires_grad_(true);
    let wt = Tensor::randn(&[5, 4, 4, 4], 0.0, 0.3, 3, device).requires_grad_(true);
    let y = x.conv2d(&w, None, Conv2dParams::new(2, 1));
    let z = y.conv_transpose2d(&wt, None, ConvTranspose2dParams::new(2, 1));
    let loss = z.mul(&z).sum(&[0, 1, 2, 3], false);
    loss.backward();
    vec![
        z.to_vec(),
        x.grad().unwrap().to_vec(),
        w.grad().unwrap().to_vec(),
        wt.grad().unwrap().to_vec(),
    ]
}

fn assert_close(gpu: &[Vec<f32>], cpu: &[Vec<f32>]) {
    for (i, (g, c)) in gpu.iter().zip(cpu).enumerate() {
        assert_eq!(g.len(), c.len());
        let scale = c.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        let worst = g
            .iter()
            .zip(c)
            .map(|(a, b)| (a - b).abs() / scale)
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-4,
            "output {i}: GPU and CPU differ by {worst} (relative)"
        );
    }
}

#[test]
fn tuning_picks_a_candidate_per_shape_once_and_keeps_the_results() {
    if !gpu_for_tests() {
        return;
    }
    with_tune_cache("off", || with_kernels("conv2d=tune", tune_and_check))
        .expect("a valid setting");
}

fn tune_and_check() {
    let cpu = forward_backward(Device::Cpu);
    assert_eq!(tuned_count(), 0, "the CPU path tunes nothing");

    let first = forward_backward(Device::Gpu);
    assert_close(&first, &cpu);
    // conv2d: forward, backward-data, backward-weight; conv_transpose2d: the same three of
    // the convolution it is the transpose of
    assert_eq!(tuned_count(), 6);
    let conv = Conv2dSpec {
        n: 2,
        c: 3,
        h: 9,
        w: 11,
        k: 5,
        r: 3,
        s: 3,
        stride: (2, 2),
        pad: (1, 1),
        dilation: (1, 1),
    };
    for direction in [
        ConvDirection::Forward,
        ConvDirection::BackwardData,
        ConvDirection::BackwardWeight,
    ] {
        let problem = ConvProblem {
            spec: conv,
            direction,
        };
        let chosen: ConvVariant = tuned_choice(&problem).expect("conv2d tuned in every direction");
        assert!(ConvVariant::candidates(&problem).contains(&chosen));
    }

    // a second pass reuses the choices and computes the same values
    let second = forward_backward(Device::Gpu);
    assert_eq!(tuned_count(), 6, "nothing is tuned twice");
    assert_eq!(second, first);
}
