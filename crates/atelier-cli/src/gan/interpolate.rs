//! `atelier gan interpolate`: frames along great circles between the latent points of seeds
//! (spherical interpolation, `atelier_gan::latent::slerp`): from one seed to another, through
//! more seeds with `--via`, back to the start with `--loop`; written as a strip (or grid) of
//! frames and, with `--gif`, as an animation. Generated in batches that fit the device; the
//! outputs are checked before any work.

use std::path::PathBuf;

use atelier_gan::sampling::generate_in_batches;
use atelier_gan::{latent, trainer::checkpoint::load_generator};
use image::imageops::FilterType;

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
    /// Seeds to pass through between --from and --to, in order (e.g. --via 3,4).
    #[arg(long, value_delimiter = ',')]
    via: Vec<u64>,
    /// Return from --to to --from, so the walk loops (for --gif).
    #[arg(long = "loop")]
    closed: bool,
    /// Frames per segment between two seeds (each segment's end is the next one's start).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..))]
    frames: u64,
    /// The strip's file; its extension picks the format (png, jpg, bmp, webp, gif, tif).
    #[arg(long, default_value = "interpolation.png")]
    out: PathBuf,
    /// Also write the walk as an animated GIF here.
    #[arg(long, value_name = "FILE.gif")]
    gif: Option<PathBuf>,
    /// Milliseconds per GIF frame.
    #[arg(long, default_value_t = 80)]
    gif_frame_ms: u32,
    /// Points from a normal truncated to [-T, T] (BigGAN's truncation trick, e.g. 0.7).
    #[arg(long, value_name = "T")]
    truncation: Option<f32>,
    /// Normalise with the frames' own statistics instead of BatchNorm's running statistics.
    #[arg(long)]
    batch_stats: bool,
    /// Use the trained G (netG) even when the checkpoint holds its moving average.
    #[arg(long)]
    no_ema: bool,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

/// The GIF's frames are scaled up (nearest neighbour) to at least this many pixels.
const GIF_MIN_SIZE: u32 = 256;

pub fn run(args: Args) -> anyhow::Result<()> {
    let frames = usize::try_from(args.frames)?;
    super::check_truncation(args.truncation)?;
    atelier_data::output_format(&args.out)?;
    if let Some(gif) = &args.gif {
        let is_gif = gif
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gif"));
        anyhow::ensure!(is_gif, "--gif {}: the file must end in .gif", gif.display());
    }
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device, !args.no_ema)?;
    let (g, m) = (&loaded.g, loaded.config);
    let mut seeds = vec![args.from];
    seeds.extend(&args.via);
    seeds.push(args.to);
    if args.closed {
        seeds.push(args.from);
    }
    let points: Vec<Vec<f32>> = seeds
        .iter()
        .map(|&s| latent::truncated(1, m.nz, s, args.truncation))
        .collect();
    // each segment's frames without its last (the next segment's first), then the very end
    let mut z: Vec<f32> = Vec::new();
    for pair in points.windows(2) {
        for i in 0..frames - 1 {
            z.extend(latent::slerp(
                &pair[0],
                &pair[1],
                i as f32 / (frames - 1) as f32,
            ));
        }
    }
    if !args.closed {
        z.extend(points.last().expect("two points at least"));
    }
    let count = z.len() / m.nz;
    let (c, s) = (m.channels, m.image_size);
    let cols = if count <= frames { count } else { frames - 1 };
    super::check_grid_output(&args.out, count, c, s, cols)?;
    let batch = m.generation_batch(device, super::sample::MAX_BATCH);
    let mut next = 0;
    let mut z_of = |k: usize| -> Vec<f32> {
        let part = z[next * m.nz..(next + k) * m.nz].to_vec();
        next += k;
        part
    };
    let bar = super::progress(count, batch, "generating");
    let images = generate_in_batches(
        g,
        count,
        batch,
        args.batch_stats,
        device,
        &mut z_of,
        &mut |done| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    let pad = super::GRID_PADDING;
    atelier_data::save_grid(&args.out, &images, count, c, s, s, cols, pad)?;
    if let Some(path) = &args.gif {
        let scale = (GIF_MIN_SIZE.div_ceil(s as u32)).max(1);
        let frame_len = c * s * s;
        let frames: Vec<image::RgbImage> = (0..count)
            .map(|i| {
                let one = atelier_data::grid_image(
                    &images[i * frame_len..(i + 1) * frame_len],
                    1,
                    c,
                    s,
                    s,
                    1,
                    0,
                );
                image::imageops::resize(
                    &one,
                    s as u32 * scale,
                    s as u32 * scale,
                    FilterType::Nearest,
                )
            })
            .collect();
        atelier_data::save_gif(path, &frames, args.gif_frame_ms)?;
        println!(
            "wrote {} ({count} frames, {} ms each)",
            path.display(),
            args.gif_frame_ms
        );
    }
    let route: Vec<String> = seeds.iter().map(u64::to_string).collect();
    println!(
        "wrote {} ({count} frames through seeds {}{}) from {}",
        args.out.display(),
        route.join(" → "),
        super::truncation_note(args.truncation),
        loaded.describe()
    );
    Ok(())
}
