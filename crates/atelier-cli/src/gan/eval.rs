//! `atelier gan eval`: the sliced Wasserstein distance (Karras et al. 2018) between N real
//! images and N generated ones at each Laplacian-pyramid level, beside the distance between
//! two sets of N real images, the floor that sampling noise alone gives. With pytorch-fid's
//! Inception weights (`--inception FILE`) also FID, KID (mean ± standard deviation over
//! subsets), precision and recall, on the same images as pytorch-fid would see them saved as
//! 8-bit PNGs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use atelier_data::Batcher;
use atelier_gan::inception::{FEATURES, InceptionV3, StateDict};
use atelier_gan::quality::{self, Features, KidConfig};
use atelier_gan::swd::{self, Images, SwdConfig};
use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};
use atelier_tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};

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
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(2..))]
    n: u64,
    /// Seeds the real images' order, the noise and the metrics' random choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Random 7×7 neighbourhoods per image and level (Karras et al.: 128).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    nhoods: u64,
    #[arg(long)]
    batch_stats: bool,
    /// Evaluate the trained G (netG) even when the checkpoint holds its moving average.
    #[arg(long)]
    no_ema: bool,
    /// Draw the noise from a normal truncated to [-T, T] (scores then measure the truncated
    /// distribution).
    #[arg(long, value_name = "T")]
    truncation: Option<f32>,
    /// pytorch-fid's Inception weights (pt_inception-2015-12-05-6726825d.pth as downloaded, or
    /// the same as safetensors) for FID, KID, precision and recall.
    #[arg(long, value_name = "FILE")]
    inception: Option<PathBuf>,
    /// KID: random subsets of each set (KID's code and torch-fidelity: 100).
    #[arg(long, default_value_t = 100)]
    kid_subsets: usize,
    /// KID: images per subset (at most --n; KID's code: 1000).
    #[arg(long, default_value_t = 1000)]
    kid_subset_size: usize,
    /// Precision and recall: the k of the k-nearest-neighbour balls (Kynkäänniemi et al.: 3).
    #[arg(long, default_value_t = 3)]
    pr_k: usize,
    /// Images per Inception batch.
    #[arg(long, default_value_t = 16)]
    inception_batch: usize,
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

/// Images generated in one batch (each batch's noise comes from its own seed, so results do
/// not depend on the device unless it holds fewer).
const CHUNK: usize = 64;

/// The Inception weights at `path`: pytorch-fid's .pth as downloaded, or safetensors.
fn load_inception_weights(path: &Path) -> anyhow::Result<StateDict> {
    Ok(StateDict::from_file(path)?)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let n = usize::try_from(args.n)?;
    let nhoods = usize::try_from(args.nhoods)?;
    anyhow::ensure!(
        args.inception_batch >= 1,
        "--inception-batch must be at least 1"
    );
    super::check_truncation(args.truncation)?;
    let device = super::device(&args.device)?;
    // load the Inception weights first: a bad file fails before any work
    let inception = match &args.inception {
        Some(path) => {
            let weights = load_inception_weights(path)?;
            Some(
                InceptionV3::load(&weights, device)
                    .with_context(|| format!("--inception {}", path.display()))?,
            )
        }
        None => None,
    };
    let loaded = load_generator(&args.checkpoint, device, !args.no_ema)?;
    let (g, m) = (&loaded.g, loaded.config);
    // three sets of images, and per set and level `nhoods` descriptors of 7×7×channels
    let image_bytes = (m.channels * m.image_size * m.image_size * 4) as u128;
    let levels = (m.image_size / 16).max(1).ilog2() as u128 + 1;
    let descriptors = nhoods as u128 * (49 * m.channels * 4) as u128 * levels * 2;
    let need = (n as u128) * (3 * image_bytes + descriptors);
    atelier_fs::check_host_memory(
        &format!("comparing {n} images per set with {nhoods} neighbourhoods each"),
        need.min(u64::MAX as u128) as u64,
    )?;
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
    let disjoint = set.len() >= 2 * n;
    let pick = |ids: &mut dyn Iterator<Item = usize>| -> Vec<f32> {
        ids.flat_map(|i| set.get(i)).collect()
    };
    let real_a = pick(&mut order.iter().copied().cycle().take(n));
    let real_b = if disjoint {
        pick(&mut order.iter().copied().skip(n).take(n))
    } else {
        pick(&mut second.iter().copied().cycle().take(n))
    };

    let mut fake = Vec::with_capacity(real_a.len());
    let chunk = CHUNK.min(m.generation_batch(device, CHUNK)).max(2);
    let bar = super::progress(n, chunk, "generating");
    for (k, start) in (0..n).step_by(chunk).enumerate() {
        let b = chunk.min(n - start).max(2);
        let seed = latent::derive_seed(args.seed, k as u64);
        let z = latent::noise_truncated(b, m.nz, seed, args.truncation, device);
        let images = generate(g, &z, args.batch_stats).to_vec();
        let need = (n - start).min(b) * set.image_len();
        fake.extend_from_slice(&images[..need]);
        bar.set_position((start + b).min(n) as u64);
    }
    bar.finish_and_clear();

    let (c, size) = (m.channels, m.image_size);
    let as_images = |data| Images {
        data,
        n,
        channels: c,
        size,
    };
    let cfg = SwdConfig {
        nhoods_per_image: nhoods,
        ..SwdConfig::default()
    };
    let vs_fake = swd::sliced_wasserstein(as_images(&real_a), as_images(&fake), &cfg, args.seed);
    let vs_real = swd::sliced_wasserstein(as_images(&real_a), as_images(&real_b), &cfg, args.seed);

    println!(
        "generator {}: {}{}",
        loaded.origin(),
        loaded.describe(),
        super::truncation_note(args.truncation)
    );
    println!("SWD ×1e3 (Karras et al. 2018), {} images per set", n);
    if !disjoint {
        println!(
            "note: {} has fewer than {} images; the two real sets overlap",
            set.describe(),
            2 * n
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

    match &inception {
        None => println!(
            "FID, KID, precision/recall: not computed: they need pytorch-fid's Inception weights \
             (pt_inception-2015-12-05-6726825d.pth), which atelier cannot download; give them \
             with --inception FILE"
        ),
        Some(net) => {
            let feats = |what: &str, data: &[f32]| {
                inception_features(net, what, data, n, c, size, args.inception_batch, device)
            };
            let fr = feats("real", &real_a);
            let ff = feats("generated", &fake);
            let fid = quality::fid(&fr, &ff);
            let fid_floor = quality::fid(&fr, &feats("real (second set)", &real_b));
            let kid = quality::kid(
                &fr,
                &ff,
                &KidConfig {
                    subsets: args.kid_subsets,
                    subset_size: args.kid_subset_size,
                    seed: args.seed,
                },
            );
            println!(
                "Inception (pytorch-fid's network, 299×299, 2048-d pool features), {n} images per set"
            );
            println!("FID        {fid:.2}   (real vs real: {fid_floor:.2})");
            println!(
                "KID ×1e3   {:.2} ± {:.2}   (mean ± std over {} subsets of {})",
                kid.mean * 1e3,
                kid.std * 1e3,
                kid.subsets,
                kid.subset_size
            );
            if n > args.pr_k {
                let (p, r) = quality::precision_recall(&fr, &ff, args.pr_k);
                println!("precision  {p:.3}   recall {r:.3}   (k = {})", args.pr_k);
            }
            if n < FEATURES {
                println!(
                    "note: FID from fewer than {FEATURES} images is biased upward (Chong & Forsyth \
                     2020); KID is unbiased and the better choice for a small collection"
                );
            }
        }
    }
    println!("({:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// Inception features of `n` NCHW images in [-1, 1], quantised to 8 bits as a PNG would hold
/// them and scaled to [0, 1] (grey images repeated to three channels), in batches.
#[allow(clippy::too_many_arguments)]
fn inception_features(
    net: &InceptionV3,
    what: &str,
    data: &[f32],
    n: usize,
    c: usize,
    size: usize,
    batch: usize,
    device: Device,
) -> Features {
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "Inception features of the {what} images {{bar:30}} {{pos}}/{{len}} [{{eta}}]"
        ))
        .expect("template"),
    );
    let image_len = c * size * size;
    let mut out = Vec::with_capacity(n * FEATURES);
    for start in (0..n).step_by(batch) {
        let b = batch.min(n - start);
        let mut rgb = Vec::with_capacity(b * 3 * size * size);
        for i in start..start + b {
            let img = &data[i * image_len..(i + 1) * image_len];
            for ch in 0..3 {
                let plane = &img[(ch % c) * size * size..(ch % c + 1) * size * size];
                rgb.extend(plane.iter().map(|&v| to_8bit_unit(v)));
            }
        }
        let x = Tensor::from_vec(rgb, &[b, 3, size, size], device);
        out.extend(net.features(&x).to_vec());
        bar.inc(b as u64);
    }
    bar.finish_and_clear();
    Features::new(out, n, FEATURES)
}

/// A value in [-1, 1] as an 8-bit PNG stores it, read back in [0, 1] (as pytorch-fid reads
/// image files).
fn to_8bit_unit(v: f32) -> f32 {
    atelier_data::pixels::unit_to_u8(v) as f32 / 255.0
}
