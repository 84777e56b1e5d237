//! `atelier gan interpolate`: a strip of frames along the great circle between the latent
//! points of two seeds (spherical interpolation, `atelier_gan::latent::slerp`), generated in
//! batches that fit the device; the output is checked before any work.

use std::path::PathBuf;

use atelier_gan::sampling::generate_in_batches;
use atelier_gan::{latent, trainer::checkpoint::load_generator};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    checkpoint: PathBuf,
    /// Seed of the first frame's latent point.
    #[arg(long)]
    from: u64,
    /// Seed of the last frame's latent point.
    #[arg(long)]
    to: u64,
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..))]
    frames: u64,
    /// The strip's file; its extension picks the format (png, jpg, bmp, webp, gif, tif).
    #[arg(long, default_value = "interpolation.png")]
    out: PathBuf,
    /// Normalise with the frames' own statistics instead of BatchNorm's running statistics.
    #[arg(long)]
    batch_stats: bool,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let frames = usize::try_from(args.frames)?;
    atelier_data::output_format(&args.out)?;
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device)?;
    let (g, run) = (&loaded.g, &loaded.run);
    let m = run.model;
    super::check_grid_output(&args.out, frames, m.channels, m.image_size, frames)?;
    let batch = m.generation_batch(device, super::sample::MAX_BATCH);
    let (a, b) = (latent::point(m.nz, args.from), latent::point(m.nz, args.to));
    let mut next = 0;
    let mut z = |count: usize| -> Vec<f32> {
        let zs = (next..next + count)
            .flat_map(|i| latent::slerp(&a, &b, i as f32 / (frames - 1) as f32))
            .collect();
        next += count;
        zs
    };
    let bar = super::progress(frames, batch, "generating");
    let images = generate_in_batches(
        g,
        frames,
        batch,
        args.batch_stats,
        device,
        &mut z,
        &mut |done| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    let s = m.image_size;
    let pad = super::GRID_PADDING;
    atelier_data::save_grid(&args.out, &images, frames, m.channels, s, s, frames, pad)?;
    println!(
        "wrote {} ({frames} frames from seed {} to seed {})",
        args.out.display(),
        args.from,
        args.to
    );
    Ok(())
}
