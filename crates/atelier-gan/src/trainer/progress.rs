//! What a run shows of its progress beyond the loss log: the sample grids as an animated GIF
//! (RUN_DIR/progress.gif), the SWD against the data over the run (RUN_DIR/swd.csv and
//! swd.png), and `--mirror`'s random flips of the real batch.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use atelier_data::ImageSet;
use atelier_tensor::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::RunConfig;
use super::error::{Result, TrainError, io};
use crate::latent;
use crate::model::Generator;
use crate::step::generate;
use crate::swd::{self, Images, SwdConfig};

/// Flips each image of an NCHW batch left to right with probability 1/2, from `seed`.
pub fn mirror_at_random(data: &mut [f32], shape: &[usize], seed: u64) {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..n {
        if rng.random::<bool>() {
            for row in data[i * c * h * w..(i + 1) * c * h * w].chunks_mut(w) {
                row.reverse();
            }
        }
    }
}

/// Milliseconds each sample grid shows in progress.gif.
pub const PROGRESS_FRAME_MS: u32 = 250;

/// RUN_DIR/progress.gif from RUN_DIR/samples/step_*.png in step order (the last frame held
/// three times as long). Unreadable grids are skipped with a warning.
pub fn write_progress_gif(dir: &Path) -> Result<()> {
    let samples = dir.join("samples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&samples)
        .map_err(io(&samples))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("step_") && n.ends_with(".png"))
        })
        .collect();
    paths.sort();
    let mut frames = Vec::new();
    for p in &paths {
        match image::open(p) {
            Ok(img) => frames.push(img.into_rgb8()),
            Err(e) => eprintln!("atelier: progress.gif: skipping {}: {e}", p.display()),
        }
    }
    if frames.is_empty() {
        return Ok(());
    }
    // hold the last frame: repeat it
    let last = frames[frames.len() - 1].clone();
    frames.extend([last.clone(), last]);
    atelier_data::save_gif(dir.join("progress.gif"), &frames, PROGRESS_FRAME_MS)?;
    Ok(())
}

pub const SWD_HEADER: &str = "step,swd_g,swd_ema";

/// One row of swd.csv: SWD ×1e3 (average over the pyramid levels) of G and of its average.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SwdRow {
    pub step: u64,
    pub g: f64,
    /// NaN without `--ema`.
    pub ema: f64,
}

/// SWD between a fixed set of real images and as many generated from fixed noise (BatchNorm
/// in evaluation mode, as `atelier gan eval`), measured during the run.
pub struct SwdTracker {
    path: PathBuf,
    dir: PathBuf,
    real: Vec<f32>,
    n: usize,
    channels: usize,
    size: usize,
    noise: atelier_tensor::Tensor,
    seed: u64,
    pub rows: Vec<SwdRow>,
}

impl SwdTracker {
    /// Removes a swd.csv left in the folder (a new run starts its own).
    pub fn reset(dir: &Path) -> Result<()> {
        let path = dir.join("swd.csv");
        if path.exists() {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
        Ok(())
    }

    /// The tracker of a run at `step`, keeping swd.csv's rows up to it.
    pub fn new(
        dir: &Path,
        set: &dyn ImageSet,
        run: &RunConfig,
        device: Device,
        step: u64,
    ) -> Result<SwdTracker> {
        let n = run.train.swd_images.min(set.len());
        let real: Vec<f32> = (0..n).flat_map(|i| set.get(i)).collect();
        let path = dir.join("swd.csv");
        let rows: Vec<SwdRow> = read_swd(dir)
            .into_iter()
            .filter(|r| r.step <= step)
            .collect();
        let tracker = SwdTracker {
            path,
            dir: dir.to_path_buf(),
            real,
            n,
            channels: run.model.channels,
            size: run.model.image_size,
            noise: latent::noise(
                n,
                run.model.nz,
                latent::derive_seed(run.train.seed, u64::MAX - 1),
                device,
            ),
            seed: run.train.seed,
            rows,
        };
        tracker.rewrite()?;
        Ok(tracker)
    }

    fn rewrite(&self) -> Result<()> {
        let mut text = format!("{SWD_HEADER}\n");
        for r in &self.rows {
            text.push_str(&row_csv(r));
            text.push('\n');
        }
        std::fs::write(&self.path, text).map_err(io(&self.path))
    }

    fn swd_of(&self, g: &Generator) -> f64 {
        let fake = generate(g, &self.noise, false).to_vec();
        let images = |data| Images {
            data,
            n: self.n,
            channels: self.channels,
            size: self.size,
        };
        let cfg = SwdConfig::default();
        let levels = swd::sliced_wasserstein(images(&self.real), images(&fake), &cfg, self.seed);
        swd::average(&levels)
    }

    /// Measures G (and its average) at `step`, appends the row and redraws swd.png.
    pub fn measure(&mut self, step: u64, g: &Generator, ema: Option<&Generator>) -> Result<()> {
        if self.rows.last().is_some_and(|r| r.step == step) {
            return Ok(());
        }
        let row = SwdRow {
            step,
            g: self.swd_of(g),
            ema: ema.map_or(f64::NAN, |e| self.swd_of(e)),
        };
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        writeln!(f, "{}", row_csv(&row)).map_err(io(&self.path))?;
        self.rows.push(row);
        self.plot()
    }

    /// swd.png: SWD against the step.
    fn plot(&self) -> Result<()> {
        if self.rows.len() < 2 {
            return Ok(());
        }
        let curve = |f: fn(&SwdRow) -> f64| -> Vec<(f64, f64)> {
            self.rows
                .iter()
                .map(|r| (r.step as f64, f(r)))
                .filter(|p| p.1.is_finite())
                .collect()
        };
        let mut chart = atelier_plot::LineChart::new("SWD x1e3 against the data")
            .x_label("step")
            .series("SWD of G", curve(|r| r.g));
        let ema = curve(|r| r.ema);
        if !ema.is_empty() {
            chart = chart.series("SWD of G's average", ema);
        }
        let path = self.dir.join("swd.png");
        chart.save_png(&path).map_err(|e| TrainError::Plot {
            path,
            message: e.to_string(),
        })?;
        Ok(())
    }
}

/// The rows of RUN_DIR/swd.csv (none if there is no file).
pub fn read_swd(dir: &Path) -> Vec<SwdRow> {
    match File::open(dir.join("swd.csv")) {
        Ok(f) => BufReader::new(f)
            .lines()
            .map_while(|l| l.ok())
            .filter_map(|l| parse_row(&l))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn row_csv(r: &SwdRow) -> String {
    let ema = if r.ema.is_nan() {
        String::new()
    } else {
        format!("{:.3}", r.ema)
    };
    format!("{},{:.3},{ema}", r.step, r.g)
}

fn parse_row(line: &str) -> Option<SwdRow> {
    let f: Vec<&str> = line.split(',').collect();
    if f.len() != 3 {
        return None;
    }
    Some(SwdRow {
        step: f[0].parse().ok()?,
        g: f[1].parse().ok()?,
        ema: if f[2].is_empty() {
            f64::NAN
        } else {
            f[2].parse().ok()?
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirroring_flips_whole_images_and_is_fixed_by_the_seed() {
        let (n, c, h, w) = (16, 2, 2, 3);
        let original: Vec<f32> = (0..n * c * h * w).map(|i| i as f32).collect();
        let mut data = original.clone();
        mirror_at_random(&mut data, &[n, c, h, w], 5);
        let mut flipped = 0;
        for i in 0..n {
            let img = &data[i * c * h * w..(i + 1) * c * h * w];
            let orig = &original[i * c * h * w..(i + 1) * c * h * w];
            if img != orig {
                flipped += 1;
                for (row, orow) in img.chunks(w).zip(orig.chunks(w)) {
                    let rev: Vec<f32> = orow.iter().rev().copied().collect();
                    assert_eq!(row, &rev[..]);
                }
            }
        }
        assert!(flipped > 0 && flipped < n, "{flipped} of {n} flipped");
        let mut again = original.clone();
        mirror_at_random(&mut again, &[n, c, h, w], 5);
        assert_eq!(again, data);
    }

    #[test]
    fn swd_rows_round_trip_with_and_without_the_average() {
        for r in [
            SwdRow {
                step: 10,
                g: 12.5,
                ema: 9.25,
            },
            SwdRow {
                step: 20,
                g: 3.0,
                ema: f64::NAN,
            },
        ] {
            let back = parse_row(&row_csv(&r)).unwrap();
            assert_eq!(back.step, r.step);
            assert_eq!(back.g, r.g);
            assert!(back.ema == r.ema || (back.ema.is_nan() && r.ema.is_nan()));
        }
        assert!(parse_row(SWD_HEADER).is_none());
    }
}
