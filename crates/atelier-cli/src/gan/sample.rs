//! `atelier gan sample`: a grid of N images from a checkpoint's generator (its moving
//! average when it has one), for noise drawn from a seed (optionally truncated). Generated in
//! batches that fit the device, so any N the host can hold works; the output (format from its
//! extension) is checked before any work.

use std::path::PathBuf;

use atelier_gan::sampling::{NoiseStream, generate_in_batches};
use atelier_gan::trainer::checkpoint::load_generator;

use crate::usage;

/// Images generated in one batch at most (fewer when the device holds fewer).
pub const MAX_BATCH: usize = 256;

#[derive(clap::Args)]
pub struct Args {
    /// A checkpoint written by `atelier gan train` (RUN_DIR/checkpoint.safetensors), or a bare
    /// generator state_dict such as pytorch/examples' netG_epoch_24.pth (sizes inferred).
    #[arg(long)]
    checkpoint: PathBuf,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The grid's file; its extension picks the format (png, jpg, bmp, webp, gif, tif).
    #[arg(long, default_value = "samples.png")]
    out: PathBuf,
    /// Normalise with the batch's own statistics (as during training) instead of BatchNorm's
    /// running statistics.
    #[arg(long)]
    batch_stats: bool,
    /// Draw the noise from a normal truncated to [-T, T] (BigGAN's truncation trick, e.g.
    /// 0.7): more typical, less varied images.
    #[arg(long, value_name = "T")]
    truncation: Option<f32>,
    /// Use the trained G (netG) even when the checkpoint holds its moving average (netG_ema,
    /// the default when present).
    #[arg(long)]
    no_ema: bool,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let n = usize::try_from(args.n)?;
    if args.batch_stats && n < 2 {
        usage!("--batch-stats needs at least 2 images");
    }
    super::check_truncation(args.truncation)?;
    atelier_data::output_format(&args.out)?;
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device, !args.no_ema)?;
    let (g, m) = (&loaded.g, loaded.config);
    let cols = super::grid_columns(n);
    super::check_grid_output(&args.out, n, m.channels, m.image_size, cols)?;
    let batch = m.generation_batch(device, MAX_BATCH);
    if args.batch_stats && batch < n {
        eprintln!(
            "note: {n} images do not fit one batch on this device; --batch-stats normalises \
             each batch of {batch} with its own statistics"
        );
    }
    let bar = super::progress(n, batch, "generating");
    let mut noise = NoiseStream::new(m.nz, args.seed, args.truncation);
    let images = generate_in_batches(
        g,
        n,
        batch,
        args.batch_stats,
        device,
        &mut |k| noise.next(k),
        &mut |done| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    let s = m.image_size;
    atelier_data::save_grid(
        &args.out,
        &images,
        n,
        m.channels,
        s,
        s,
        cols,
        super::GRID_PADDING,
    )?;
    println!(
        "wrote {} ({n} images, seed {}{}) from {}",
        args.out.display(),
        args.seed,
        super::truncation_note(args.truncation),
        loaded.describe()
    );
    Ok(())
}
