//! Optimisation-based style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using
//! Convolutional Neural Networks", CVPR 2016): start from the content photo (or noise) and
//! move its pixels, on the GPU, to lower the weighted content, style and total-variation
//! losses, with Adam or L-BFGS.
//!
//! Coarse to fine: with N scales the image is first optimised at 1/2^(N−1) of the size, then
//! upsampled as the starting point of the next scale, up to the full size; each scale runs
//! `steps` steps. With `preserve_colors` only the luminance is transferred (the style's
//! luminance matched to the content's mean and deviation) and the content's chroma is put
//! back at the end (Gatys et al., "Preserving Color in Neural Artistic Style Transfer").

use std::cell::Cell;

use atelier_nn::{Adam, AdamConfig, Optimizer};
use atelier_tensor::{Device, Tensor, no_grad};
use image::{Rgb, Rgb32FImage};

use crate::color;
use crate::error::{Result, StyleError};
use crate::image_io::{fit_long_side, image_to_tensor, resize, tensor_to_image};
use crate::lbfgs::{Lbfgs, LbfgsConfig};
use crate::loss::{LossValues, LossWeights, Losses, PerceptualLoss};
use crate::vgg::Vgg19;

/// VGG-19 down to relu5_1 pools four times: smaller sides leave nothing to pool.
pub const MIN_SIDE: u32 = 16;

/// Where the optimisation starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    Content,
    /// Uniform noise in [0, 1] (seeded).
    Random,
}

impl Init {
    pub fn name(self) -> &'static str {
        match self {
            Init::Content => "content",
            Init::Random => "random",
        }
    }

    pub fn from_name(name: &str) -> Option<Init> {
        [Init::Content, Init::Random]
            .into_iter()
            .find(|i| i.name() == name)
    }
}

/// How the pixels are optimised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelOptimizer {
    /// Adam, pixels clamped to [0, 1] after every step.
    Adam,
    /// L-BFGS with a backtracking line search; one step is one iteration.
    Lbfgs,
}

impl PixelOptimizer {
    pub fn name(self) -> &'static str {
        match self {
            PixelOptimizer::Adam => "adam",
            PixelOptimizer::Lbfgs => "lbfgs",
        }
    }

    pub fn from_name(name: &str) -> Option<PixelOptimizer> {
        [PixelOptimizer::Adam, PixelOptimizer::Lbfgs]
            .into_iter()
            .find(|o| o.name() == name)
    }

    /// Adam's step size in pixel units (pixels lie in [0, 1]); L-BFGS's first trial step.
    pub fn default_lr(self) -> f32 {
        match self {
            PixelOptimizer::Adam => 0.02,
            PixelOptimizer::Lbfgs => 1.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TransferConfig {
    /// The output's longer side, in pixels.
    pub size: u32,
    /// Optimisation steps at each scale.
    pub steps: usize,
    pub weights: LossWeights,
    pub init: Init,
    pub optimizer: PixelOptimizer,
    pub lr: f32,
    pub preserve_colors: bool,
    /// Coarse-to-fine levels (1: the full size only).
    pub scales: usize,
    /// Seeds the random initial image.
    pub seed: u64,
    /// Read the losses back every this many steps (and at each scale's last step).
    pub log_every: usize,
    /// Hand a picture of the current image to the progress callback every this many steps.
    pub frames_every: Option<usize>,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            size: 512,
            steps: 300,
            weights: LossWeights {
                content: 1.0,
                style: 1e5,
                tv: 1.0,
            },
            init: Init::Content,
            optimizer: PixelOptimizer::Adam,
            lr: PixelOptimizer::Adam.default_lr(),
            preserve_colors: false,
            scales: 1,
            seed: 0,
            log_every: 10,
            frames_every: None,
        }
    }
}

/// What the progress callback sees after each step.
pub struct Progress<'a> {
    /// 0-based scale, of `scales`.
    pub scale: usize,
    pub scales: usize,
    pub width: u32,
    pub height: u32,
    /// 1-based step within the scale, of `steps`.
    pub step: usize,
    pub steps: usize,
    /// The weighted losses at this step, when they were read back.
    pub losses: Option<LossValues>,
    /// The current image, every `frames_every` steps.
    pub frame: Option<&'a Rgb32FImage>,
}

/// The result of a transfer.
pub struct Transfer {
    pub image: Rgb32FImage,
    /// The weighted losses at the last step.
    pub losses: LossValues,
    /// Steps taken over all scales (L-BFGS may stop a scale early when it converges).
    pub steps: usize,
}

/// The long side at each scale, coarsest first.
pub fn scale_sizes(size: u32, scales: usize) -> Vec<u32> {
    (0..scales)
        .map(|i| size >> (scales - 1 - i).min(31))
        .collect()
}

/// An error unless a `w`×`h` image is large enough for VGG-19 down to relu5_1.
pub fn check_side(what: &str, w: u32, h: u32, hint: &str) -> Result<()> {
    if w.min(h) < MIN_SIDE {
        return Err(StyleError::Invalid(format!(
            "the {what} would be {w}×{h} pixels; VGG-19 needs at least {MIN_SIDE} a side: {hint}"
        )));
    }
    Ok(())
}

/// Checks the settings against the images before any work is done.
pub fn check_config(
    config: &TransferConfig,
    content: &Rgb32FImage,
    style: &Rgb32FImage,
) -> Result<()> {
    if config.scales == 0 || config.steps == 0 || config.log_every == 0 {
        return Err(StyleError::Invalid(
            "steps, scales and log interval must be at least 1".into(),
        ));
    }
    if config.frames_every == Some(0) {
        return Err(StyleError::Invalid(
            "frames-every must be at least 1".into(),
        ));
    }
    let coarsest = scale_sizes(config.size, config.scales)[0];
    let hint = "use a larger size or fewer scales";
    for (what, img) in [("content image", content), ("style image", style)] {
        let (w, h) = fit_long_side(img.width(), img.height(), coarsest);
        check_side(&format!("{what} at the coarsest scale"), w, h, hint)?;
    }
    Ok(())
}

/// Transfers `style` onto `content` with `vgg`'s features (built at least to relu5_1).
pub fn transfer(
    vgg: &Vgg19,
    content: &Rgb32FImage,
    style: &Rgb32FImage,
    config: &TransferConfig,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Transfer> {
    check_config(config, content, style)?;
    let device = vgg.device();
    let sizes = scale_sizes(config.size, config.scales);
    let mut current: Option<Rgb32FImage> = None;
    let mut losses = LossValues::default();
    let mut total_steps = 0;
    for (scale, &long_side) in sizes.iter().enumerate() {
        let (w, h) = fit_long_side(content.width(), content.height(), long_side);
        let content_s = resize(content, w, h);
        let (sw, sh) = fit_long_side(style.width(), style.height(), long_side);
        let style_s = resize(style, sw, sh);
        let (content_t, style_t) = if config.preserve_colors {
            let y = color::luminance(&content_s);
            let style_y = color::match_mean_std(&color::luminance(&style_s), &y);
            (
                plane_tensor(&y, w, h, device),
                plane_tensor(&style_y, sw, sh, device),
            )
        } else {
            (
                image_to_tensor(&content_s, device),
                image_to_tensor(&style_s, device),
            )
        };
        let loss = PerceptualLoss::new(vgg, &style_t, config.weights);
        let target = loss.content_target(&content_t);
        let start = match (&current, config.init) {
            (Some(previous), _) => to_pixels(&resize(previous, w, h), config, device),
            (None, Init::Content) => content_t.deep_clone(),
            (None, Init::Random) => {
                Tensor::rand_uniform(content_t.shape(), 0.0, 1.0, config.seed, device)
            }
        };
        let x = start.requires_grad_(true);
        let picture = |x: &Tensor| to_picture(x, config.preserve_colors, &content_s);
        let mut report = |step: usize, values: Option<LossValues>, x: &Tensor| {
            let frame = config
                .frames_every
                .filter(|&k| step.is_multiple_of(k))
                .map(|_| picture(x));
            on_progress(&Progress {
                scale,
                scales: sizes.len(),
                width: w,
                height: h,
                step,
                steps: config.steps,
                losses: values,
                frame: frame.as_ref(),
            });
        };
        let (last, steps) = match config.optimizer {
            PixelOptimizer::Adam => run_adam(&loss, &target, &x, config, &mut report),
            PixelOptimizer::Lbfgs => run_lbfgs(&loss, &target, &x, config, &mut report),
        };
        losses = last;
        total_steps += steps;
        current = Some(picture(&x));
    }
    let image = current.expect("at least one scale");
    Ok(Transfer {
        image,
        losses,
        steps: total_steps,
    })
}

/// Adam over the pixels of `x` at learning rate `lr` (the transfer's optimiser).
pub fn pixel_adam(x: &Tensor, lr: f32) -> Adam {
    Adam::new(
        vec![x.clone()],
        AdamConfig {
            lr: lr as f64,
            ..AdamConfig::default()
        },
    )
}

/// One step of the transfer with Adam: the losses of `x` against `target` and the style, their
/// gradient, the update, the clamp to [0, 1]. Returns the losses, not read back (the benchmark
/// suite times exactly this step: `style.gatys_step`).
pub fn adam_step(loss: &PerceptualLoss, target: &Tensor, x: &Tensor, adam: &mut Adam) -> Losses {
    adam.zero_grad();
    let losses = loss.losses(x, target);
    losses.total().backward();
    adam.step();
    no_grad(|| x.assign(&x.clamp01()));
    losses
}

fn run_adam(
    loss: &PerceptualLoss,
    target: &Tensor,
    x: &Tensor,
    config: &TransferConfig,
    report: &mut dyn FnMut(usize, Option<LossValues>, &Tensor),
) -> (LossValues, usize) {
    let mut adam = pixel_adam(x, config.lr);
    let mut last = LossValues::default();
    for step in 1..=config.steps {
        let losses = adam_step(loss, target, x, &mut adam);
        let read = step.is_multiple_of(config.log_every) || step == config.steps;
        let values = read.then(|| losses.values());
        if let Some(v) = values {
            last = v;
        }
        report(step, values, x);
    }
    (last, config.steps)
}

fn run_lbfgs(
    loss: &PerceptualLoss,
    target: &Tensor,
    x: &Tensor,
    config: &TransferConfig,
    report: &mut dyn FnMut(usize, Option<LossValues>, &Tensor),
) -> (LossValues, usize) {
    let mut lbfgs = Lbfgs::new(
        x.clone(),
        LbfgsConfig {
            lr: config.lr,
            ..LbfgsConfig::default()
        },
    );
    // the losses at the last evaluation the line search accepted are the current ones
    let last = Cell::new(LossValues::default());
    let mut closure = || {
        let losses = loss.losses(x, target);
        losses.total().backward();
        let v = losses.values();
        last.set(v);
        v.total()
    };
    for step in 1..=config.steps {
        let result = lbfgs.step(&mut closure);
        report(step, Some(last.get()), x);
        if result.converged {
            return (last.get(), step);
        }
    }
    (last.get(), config.steps)
}

/// A luminance plane as a `[1, 1, H, W]` tensor.
fn plane_tensor(y: &[f32], w: u32, h: u32, device: Device) -> Tensor {
    Tensor::from_vec(y.to_vec(), &[1, 1, h as usize, w as usize], device)
}

/// A host image as the pixels being optimised: RGB, or its luminance in colour-preserving mode.
fn to_pixels(img: &Rgb32FImage, config: &TransferConfig, device: Device) -> Tensor {
    if config.preserve_colors {
        plane_tensor(&color::luminance(img), img.width(), img.height(), device)
    } else {
        image_to_tensor(img, device)
    }
}

/// The optimised pixels as an RGB picture: as they are, or luminance with `content`'s chroma.
fn to_picture(x: &Tensor, preserve_colors: bool, content: &Rgb32FImage) -> Rgb32FImage {
    if !preserve_colors {
        return tensor_to_image(&x.detach().clamp01(), 0);
    }
    let y = no_grad(|| x.clamp01()).to_vec();
    let grey = color::grey_image(&y, content.width(), content.height());
    let mut rgb = color::combine_luminance(&grey, content);
    rgb.pixels_mut()
        .for_each(|p| *p = Rgb(p.0.map(|v| v.clamp(0.0, 1.0))));
    rgb
}

trait Clamp01 {
    fn clamp01(&self) -> Tensor;
}

impl Clamp01 for Tensor {
    /// min(max(x, 0), 1), as a new tensor.
    fn clamp01(&self) -> Tensor {
        let d = self.device();
        self.maximum(&Tensor::scalar(0.0, d))
            .minimum(&Tensor::scalar(1.0, d))
    }
}
