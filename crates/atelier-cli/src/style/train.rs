//! `atelier style train`: trains pytorch/examples' TransformerNet for one painting on a folder
//! of photos and saves it as safetensors with PyTorch's state_dict keys.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use atelier_data::{ImageFolder, ImageSet};
use atelier_style::TransformerNet;
use atelier_style::image_io::load_image;
use atelier_style::loss::LossWeights;
use atelier_style::train::{TrainConfig, TrainProgress, train};

use super::common;

#[derive(clap::Args)]
pub struct Args {
    /// The painting to learn.
    #[arg(long)]
    style: PathBuf,
    /// Training photos (PNG, JPEG, BMP, WebP), in this folder or below.
    #[arg(long)]
    content_dir: PathBuf,
    /// Where the trained network goes (.safetensors).
    #[arg(long)]
    out: PathBuf,
    /// Training crops are SIZE x SIZE.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..))]
    size: u32,
    /// The painting's longer side during training (default: --size).
    #[arg(long, value_parser = clap::value_parser!(u32).range(16..))]
    style_size: Option<u32>,
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    epochs: u32,
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
    #[arg(long, default_value_t = 1.0, value_parser = common::weight)]
    content_weight: f32,
    #[arg(long, default_value_t = 1e5, value_parser = common::weight)]
    style_weight: f32,
    #[arg(long, default_value_t = 0.0, value_parser = common::weight)]
    tv_weight: f32,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// VGG-19 weights: torchvision's vgg19-dcbb9e9d.pth as downloaded (or any .pth or
    /// safetensors file with its keys), or random[:SEED].
    #[arg(long, default_value = "random")]
    features: String,
    /// Read the losses back every N steps.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    log_every: u32,
    /// cpu, gpu or auto.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Seeds the network's initial weights and the order of the photos.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    common::check_input(&a.style, "--style")?;
    if !a.content_dir.is_dir() {
        bail!("--content-dir {}: no such folder", a.content_dir.display());
    }
    common::check_output(&a.out, "--out", "safetensors")?;
    let style = load_image(&a.style).context("--style")?;
    let folder =
        ImageFolder::open(&a.content_dir, a.size as usize, Some(3)).context("--content-dir")?;
    let photos = folder.len();
    if photos < a.batch as usize {
        bail!(
            "--batch {} is larger than the {photos} photos in --content-dir",
            a.batch
        );
    }
    let config = TrainConfig {
        style_size: a.style_size.unwrap_or(a.size),
        epochs: a.epochs as usize,
        batch: a.batch as usize,
        weights: LossWeights {
            content: a.content_weight,
            style: a.style_weight,
            tv: a.tv_weight,
        },
        lr: a.lr,
        seed: a.seed,
        log_every: a.log_every as usize,
    };
    let device = common::device(&a.device)?;
    let vgg = common::vgg(&a.features, device)?;
    let net = TransformerNet::new(a.seed, device);
    let steps = photos / config.batch * config.epochs;
    eprintln!(
        "train: {photos} photos, {} epochs of {} batches of {} ({steps} steps) at {}x{}",
        config.epochs,
        photos / config.batch,
        config.batch,
        a.size,
        a.size
    );
    let bar = common::progress_bar(steps, "train".into());
    let start = Instant::now();
    let last = train(
        &net,
        &vgg,
        &style,
        Arc::new(folder),
        &config,
        &mut |p: &TrainProgress| {
            bar.set_position(p.step as u64);
            if let Some(l) = &p.losses {
                bar.set_message(format!(
                    "epoch {}/{}  {}",
                    p.epoch,
                    p.epochs,
                    common::format_losses(l)
                ));
            }
        },
    )?;
    bar.finish();
    let metadata = HashMap::from([
        ("atelier.style".to_string(), a.style.display().to_string()),
        ("atelier.features".to_string(), vgg.features.describe()),
        (
            "atelier.training".to_string(),
            format!(
                "size {} style-size {} epochs {} batch {} photos {} weights content {} style {} tv {} lr {}",
                a.size,
                config.style_size,
                config.epochs,
                config.batch,
                photos,
                a.content_weight,
                a.style_weight,
                a.tv_weight,
                a.lr
            ),
        ),
    ]);
    net.save(&a.out, &metadata)?;
    println!(
        "wrote {}: {steps} steps in {:.1} s; last losses {}",
        a.out.display(),
        start.elapsed().as_secs_f64(),
        common::format_losses(&last)
    );
    if vgg.features.is_random() {
        eprintln!(
            "note: random VGG-19 features were used; results are weaker than with trained weights"
        );
    }
    Ok(())
}
