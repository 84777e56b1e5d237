//! The perceptual losses both methods minimise (Gatys et al. 2016; Johnson et al. 2016):
//!
//! - content: mean squared difference of VGG activations at conv4_2;
//! - style: Σ over relu1_1 … relu5_1 of the mean squared difference of Gram matrices, each
//!   normalised by C·H·W (pytorch/examples' fast_neural_style convention);
//! - total variation: mean squared difference of neighbouring pixels, down and across.
//!
//! Each term is multiplied by its weight; the three weighted terms are what a progress line
//! shows and what the optimiser sees (their sum).

use atelier_tensor::{Tensor, no_grad};

use crate::vgg::Vgg19;

pub const CONTENT_LAYER: &str = "conv4_2";
pub const STYLE_LAYERS: [&str; 5] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];
/// The deepest layer the losses read: VGG is built and run up to here only.
pub const DEEPEST_LAYER: &str = "relu5_1";

/// `[N, C, H, W]` → `[N, C, C]`: F·Fᵀ / (C·H·W), F the activations as `[N, C, H·W]`.
pub fn gram(features: &Tensor) -> Tensor {
    let &[n, c, h, w] = features.shape() else {
        panic!("gram: expects [N, C, H, W], got {:?}", features.shape());
    };
    features
        .reshape(&[n, c, h * w])
        .gram()
        .div_scalar((c * h * w) as f32)
}

/// Mean squared difference of vertically and of horizontally adjacent pixels, summed.
pub fn total_variation(images: &Tensor) -> Tensor {
    let &[_, _, h, w] = images.shape() else {
        panic!(
            "total_variation: expects [N, C, H, W], got {:?}",
            images.shape()
        );
    };
    let down = images.slice(2, 1, h).sub(&images.slice(2, 0, h - 1));
    let across = images.slice(3, 1, w).sub(&images.slice(3, 0, w - 1));
    down.square().mean_all().add(&across.square().mean_all())
}

/// How much each term counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossWeights {
    pub content: f32,
    pub style: f32,
    pub tv: f32,
}

/// The three weighted terms, as scalar tensors still attached to the graph.
pub struct Losses {
    pub content: Tensor,
    pub style: Tensor,
    pub tv: Tensor,
}

impl Losses {
    pub fn total(&self) -> Tensor {
        self.content.add(&self.style).add(&self.tv)
    }

    /// The values on the host, with one read-back.
    pub fn values(&self) -> LossValues {
        let all = no_grad(|| {
            Tensor::concat(
                &[
                    self.content.reshape(&[1]),
                    self.style.reshape(&[1]),
                    self.tv.reshape(&[1]),
                ],
                0,
            )
        })
        .to_vec();
        LossValues {
            content: all[0],
            style: all[1],
            tv: all[2],
        }
    }
}

/// Loss values on the host.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossValues {
    pub content: f32,
    pub style: f32,
    pub tv: f32,
}

impl LossValues {
    pub fn total(&self) -> f32 {
        self.content + self.style + self.tv
    }
}

/// The losses against one style image, its Gram matrices computed once.
pub struct PerceptualLoss<'a> {
    vgg: &'a Vgg19,
    style_grams: Vec<Tensor>,
    pub weights: LossWeights,
}

impl<'a> PerceptualLoss<'a> {
    /// `style`: `[1, 3, H, W]` in [0, 1] (or `[1, 1, H, W]` luminance, repeated to 3 channels).
    pub fn new(vgg: &'a Vgg19, style: &Tensor, weights: LossWeights) -> PerceptualLoss<'a> {
        let style_grams = no_grad(|| {
            vgg.extract(&rgb(style), &STYLE_LAYERS)
                .iter()
                .map(gram)
                .collect()
        });
        PerceptualLoss {
            vgg,
            style_grams,
            weights,
        }
    }

    /// The content target: conv4_2 activations of `content` `[N, 3, H, W]`, detached.
    pub fn content_target(&self, content: &Tensor) -> Tensor {
        no_grad(|| self.vgg.extract(&rgb(content), &[CONTENT_LAYER]).remove(0))
    }

    /// The weighted losses of `images` `[N, 3 or 1, H, W]` in [0, 1] against `content_target`
    /// (from [`PerceptualLoss::content_target`] of images of the same size) and the style.
    pub fn losses(&self, images: &Tensor, content_target: &Tensor) -> Losses {
        let mut layers = vec![CONTENT_LAYER];
        layers.extend(STYLE_LAYERS);
        let mut features = self.vgg.extract(&rgb(images), &layers);
        let content = features.remove(0).mse(content_target);
        let mut style: Option<Tensor> = None;
        for (f, target) in features.iter().zip(&self.style_grams) {
            let g = gram(f);
            let term = g.mse(&target.expand(g.shape()));
            style = Some(match style {
                Some(s) => s.add(&term),
                None => term,
            });
        }
        let w = self.weights;
        Losses {
            content: content.mul_scalar(w.content),
            style: style.expect("style layers").mul_scalar(w.style),
            tv: total_variation(images).mul_scalar(w.tv),
        }
    }

    /// The losses without building a graph (for measuring).
    pub fn measure(&self, images: &Tensor, content_target: &Tensor) -> LossValues {
        no_grad(|| self.losses(images, content_target).values())
    }
}

/// `[N, 1, H, W]` luminance repeated to three channels; RGB as it is.
fn rgb(images: &Tensor) -> Tensor {
    match images.shape() {
        &[n, 1, h, w] => images.expand(&[n, 3, h, w]),
        _ => images.clone(),
    }
}
