//! `atelier style transfer`: Gatys et al.'s optimisation, with a progress bar per scale showing
//! the three weighted losses, optional frames, an optional side-by-side picture and scores.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use atelier_style::gatys::{self, Init, PixelOptimizer, Progress, TransferConfig};
use atelier_style::image_io::{fit_long_side, load_image, save_image, side_by_side};
use atelier_style::loss::LossWeights;
use atelier_style::score::score;
use atelier_style::vgg::{Features, largest_activation};
use indicatif::ProgressBar;

use super::common;

#[derive(clap::Args)]
pub struct Args {
    /// The photo whose content is kept.
    #[arg(long)]
    content: PathBuf,
    /// The painting whose style is transferred.
    #[arg(long)]
    style: PathBuf,
    /// Where the result goes; its extension picks the format (png, jpg, bmp, webp, gif, tif).
    #[arg(long)]
    out: PathBuf,
    /// The result's longer side, in pixels (the style image is scaled to the same).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..))]
    size: u32,
    /// Optimisation steps at each scale.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    steps: u32,
    #[arg(long, default_value_t = 1.0, value_parser = common::weight)]
    content_weight: f32,
    #[arg(long, default_value_t = 1e5, value_parser = common::weight)]
    style_weight: f32,
    /// Weight of the total-variation (smoothness) loss.
    #[arg(long, default_value_t = 1.0, value_parser = common::weight)]
    tv_weight: f32,
    /// Start from the content photo or from noise: content or random.
    #[arg(long, default_value = "content", value_parser = parse_init)]
    init: Init,
    /// adam or lbfgs (one L-BFGS step is one iteration with its line search).
    #[arg(long, default_value = "adam", value_parser = parse_optimizer)]
    optimizer: PixelOptimizer,
    /// Adam's step in pixel units, pixels in [0, 1] (default 0.02); L-BFGS's first trial
    /// step (default 1).
    #[arg(long, value_parser = crate::args::positive_f32)]
    lr: Option<f32>,
    /// Transfer the luminance only and keep the photo's colours.
    #[arg(long)]
    preserve_colors: bool,
    /// Coarse-to-fine levels: optimise at size/2^(N-1) first, then double up to --size.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    scales: u32,
    /// VGG-19 weights: torchvision's vgg19-dcbb9e9d.pth as downloaded (or any .pth or
    /// safetensors file with its keys), or random[:SEED] (weaker results).
    #[arg(long, default_value = "random", value_parser = common::features)]
    features: Features,
    /// Write the current image every K steps into OUT's name + "_frames/".
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    frames_every: Option<u32>,
    /// Read the losses back every N steps (each read waits for the GPU).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    log_every: u32,
    /// cpu (the fast CPU device), reference (the plain CPU reference), gpu or auto (a hardware
    /// GPU, else the fast CPU device).
    #[arg(long, default_value = "auto")]
    device: String,
    /// Seeds the random initial image.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write photo | painting | result side by side to this image file.
    #[arg(long)]
    side_by_side: Option<PathBuf>,
    /// Afterwards, print the unweighted style and content losses of the result beside the
    /// photo's and the painting's.
    #[arg(long)]
    score: bool,
}

fn parse_init(s: &str) -> Result<Init, String> {
    Init::from_name(s).ok_or_else(|| format!("{s:?} is not content or random"))
}

fn parse_optimizer(s: &str) -> Result<PixelOptimizer, String> {
    PixelOptimizer::from_name(s).ok_or_else(|| format!("{s:?} is not adam or lbfgs"))
}

pub fn run(a: Args) -> anyhow::Result<()> {
    common::check_input(&a.content, "--content")?;
    common::check_input(&a.style, "--style")?;
    common::check_image_output(&a.out, "--out", 1, 1)?;
    if let Some(p) = &a.side_by_side {
        common::check_image_output(p, "--side-by-side", 1, 1)?;
    }
    let content = load_image(&a.content).context("--content")?;
    let style = load_image(&a.style).context("--style")?;
    let (w, h) = fit_long_side(content.width(), content.height(), a.size);
    let (sw, sh) = fit_long_side(style.width(), style.height(), a.size);
    common::check_image_output(&a.out, "--out", w as u64, h as u64)?;
    if let Some(p) = &a.side_by_side {
        // three images side by side at the result's height
        common::check_image_output(p, "--side-by-side", 3 * (w as u64 + sw as u64), h as u64)?;
    }
    let config = TransferConfig {
        size: a.size,
        steps: a.steps as usize,
        weights: LossWeights {
            content: a.content_weight,
            style: a.style_weight,
            tv: a.tv_weight,
        },
        init: a.init,
        optimizer: a.optimizer,
        lr: a.lr.unwrap_or(a.optimizer.default_lr()),
        preserve_colors: a.preserve_colors,
        scales: a.scales as usize,
        seed: a.seed,
        log_every: a.log_every as usize,
        frames_every: a.frames_every.map(|k| k as usize),
    };
    gatys::check_config(&config, &content, &style)?;
    let device = common::device(&a.device)?;
    let (w, h, sw, sh) = (w as usize, h as usize, sw as usize, sh as usize);
    let (content_act, style_act) = (largest_activation(1, h, w), largest_activation(1, sh, sw));
    common::check_fits(
        &[content_act, style_act],
        atelier_style::memory::transfer_bytes(h * w, sh * sw, config.scales),
        &format!("style transfer at {w}×{h}"),
        device,
        "use a smaller --size",
    )?;
    let vgg = common::vgg(&a.features, device)?;
    let frames_dir = match config.frames_every {
        Some(_) => Some(frames_dir(&a.out)?),
        None => None,
    };
    eprintln!(
        "transfer: {} steps x {} scale(s) to {} px, {} starting from {}, weights content {} style {} tv {}",
        config.steps,
        config.scales,
        config.size,
        config.optimizer.name(),
        match config.init {
            Init::Content => "the photo",
            Init::Random => "noise",
        },
        a.content_weight,
        a.style_weight,
        a.tv_weight
    );

    let mut bar: Option<(usize, ProgressBar)> = None;
    let mut timer = StepTimer::default();
    let mut frame_error = None;
    let start = Instant::now();
    let result = gatys::transfer(&vgg, &content, &style, &config, &mut |p: &Progress| {
        if bar.as_ref().map(|(s, _)| *s) != Some(p.scale) {
            if let Some((_, old)) = bar.take() {
                old.finish();
            }
            let prefix = format!(
                "scale {}/{} {}x{}",
                p.scale + 1,
                p.scales,
                p.width,
                p.height
            );
            bar = Some((p.scale, common::progress_bar(p.steps, prefix)));
            timer = StepTimer::default();
        }
        let (_, b) = bar.as_ref().expect("bar");
        b.set_position(p.step as u64);
        if let Some(l) = &p.losses {
            b.set_message(common::format_losses(l));
            timer.record(p.step);
        }
        if let (Some(frame), Some(dir)) = (p.frame, &frames_dir) {
            let path = dir.join(format!("scale{}_step{:05}.png", p.scale + 1, p.step));
            if let Err(e) = save_image(frame, &path) {
                frame_error.get_or_insert(e);
            }
        }
    })?;
    if let Some((_, b)) = bar.take() {
        b.finish();
    }
    if let Some(e) = frame_error {
        return Err(e).context("writing a frame");
    }
    let elapsed = start.elapsed().as_secs_f64();
    save_image(&result.image, &a.out)?;
    let (w, h) = result.image.dimensions();
    println!(
        "wrote {} ({w}x{h}): {} steps in {elapsed:.1} s{}; last losses {}",
        a.out.display(),
        result.steps,
        timer
            .per_step()
            .map(|s| format!(" ({s:.3} s a step at {w}x{h})"))
            .unwrap_or_default(),
        common::format_losses(&result.losses)
    );
    if let Some(p) = &a.side_by_side {
        save_image(&side_by_side(&[&content, &style, &result.image], h, 4), p)?;
        println!("wrote {} (photo | painting | result)", p.display());
    }
    if a.score {
        let s = score(&vgg, &content, &style, &result.image);
        println!(
            "style loss    photo {:.3e}  result {:.3e}  ({:.3} of the photo's)",
            s.photo.style,
            s.result.style,
            s.style_ratio()
        );
        println!(
            "content loss  painting {:.3e}  result {:.3e}  ({:.3} of the painting's)",
            s.painting.content,
            s.result.content,
            s.content_ratio()
        );
    }
    if vgg.features.is_random() {
        eprintln!(
            "note: random VGG-19 features were used; results are weaker than with trained weights"
        );
    }
    Ok(())
}

/// `OUT`'s stem + `_frames`, created.
fn frames_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("out");
    let dir = out.with_file_name(format!("{stem}_frames"));
    std::fs::create_dir_all(&dir).map_err(|e| atelier_fs::FsError::io(&dir, e))?;
    atelier_fs::check_writable_dir(&dir)?;
    Ok(dir)
}

/// Seconds a step, from the times losses were read back (each read waits for the GPU, so
/// those are the moments the work is known to be done), within the last scale.
#[derive(Default)]
struct StepTimer {
    first: Option<(usize, Instant)>,
    last: Option<(usize, Instant)>,
}

impl StepTimer {
    fn record(&mut self, step: usize) {
        let now = (step, Instant::now());
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    fn per_step(&self) -> Option<f64> {
        let ((s0, t0), (s1, t1)) = (self.first?, self.last?);
        (s1 > s0).then(|| (t1 - t0).as_secs_f64() / (s1 - s0) as f64)
    }
}
