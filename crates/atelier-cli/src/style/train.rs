//! `atelier style train`: trains pytorch/examples' TransformerNet for one painting on a folder
//! of photos and saves it as safetensors with PyTorch's state_dict keys. The output is checked
//! and locked before any work (an existing one is replaced only with --force); SIGINT,
//! SIGTERM and SIGHUP save the network trained so far and exit with 130, 143 and 129.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use atelier_data::{ImageFolder, ImageSet};
use atelier_fs::RunLock;
use atelier_runlog::RunPage;
use atelier_style::TransformerNet;
use atelier_style::image_io::{load_image, resize_long_side};
use atelier_style::loss::LossWeights;
use atelier_style::train::{TrainConfig, TrainProgress, train};
use atelier_style::vgg::{Features, largest_activation};

use super::common;
use super::runlog::StyleLog;
use crate::exit::Stopped;
use crate::signals::Stop;

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
    /// Replace --out when it exists.
    #[arg(long)]
    force: bool,
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
    #[arg(long, default_value_t = 1e-3, value_parser = crate::args::positive_f32)]
    lr: f32,
    /// VGG-19 weights: torchvision's vgg19-dcbb9e9d.pth as downloaded (or any .pth or
    /// safetensors file with its keys), or random[:SEED].
    #[arg(long, default_value = "random", value_parser = common::features)]
    features: Features,
    /// Read the losses back every N steps.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    log_every: u32,
    /// cpu (the fast CPU device), reference (the plain CPU reference), gpu or auto (a hardware
    /// GPU, else the fast CPU device).
    #[arg(long, default_value = "auto")]
    device: String,
    /// Seeds the network's initial weights and the order of the photos.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The run folder for TensorBoard events, samples, scalars.csv and the run page
    /// (default: runs/<the --out file's stem>).
    #[arg(long, value_name = "DIR")]
    run_dir: Option<PathBuf>,
    /// Write a sample grid (photos and their stylised versions) every N steps.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    sample_every: u32,
    /// Write no TensorBoard event files (the run page and scalars.csv are always written).
    #[arg(long)]
    no_tensorboard: bool,
    /// Arithmetic of the convolutions: f32 (the default) or f16 (f16 inputs with f32
    /// accumulation on the GPU's matrix units, conv2d's `coop_f16`, where the GPU offers
    /// cooperative matrices; weight gradients stay f32).
    #[arg(long, env = "ATELIER_PRECISION", default_value = "f32", value_parser = crate::args::precision)]
    precision: atelier_kernels::precision::Precision,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    crate::args::apply_precision(a.precision);
    common::check_input(&a.style, "--style")?;
    if !a.content_dir.is_dir() {
        bail!("--content-dir {}: no such folder", a.content_dir.display());
    }
    common::check_output(&a.out, "--out", "safetensors")?;
    // one writer per output: a lock beside it, held until the network is written
    let _lock = RunLock::acquire(&lock_path(&a.out)).context("--out")?;
    if a.out.exists() && !a.force {
        bail!(
            "--out {} exists; pass --force to replace it, or pick another name",
            a.out.display()
        );
    }
    let device = common::device(&a.device)?;
    if let Some(note) = crate::args::precision_note(a.precision, device) {
        eprintln!("note: {note}");
    }
    let (b, side) = (a.batch as usize, a.size as usize);
    let mut shapes = TransformerNet::largest_activations(b, side, side);
    shapes.push(largest_activation(b, side, side));
    // every op of a training step splits a tensor larger than one binding (convolutions,
    // normalisation, pooling, Gram matrices into blocks of planes; the losses' reductions,
    // slices and broadcasts into boxes): one batch's activations must fit a buffer, and a few
    // planes a binding
    common::check_fits(
        &shapes,
        atelier_style::memory::training_bytes(b, side),
        &format!("training at batch {b} of {side}×{side}"),
        device,
        "use a smaller --batch or --size",
    )?;
    let style = load_image(&a.style).context("--style")?;
    let folder: Arc<dyn ImageSet> = Arc::new(
        ImageFolder::open(&a.content_dir, a.size as usize, Some(3)).context("--content-dir")?,
    );
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
    let vgg = common::vgg(&a.features, device)?;
    let net = TransformerNet::new(a.seed, device);
    let stop =
        Stop::install("saving the network trained so far").context("installing signal handlers")?;
    let steps = photos / config.batch * config.epochs;
    eprintln!(
        "train: {photos} photos, {} epochs of {} batches of {} ({steps} steps) at {}x{}",
        config.epochs,
        photos / config.batch,
        config.batch,
        a.size,
        a.size
    );
    let run_dir = a.run_dir.clone().unwrap_or_else(|| {
        let stem = a
            .out
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        PathBuf::from("runs").join(stem)
    });
    let page = RunPage {
        title: format!("Style transfer network: {}", a.style.display()),
        facts: vec![
            (
                "model".into(),
                format!(
                    "TransformerNet (pytorch/examples fast_neural_style) -> {}",
                    a.out.display()
                ),
            ),
            (
                "photos".into(),
                format!(
                    "{photos} in {} at {}x{}",
                    a.content_dir.display(),
                    a.size,
                    a.size
                ),
            ),
            (
                "training".into(),
                format!(
                    "{} epochs, batch {}, Adam lr {}; weights content {} style {} tv {}",
                    config.epochs,
                    config.batch,
                    a.lr,
                    a.content_weight,
                    a.style_weight,
                    a.tv_weight
                ),
            ),
            ("features".into(), vgg.features.describe()),
        ],
        total_steps: Some(steps as u64),
        config: Some(format!("{config:#?}")),
        ..RunPage::default()
    };
    let mut log = StyleLog::create(
        &run_dir,
        !a.no_tensorboard,
        page,
        &resize_long_side(&style, config.style_size),
        &*folder,
        (config.batch, f64::from(a.lr)),
        device,
    )
    .with_context(|| format!("creating the run folder {}", run_dir.display()))?;
    eprintln!(
        "run folder {} (index.html, TensorBoard events)",
        run_dir.display()
    );
    let bar = common::progress_bar(steps, "train".into());
    let start = Instant::now();
    let trained = train(
        &net,
        &vgg,
        &style,
        folder.clone(),
        &config,
        stop.flag(),
        &mut |p: &TrainProgress| {
            bar.set_position(p.step as u64);
            if let Some(l) = &p.losses {
                log.losses(p.step, l);
            }
            if p.step.is_multiple_of(a.sample_every as usize) || p.step == p.steps {
                log.sample(p.step, &net);
            }
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
    let mut metadata = HashMap::from([
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
    if trained.stopped() {
        metadata.insert(
            "atelier.stopped".to_string(),
            format!("after step {} of {steps}", trained.steps_done),
        );
    }
    net.save(&a.out, &metadata)?;
    log.finish(steps);
    if let (true, Some((signal, code))) = (trained.stopped(), stop.received()) {
        println!(
            "stopped by {signal} after step {} of {steps}; wrote the network trained so far to \
             {} (exit code {code})",
            trained.steps_done,
            a.out.display()
        );
        return Err(Stopped { code }.into());
    }
    println!(
        "wrote {}: {steps} steps in {:.1} s; last losses {}",
        a.out.display(),
        start.elapsed().as_secs_f64(),
        common::format_losses(&trained.losses)
    );
    if vgg.features.is_random() {
        eprintln!(
            "note: random VGG-19 features were used; results are weaker than with trained weights"
        );
    }
    Ok(())
}

/// `dir/.NAME.lock` for an output `dir/NAME`.
fn lock_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy());
    out.with_file_name(format!(".{name}.lock"))
}
