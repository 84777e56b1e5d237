//! `atelier gan sample`: a grid of N images from a checkpoint's generator (its moving
//! average when it has one), for noise drawn from a seed.

use std::path::PathBuf;

use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};

#[derive(clap::Args)]
pub struct Args {
    /// A checkpoint written by `atelier gan train` (RUN_DIR/checkpoint.safetensors).
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
    anyhow::ensure!(args.n >= 1, "--n must be at least 1");
    anyhow::ensure!(
        !args.batch_stats || args.n >= 2,
        "--batch-stats needs at least 2 images"
    );
    super::check_truncation(args.truncation)?;
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device, !args.no_ema)?;
    let (g, run) = (&loaded.g, &loaded.run);
    let m = run.model;
    let z = latent::noise_truncated(args.n, m.nz, args.seed, args.truncation, device);
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
        "wrote {} ({} images, seed {}{}) from {}",
        args.out.display(),
        args.n,
        args.seed,
        super::truncation_note(args.truncation),
        loaded.describe()
    );
    Ok(())
}
