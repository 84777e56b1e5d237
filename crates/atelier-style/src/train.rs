//! Training the feed-forward network (Johnson et al. 2016) as pytorch/examples'
//! fast_neural_style does: batches of square content photos go through the TransformerNet;
//! its outputs are scored with the same perceptual losses as the optimisation method (content
//! against the input batch, style against the style image's Gram matrices); Adam updates the
//! network. The photos come from any atelier-data [`ImageSet`] (an `ImageFolder` of photos,
//! typically), shuffled per epoch by its [`Batcher`], the incomplete last batch dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use atelier_data::{Batcher, ImageSet};
use atelier_nn::{Adam, AdamConfig, Optimizer};
use atelier_tensor::Tensor;
use image::Rgb32FImage;

use crate::error::{Result, StyleError};
use crate::gatys::check_side;
use crate::image_io::{image_to_tensor, resize_long_side};
use crate::loss::{LossValues, LossWeights, PerceptualLoss};
use crate::transformer_net::TransformerNet;
use crate::vgg::Vgg19;

#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// The style image's longer side during training.
    pub style_size: u32,
    pub epochs: usize,
    pub batch: usize,
    pub weights: LossWeights,
    pub lr: f32,
    /// Seeds the epoch order.
    pub seed: u64,
    /// Read the losses back every this many steps (and at the last).
    pub log_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            style_size: 256,
            epochs: 2,
            batch: 4,
            weights: LossWeights {
                content: 1.0,
                style: 1e5,
                tv: 0.0,
            },
            lr: 1e-3,
            seed: 42,
            log_every: 10,
        }
    }
}

/// What the progress callback sees after each step.
pub struct TrainProgress {
    /// 1-based epoch, of `epochs`.
    pub epoch: usize,
    pub epochs: usize,
    /// 1-based step over the whole run, of `steps`.
    pub step: usize,
    pub steps: usize,
    pub losses: Option<LossValues>,
}

/// How a training run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trained {
    /// The losses last read.
    pub losses: LossValues,
    /// Steps done, of `steps`.
    pub steps_done: usize,
    pub steps: usize,
}

impl Trained {
    /// Whether the run stopped early (the stop flag).
    pub fn stopped(&self) -> bool {
        self.steps_done < self.steps
    }
}

/// Trains `net` in place on `photos` (RGB, square, at the training size), until done or until
/// `stop` is set (checked after each step). A NaN or infinite loss, when read, or a
/// non-finite weight at the end, is an error ([`StyleError::Diverged`]).
pub fn train(
    net: &TransformerNet,
    vgg: &Vgg19,
    style: &Rgb32FImage,
    photos: Arc<dyn ImageSet>,
    config: &TrainConfig,
    stop: &AtomicBool,
    on_progress: &mut dyn FnMut(&TrainProgress),
) -> Result<Trained> {
    if config.epochs == 0 || config.log_every == 0 {
        return Err(StyleError::Invalid(
            "epochs and log interval must be at least 1".into(),
        ));
    }
    if photos.channels() != 3 {
        return Err(StyleError::Invalid(format!(
            "training needs RGB photos; {} is grey",
            photos.describe()
        )));
    }
    let hint = "use a larger size";
    let size = photos.size() as u32;
    check_side("training crop", size, size, hint)?;
    let style = resize_long_side(style, config.style_size);
    check_side("style image", style.width(), style.height(), hint)?;
    let device = vgg.device();
    let loss = PerceptualLoss::new(vgg, &image_to_tensor(&style, device), config.weights);
    let mut batches = Batcher::new(photos, config.batch, config.seed)?;
    let steps = batches.batches_per_epoch() * config.epochs;
    net.set_requires_grad(true);
    let mut adam = Adam::new(
        net.parameters(),
        AdamConfig {
            lr: config.lr as f64,
            ..AdamConfig::default()
        },
    );
    let mut last = LossValues::default();
    let mut done = 0;
    for step in 1..=steps {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let batch = batches.next_batch();
        // atelier-data hands out [-1, 1]; the losses and the network want [0, 1]
        let x = Tensor::from_vec(batch.data, &batch.shape, device)
            .add_scalar(1.0)
            .mul_scalar(0.5);
        let target = loss.content_target(&x);
        adam.zero_grad();
        let y = net.forward(&x.mul_scalar(255.0)).div_scalar(255.0);
        let losses = loss.losses(&y, &target);
        losses.total().backward();
        adam.step();
        let values =
            (step.is_multiple_of(config.log_every) || step == steps).then(|| losses.values());
        if let Some(v) = values {
            if ![v.content, v.style, v.tv].iter().all(|x| x.is_finite()) {
                net.set_requires_grad(false);
                return Err(StyleError::Diverged(format!(
                    "training diverged at step {step}: losses content {} style {} tv {}; \
                     try a lower --lr",
                    v.content, v.style, v.tv
                )));
            }
            last = v;
        }
        done = step;
        on_progress(&TrainProgress {
            epoch: batch.epoch + 1,
            epochs: config.epochs,
            step,
            steps,
            losses: values,
        });
    }
    net.set_requires_grad(false);
    if let Some(name) = atelier_nn::find_non_finite(&net.named_parameters()) {
        return Err(StyleError::Diverged(format!(
            "training diverged by step {done}: {name} holds a NaN or an infinity; try a lower --lr"
        )));
    }
    Ok(Trained {
        losses: last,
        steps_done: done,
        steps,
    })
}
