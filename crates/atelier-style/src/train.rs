//! Training the feed-forward network (Johnson et al. 2016) as pytorch/examples'
//! fast_neural_style does: batches of square content crops go through the TransformerNet; its
//! outputs are scored with the same perceptual losses as the optimisation method (content
//! against the input batch, style against the style image's Gram matrices); Adam updates the
//! network.

use atelier_nn::{Adam, AdamConfig, Optimizer};
use image::Rgb32FImage;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::content_folder::ContentFolder;
use crate::error::{Result, StyleError};
use crate::gatys::check_side;
use crate::image_io::{image_to_tensor, images_to_tensor, resize_long_side};
use crate::loss::{LossValues, LossWeights, PerceptualLoss};
use crate::transformer_net::TransformerNet;
use crate::vgg::Vgg19;

#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Training crops are `size`×`size`.
    pub size: u32,
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
            size: 256,
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

/// Optimisation steps for `images` images: one per batch, the last batch possibly smaller.
pub fn steps_per_epoch(images: usize, batch: usize) -> usize {
    images.div_ceil(batch)
}

/// Trains `net` in place; returns the losses last read.
pub fn train(
    net: &TransformerNet,
    vgg: &Vgg19,
    style: &Rgb32FImage,
    folder: &ContentFolder,
    config: &TrainConfig,
    on_progress: &mut dyn FnMut(&TrainProgress),
) -> Result<LossValues> {
    if config.epochs == 0 || config.batch == 0 || config.log_every == 0 {
        return Err(StyleError::Invalid(
            "epochs, batch and log interval must be at least 1".into(),
        ));
    }
    let hint = "use a larger size";
    check_side("training crop", config.size, config.size, hint)?;
    let style = resize_long_side(style, config.style_size);
    check_side("style image", style.width(), style.height(), hint)?;
    let device = vgg.device();
    let style_t = image_to_tensor(&style, device);
    let loss = PerceptualLoss::new(vgg, &style_t, config.weights);
    net.set_requires_grad(true);
    let mut adam = Adam::new(
        net.parameters(),
        AdamConfig {
            lr: config.lr as f64,
            ..AdamConfig::default()
        },
    );
    let per_epoch = steps_per_epoch(folder.len(), config.batch);
    let steps = per_epoch * config.epochs;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..folder.len()).collect();
    let mut last = LossValues::default();
    let mut step = 0;
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        for batch in order.chunks(config.batch) {
            step += 1;
            let images = batch
                .iter()
                .map(|&i| folder.square(i, config.size))
                .collect::<Result<Vec<_>>>()?;
            let x = images_to_tensor(&images, device);
            let target = loss.content_target(&x);
            adam.zero_grad();
            let y = net.forward(&x.mul_scalar(255.0)).div_scalar(255.0);
            let losses = loss.losses(&y, &target);
            losses.total().backward();
            adam.step();
            let read = step % config.log_every == 0 || step == steps;
            let values = read.then(|| losses.values());
            if let Some(v) = values {
                last = v;
            }
            on_progress(&TrainProgress {
                epoch,
                epochs: config.epochs,
                step,
                steps,
                losses: values,
            });
        }
    }
    net.set_requires_grad(false);
    Ok(last)
}
