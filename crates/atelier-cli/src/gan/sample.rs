//! `atelier gan sample`: a grid of N images from a checkpoint's generator, for noise drawn
//! from a seed.

use std::path::PathBuf;

use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};

#[derive(clap::Args)]
pub struct Args {
    /// A checkpoint written by `atelier gan train` (RUN_DIR/checkpoint.safetensors), or a bare
    /// generator state_dict such as pytorch/examples' netG_epoch_24.pth (sizes inferred).
    #[arg(long)]
    checkpoint: PathBuf,
    #[arg(long, default_value_t = 64)]
    n: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "samples.png")]
    out: PathBuf,
    /// Normalise with the batch's own statistics (as during training) instead of BatchNorm's
    /// running statistics.
    #[arg(long)]
    batch_stats: bool,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.n >= 1, "--n must be at least 1");
    anyhow::ensure!(
        !args.batch_stats || args.n >= 2,
        "--batch-stats needs at least 2 images"
    );
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device)?;
    let (g, m) = (&loaded.g, loaded.config);
    let z = latent::noise(args.n, m.nz, args.seed, device);
    let images = generate(g, &z, args.batch_stats).to_vec();
    let cols = super::grid_columns(args.n);
    atelier_data::save_grid(
        &args.out,
        &images,
        args.n,
        m.channels,
        m.image_size,
        m.image_size,
        cols,
        2,
    )?;
    println!(
        "wrote {} ({} images, seed {})",
        args.out.display(),
        args.n,
        args.seed
    );
    Ok(())
}
