//! A step of `style train` where one batch's VGG features are larger than a storage binding:
//! TransformerNet forward, the perceptual losses' ops on VGG-19 features of the whole batch
//! (Gram matrices, the content loss's and total variation's reductions, slices and
//! broadcasts) and the backward pass, with the binding limit lowered for the test's thread,
//! give the losses and gradients they give whole. VGG runs to relu2_1 only (its deeper layers
//! add nothing new at this size and cost minutes on a software GPU); the losses are built as
//! `loss::PerceptualLoss` builds them.

use atelier_kernels::chunk::with_binding_limit;
use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::gpu;
use atelier_style::TransformerNet;
use atelier_style::loss::{gram, total_variation};
use atelier_style::vgg::Vgg19;
use atelier_tensor::{Device, Tensor, no_grad};

/// 64 KiB: the batch's relu1_1 features (2 × 64 planes of 16×16) are 128 KiB.
const LIMIT: u64 = 64 << 10;

fn largest(a: &[f32]) -> f32 {
    a.iter().fold(0f32, |m, v| m.max(v.abs()))
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn a_training_step_over_a_binding_gives_what_it_gives_whole() {
    if !gpu_for_tests() {
        return;
    }
    let device = Device::Gpu;
    let vgg = Vgg19::random(0, "relu2_1", device).unwrap();
    let net = TransformerNet::new(7, device);
    net.set_requires_grad(true);
    let style = Tensor::randn(&[1, 3, 16, 16], 0.5, 0.2, 1, device);
    let photos = Tensor::randn(&[2, 3, 16, 16], 0.5, 0.2, 2, device);
    // the losses, then every parameter's gradient, read back
    let step = || -> (Vec<f32>, Vec<Vec<f32>>) {
        let style_gram = no_grad(|| gram(&vgg.extract(&style, &["relu1_1"]).remove(0)));
        let target = no_grad(|| vgg.extract(&photos, &["relu2_1"]).remove(0));
        for p in net.parameters() {
            p.zero_grad();
        }
        let y = net.forward(&photos.mul_scalar(255.0)).div_scalar(255.0);
        let f = vgg.extract(&y, &["relu1_1", "relu2_1"]);
        let content = f[1].mse(&target);
        let g = gram(&f[0]);
        let style_loss = g.mse(&style_gram.expand(g.shape())).mul_scalar(1e4);
        let tv = total_variation(&y);
        content.add(&style_loss).add(&tv).backward();
        let losses = [content, style_loss, tv].map(|l| l.to_vec()[0]).to_vec();
        let grads = net
            .parameters()
            .iter()
            .map(|p| p.grad().unwrap().to_vec())
            .collect();
        (losses, grads)
    };
    let (losses, grads) = step();
    let before = gpu().stats();
    let (split_losses, split_grads) = with_binding_limit(LIMIT, step);
    let chunks = (gpu().stats() - before).chunks;
    assert!(chunks > 10, "ran in {chunks} chunks: not split");
    assert!(
        losses.iter().all(|&l| l.is_finite() && l > 0.0),
        "{losses:?}"
    );
    // sums split into blocks round differently
    for (a, b) in losses.iter().zip(&split_losses) {
        assert!(
            (a - b).abs() <= 1e-4 * a.abs(),
            "losses {losses:?} whole, {split_losses:?} split"
        );
    }
    // relative to the largest gradient (the biases before instance norms have none but noise)
    let scale = grads.iter().map(|g| largest(g)).fold(0f32, f32::max);
    for (i, (a, b)) in grads.iter().zip(&split_grads).enumerate() {
        let err = max_diff(a, b) / scale;
        assert!(
            err <= 1e-4,
            "gradient {i} differs by {err:e} of the largest when split"
        );
    }
}
