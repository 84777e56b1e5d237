//! Optimisation-based transfer on a real photo and painting (copies in tests/data/images), on the GPU with
//! random VGG-19 features, at a size lavapipe runs in well under a minute.

mod common;

use atelier_style::color::rgb_to_yiq;
use atelier_style::gatys::{Init, PixelOptimizer, TransferConfig, transfer};
use atelier_style::image_io::{load_image, resize};
use atelier_style::loss::{DEEPEST_LAYER, LossWeights};
use atelier_style::score::score;
use atelier_style::vgg::Vgg19;
use atelier_tensor::Device;

/// The bar for a transfer: the result's style loss under a tenth of the photo's (it took on
/// the painting's style), its content loss under the painting's (it kept the photo's content).
#[test]
fn transfer_takes_on_the_style_and_keeps_the_content() {
    let data = common::test_images();
    if !common::gpu() {
        return;
    }
    let content = load_image(&data.join("content/tubingen.jpg")).unwrap();
    let style = load_image(&data.join("styles/starry_night.jpg")).unwrap();
    let vgg = Vgg19::random(0, DEEPEST_LAYER, Device::Gpu).unwrap();
    let config = TransferConfig {
        size: 32,
        steps: 20,
        lr: 0.05,
        ..TransferConfig::default()
    };
    let result = transfer(&vgg, &content, &style, &config, &mut |_| {}).unwrap();
    assert_eq!(result.image.dimensions(), (32, 24));
    let s = score(&vgg, &content, &style, &result.image);
    eprintln!("{s:?}");
    assert!(
        s.style_ratio() < 0.1,
        "style loss {:.3e} is {:.3} of the photo's {:.3e}",
        s.result.style,
        s.style_ratio(),
        s.photo.style
    );
    assert!(
        s.content_ratio() < 1.0,
        "content loss {:.3e} is above the painting's {:.3e}",
        s.result.content,
        s.painting.content
    );
}

/// Coarse to fine with colour preservation, L-BFGS, from noise: every step is reported, frames
/// come when asked, the result has the photo's size and its chroma.
#[test]
fn coarse_to_fine_lbfgs_keeps_the_photos_colours() {
    let data = common::test_images();
    if !common::gpu() {
        return;
    }
    let content = load_image(&data.join("content/golden_gate.jpg")).unwrap();
    let style = load_image(&data.join("styles/the_scream.jpg")).unwrap();
    let vgg = Vgg19::random(1, DEEPEST_LAYER, Device::Gpu).unwrap();
    let config = TransferConfig {
        size: 48,
        steps: 2,
        scales: 2,
        init: Init::Random,
        optimizer: PixelOptimizer::Lbfgs,
        lr: PixelOptimizer::Lbfgs.default_lr(),
        preserve_colors: true,
        weights: LossWeights {
            content: 1.0,
            style: 1e4,
            tv: 1.0,
        },
        frames_every: Some(2),
        ..TransferConfig::default()
    };
    let mut reports = Vec::new();
    let mut frames = 0;
    let result = transfer(&vgg, &content, &style, &config, &mut |p| {
        reports.push((p.scale, p.width, p.step));
        frames += p.frame.is_some() as usize;
        assert!(p.losses.is_some_and(|l| l.total().is_finite()));
    })
    .unwrap();
    let (w, h) = result.image.dimensions();
    assert_eq!(w, 48);
    assert_eq!(reports.first(), Some(&(0, 24, 1)));
    assert_eq!(reports.last(), Some(&(1, 48, 2)));
    assert_eq!(frames, 2, "a frame at step 2 of each scale");
    // the result's chroma is the photo's: I and Q agree wherever nothing was clamped
    let photo = resize(&content, w, h);
    let mut diff = 0.0;
    for (a, b) in result.image.pixels().zip(photo.pixels()) {
        let (ya, yb) = (rgb_to_yiq(a.0), rgb_to_yiq(b.0));
        diff += (ya[1] - yb[1]).abs() + (ya[2] - yb[2]).abs();
    }
    let mean = diff / (w * h) as f32;
    assert!(mean < 0.02, "mean chroma difference {mean}");
}
