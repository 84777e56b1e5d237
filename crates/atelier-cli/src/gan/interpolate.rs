//! `atelier gan interpolate`: a strip of frames along the great circle between the latent
//! points of two seeds (spherical interpolation, `atelier_gan::latent::slerp`).

use std::path::PathBuf;

use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};
use atelier_tensor::Tensor;

#[derive(clap::Args)]
pub struct Args {
    /// A checkpoint written by `atelier gan train` (RUN_DIR/checkpoint.safetensors), or a bare
    /// generator state_dict such as pytorch/examples' netG_epoch_24.pth (sizes inferred).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Seed of the first frame's latent point.
    #[arg(long)]
    from: u64,
    /// Seed of the last frame's latent point.
    #[arg(long)]
    to: u64,
    #[arg(long, default_value_t = 16)]
    frames: usize,
    #[arg(long, default_value = "interpolation.png")]
    out: PathBuf,
    /// Normalise with the frames' own statistics instead of BatchNorm's running statistics.
    #[arg(long)]
    batch_stats: bool,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.frames >= 2, "--frames must be at least 2");
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device)?;
    let (g, m) = (&loaded.g, loaded.config);
    let (a, b) = (latent::point(m.nz, args.from), latent::point(m.nz, args.to));
    let z: Vec<f32> = (0..args.frames)
        .flat_map(|i| latent::slerp(&a, &b, i as f32 / (args.frames - 1) as f32))
        .collect();
    let z = Tensor::from_vec(z, &[args.frames, m.nz, 1, 1], device);
    let images = generate(g, &z, args.batch_stats).to_vec();
    atelier_data::save_grid(
        &args.out,
        &images,
        args.frames,
        m.channels,
        m.image_size,
        m.image_size,
        args.frames,
        2,
    )?;
    println!(
        "wrote {} ({} frames from seed {} to seed {})",
        args.out.display(),
        args.frames,
        args.from,
        args.to
    );
    Ok(())
}
