//! A step of `style train` where one batch's VGG features are larger than a storage binding:
//! TransformerNet forward, the perceptual losses (VGG-19 features of the whole batch, their
//! Gram matrices, the content loss's and total variation's reductions, slices and broadcasts)
//! and the backward pass, with the binding limit lowered for the test's thread, give the
//! losses and gradients they give whole. The lowered limit is checked at every launch, so a
//! kernel that did not split would fail the test, not pass it bound whole.

use atelier_kernels::chunk::with_binding_limit;
use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::gpu;
use atelier_style::TransformerNet;
use atelier_style::loss::{DEEPEST_LAYER, LossWeights, PerceptualLoss};
use atelier_style::vgg::Vgg19;
use atelier_tensor::{Device, Tensor};

/// 64 KiB: the batch's conv1_1 output (2 × 64 planes of 16×16) is 128 KiB.
const LIMIT: u64 = 64 << 10;

/// The largest difference over the largest magnitude.
fn relative(a: &[f32], b: &[f32]) -> f32 {
    let scale = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

#[test]
fn a_training_step_over_a_binding_gives_what_it_gives_whole() {
    if !gpu_for_tests() {
        return;
    }
    let device = Device::Gpu;
    let vgg = Vgg19::random(0, DEEPEST_LAYER, device).unwrap();
    let net = TransformerNet::new(7, device);
    net.set_requires_grad(true);
    let style = Tensor::randn(&[1, 3, 16, 16], 0.5, 0.2, 1, device);
    let photos = Tensor::randn(&[2, 3, 16, 16], 0.5, 0.2, 2, device);
    let weights = LossWeights {
        content: 1.0,
        style: 1e4,
        tv: 1.0,
    };
    // the losses, then every parameter's gradient, read back
    let step = || -> Vec<Vec<f32>> {
        let loss = PerceptualLoss::new(&vgg, &style, weights);
        let target = loss.content_target(&photos);
        for p in net.parameters() {
            p.zero_grad();
        }
        let y = net.forward(&photos.mul_scalar(255.0)).div_scalar(255.0);
        let losses = loss.losses(&y, &target);
        losses.total().backward();
        let v = losses.values();
        let mut out = vec![vec![v.content, v.style, v.tv]];
        out.extend(net.parameters().iter().map(|p| p.grad().unwrap().to_vec()));
        out
    };
    let whole = step();
    let before = gpu().stats();
    let split = with_binding_limit(LIMIT, step);
    let chunks = (gpu().stats() - before).chunks;
    assert!(chunks > 100, "ran in {chunks} chunks: not split");
    assert!(
        whole[0].iter().all(|&l| l.is_finite() && l > 0.0),
        "{:?}",
        whole[0]
    );
    for (i, (a, b)) in whole.iter().zip(&split).enumerate() {
        // sums split into blocks round differently
        let err = relative(a, b);
        assert!(err <= 1e-3, "output {i} differs by {err:e} when split");
    }
}
