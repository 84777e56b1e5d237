//! `atelier cyclegan apply`: translates one image, or every image in a folder, with a trained
//! generator (G_A or G_B of an atelier CycleGAN checkpoint, or one ResnetGenerator state_dict
//! with the repository's keys). Images go through at their own size.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use atelier_cyclegan::apply::{Direction, check_translation_fits, load_generator, translate};
use atelier_data::folder::is_image_file_name;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct Args {
    /// An atelier CycleGAN checkpoint (RUN_DIR/checkpoint.safetensors), or a .safetensors
    /// file with one ResnetGenerator's state_dict (the repository's keys, model.1.weight, ...).
    #[arg(long)]
    model: PathBuf,
    /// AtoB (G_A) or BtoA (G_B); ignored for a single-generator file.
    #[arg(long, default_value = "AtoB", value_parser = Direction::from_name)]
    direction: Direction,
    /// An image, or a folder of images (png/jpg/jpeg/bmp/webp; each translated).
    #[arg(long)]
    input: PathBuf,
    /// Where results go: a .png file for one image, a folder for a folder (created if needed;
    /// NAME.png for each NAME.ext).
    #[arg(long)]
    out: PathBuf,
    /// Resize each image so its longer side is this many pixels first (default: as it is).
    #[arg(long, value_parser = clap::value_parser!(u32).range(atelier_cyclegan::apply::MIN_SIDE as i64..))]
    size: Option<u32>,
    /// cpu (the fast CPU device), reference (the plain CPU reference), gpu or auto (a hardware
    /// GPU, else the fast CPU device).
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if !a.model.is_file() {
        bail!("--model {}: no such file", a.model.display());
    }
    let jobs = jobs(&a.input, &a.out)?;
    let device = crate::gan::device(&a.device)?;
    let loaded = load_generator(&a.model, a.direction, device).context("--model")?;
    println!("{}", loaded.describe);
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template(
            "translating {bar:30} {pos}/{len} {elapsed_precise}<{eta_precise} {msg}",
        )
        .expect("template"),
    );
    let start = Instant::now();
    let (mut done, mut skipped) = (0, 0);
    for (input, output) in &jobs {
        bar.set_message(input.display().to_string());
        let image = match image::open(input) {
            Ok(image) => image,
            Err(e) if jobs.len() > 1 => {
                bar.println(format!("warning: skipping {}: {e}", input.display()));
                skipped += 1;
                bar.inc(1);
                continue;
            }
            Err(e) => bail!("--input {}: {e}", input.display()),
        };
        let image = match a.size {
            // the aspect ratio kept, the longer side at `size`; checked before resizing (a
            // huge --size would fill the host's memory with pixels first)
            Some(size) => {
                let (w, h) = (image.width() as u64, image.height() as u64);
                let long = w.max(h).max(1);
                let fit = |s: u64| (s * size as u64).div_ceil(long).max(1) as u32;
                check_translation_fits(&loaded.g, fit(w), fit(h), device)
                    .with_context(|| format!("{}", input.display()))?;
                image.resize(size, size, image::imageops::FilterType::CatmullRom)
            }
            None => image,
        };
        let result =
            translate(&loaded.g, &image, device).with_context(|| format!("{}", input.display()))?;
        result
            .save(output)
            .with_context(|| format!("writing {}", output.display()))?;
        done += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let skipped = match skipped {
        0 => String::new(),
        k => format!(" ({k} unreadable, skipped)"),
    };
    println!(
        "translated {done} image(s) in {secs:.2} s into {}{skipped}",
        a.out.display()
    );
    Ok(())
}

/// (input, output) pairs: one image to one .png, or a folder's images into a folder.
fn jobs(input: &Path, out: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    if input.is_file() {
        let png = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if !png {
            bail!("--out {}: for one image, give a .png file", out.display());
        }
        if let Some(dir) = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
        {
            bail!(
                "--out {}: folder {} does not exist",
                out.display(),
                dir.display()
            );
        }
        return Ok(vec![(input.to_path_buf(), out.to_path_buf())]);
    }
    if !input.is_dir() {
        bail!("--input {}: no such file or folder", input.display());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(input)
        .with_context(|| format!("--input {}", input.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_image_file_name(p))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "--input {}: the folder holds no image (png, jpg, bmp, webp, gif, tif)",
            input.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("--out {}", out.display()))?;
    Ok(files
        .into_iter()
        .map(|f| {
            let name = f.file_stem().unwrap_or_default().to_os_string();
            let target = out.join(name).with_extension("png");
            (f, target)
        })
        .collect())
}
