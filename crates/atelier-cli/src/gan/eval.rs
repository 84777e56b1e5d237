//! `atelier gan eval`: the sliced Wasserstein distance (Karras et al. 2018) between N real
//! images and N generated ones at each Laplacian-pyramid level, beside the distance between
//! two sets of N real images, the floor that sampling noise alone gives.

use std::path::PathBuf;
use std::time::Instant;

use atelier_data::Batcher;
use atelier_gan::swd::{self, Images, SwdConfig};
use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};

#[derive(clap::Args)]
pub struct Args {
    /// A checkpoint written by `atelier gan train` (RUN_DIR/checkpoint.safetensors), or a bare
    /// generator state_dict such as pytorch/examples' netG_epoch_24.pth (sizes inferred).
    #[arg(long)]
    checkpoint: PathBuf,
    /// The real images (as for train; builtin sets are drawn from --seed).
    #[arg(long)]
    data: String,
    /// Images per set.
    #[arg(long, default_value_t = 2048)]
    n: usize,
    /// Seeds the real images' order, the noise and the SWD's random choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Random 7×7 neighbourhoods per image and level (Karras et al.: 128).
    #[arg(long, default_value_t = 128)]
    nhoods: usize,
    #[arg(long)]
    batch_stats: bool,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.n >= 2, "--n must be at least 2");
    let device = super::device(&args.device)?;
    let loaded = load_generator(&args.checkpoint, device)?;
    let (g, m) = (&loaded.g, loaded.config);
    let set = atelier_data::open_dataset(&args.data, m.image_size, args.seed)?;
    anyhow::ensure!(
        set.channels() == m.channels,
        "{} has {} channel(s), the generator makes {}",
        set.describe(),
        set.channels(),
        m.channels
    );
    let started = Instant::now();

    // two disjoint real sets when the data has 2N images, else two shuffles of it
    let order = Batcher::epoch_order(set.len(), args.seed, 0);
    let second = Batcher::epoch_order(set.len(), args.seed, 1);
    let disjoint = set.len() >= 2 * args.n;
    let pick = |ids: &mut dyn Iterator<Item = usize>| -> Vec<f32> {
        ids.flat_map(|i| set.get(i)).collect()
    };
    let real_a = pick(&mut order.iter().copied().cycle().take(args.n));
    let real_b = if disjoint {
        pick(&mut order.iter().copied().skip(args.n).take(args.n))
    } else {
        pick(&mut second.iter().copied().cycle().take(args.n))
    };

    let mut fake = Vec::with_capacity(real_a.len());
    let chunk = 64;
    for (k, start) in (0..args.n).step_by(chunk).enumerate() {
        let b = chunk.min(args.n - start).max(2);
        let seed = latent::derive_seed(args.seed, k as u64);
        let z = latent::noise(b, m.nz, seed, device);
        let images = generate(g, &z, args.batch_stats).to_vec();
        let need = (args.n - start).min(b) * set.image_len();
        fake.extend_from_slice(&images[..need]);
    }

    let (n, c, size) = (args.n, m.channels, m.image_size);
    let as_images = |data| Images {
        data,
        n,
        channels: c,
        size,
    };
    let cfg = SwdConfig {
        nhoods_per_image: args.nhoods,
        ..SwdConfig::default()
    };
    let vs_fake = swd::sliced_wasserstein(as_images(&real_a), as_images(&fake), &cfg, args.seed);
    let vs_real = swd::sliced_wasserstein(as_images(&real_a), as_images(&real_b), &cfg, args.seed);

    println!(
        "SWD ×1e3 (Karras et al. 2018), {} images per set; generator {}",
        args.n,
        loaded.origin()
    );
    if !disjoint {
        println!(
            "note: {} has fewer than {} images; the two real sets overlap",
            set.describe(),
            2 * args.n
        );
    }
    println!(
        "{:>10}  {:>14}  {:>14}",
        "level", "real vs fake", "real vs real"
    );
    for (f, r) in vs_fake.iter().zip(&vs_real) {
        let res = format!("{0}×{0}", f.resolution);
        println!("{res:>10}  {:>14.2}  {:>14.2}", f.swd, r.swd);
    }
    println!(
        "{:>10}  {:>14.2}  {:>14.2}",
        "average",
        swd::average(&vs_fake),
        swd::average(&vs_real)
    );
    println!("({:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}
