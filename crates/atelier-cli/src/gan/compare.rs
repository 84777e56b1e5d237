//! `atelier gan compare`: training runs side by side in one picture: SWD against the data over
//! the steps (runs trained with `--swd-every`; G's moving average too where there is one), and
//! D's mean outputs on real and generated images (D(x), D(G(z))) from their metrics.csv.

use std::path::{Path, PathBuf};

use anyhow::Context;
use atelier_gan::trainer::metrics::Metrics;
use atelier_gan::trainer::progress::read_swd;
use image::{GenericImage, Rgb, RgbImage};

#[derive(clap::Args)]
pub struct Args {
    /// Run folders to compare (two or more: --run A --run B).
    #[arg(long = "run", value_name = "RUN_DIR", required = true, num_args = 1)]
    runs: Vec<PathBuf>,
    /// A label per run, in order (default: the folder names).
    #[arg(long = "label", value_name = "TEXT")]
    labels: Vec<String>,
    #[arg(long, default_value = "compare.png")]
    out: PathBuf,
}

/// Values at `step / every` on a grid, NaN where nothing was logged.
fn on_grid(points: &[(u64, f64)], every: u64) -> Vec<f32> {
    let len = points
        .iter()
        .map(|p| p.0 / every)
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut v = vec![f32::NAN; len];
    for &(step, value) in points {
        if step.is_multiple_of(every) {
            v[(step / every) as usize] = value as f32;
        }
    }
    v
}

/// The largest step that divides every difference between consecutive steps.
fn grid_step(steps: &[u64]) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut s: Vec<u64> = steps.to_vec();
    s.sort_unstable();
    s.dedup();
    s.windows(2).fold(0, |g, w| gcd(g, w[1] - w[0])).max(1)
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(!args.runs.is_empty(), "give at least one --run");
    anyhow::ensure!(
        args.labels.is_empty() || args.labels.len() == args.runs.len(),
        "give one --label per --run ({} runs, {} labels)",
        args.runs.len(),
        args.labels.len()
    );
    let mut swd_series: Vec<(String, Vec<(u64, f64)>)> = Vec::new();
    let mut d_series: Vec<(String, Vec<(u64, f64)>)> = Vec::new();
    for (i, dir) in args.runs.iter().enumerate() {
        let label = args.labels.get(i).cloned().unwrap_or_else(|| name_of(dir));
        let logs = Metrics::read(dir);
        anyhow::ensure!(
            !logs.is_empty(),
            "{}: no metrics.csv rows (is it a run folder of atelier gan train?)",
            dir.display()
        );
        d_series.push((
            format!("{label}: D(x)"),
            logs.iter().map(|l| (l.step, l.values.d_x as f64)).collect(),
        ));
        d_series.push((
            format!("{label}: D(G(z))"),
            logs.iter()
                .map(|l| (l.step, l.values.d_g_z1 as f64))
                .collect(),
        ));
        let swd = read_swd(dir);
        if swd.is_empty() {
            eprintln!(
                "note: {} has no swd.csv (train with --swd-every N)",
                dir.display()
            );
            continue;
        }
        swd_series.push((
            format!("{label}: G"),
            swd.iter().map(|r| (r.step, r.g)).collect(),
        ));
        if swd.iter().any(|r| r.ema.is_finite()) {
            swd_series.push((
                format!("{label}: G's average"),
                swd.iter().map(|r| (r.step, r.ema)).collect(),
            ));
        }
    }
    let panel = |series: &[(String, Vec<(u64, f64)>)], title: &str| -> Option<RgbImage> {
        if series.is_empty() {
            return None;
        }
        let steps: Vec<u64> = series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.0))
            .collect();
        let every = grid_step(&steps);
        let grids: Vec<(String, Vec<f32>)> = series
            .iter()
            .map(|(n, p)| (n.clone(), on_grid(p, every)))
            .collect();
        let refs: Vec<(&str, &[f32])> = grids.iter().map(|(n, v)| (n.as_str(), &v[..])).collect();
        Some(atelier_data::plot_image(&refs, title, "step", every as f32))
    };
    let panels: Vec<RgbImage> = [
        panel(&swd_series, "SWD x1e3 against the data (lower: closer)"),
        panel(&d_series, "D(x) on real, D(G(z)) on generated images"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let width = panels.iter().map(|p| p.width()).max().unwrap_or(1);
    let height = panels.iter().map(|p| p.height()).sum();
    let mut out = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut y = 0;
    for p in &panels {
        out.copy_from(p, 0, y).context("laying out the panels")?;
        y += p.height();
    }
    atelier_data::save_png(&args.out, &out)?;
    println!("wrote {} ({} runs)", args.out.display(), args.runs.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_land_on_the_common_grid() {
        assert_eq!(grid_step(&[0, 100, 200, 250]), 50);
        let v = on_grid(&[(0, 1.0), (100, 2.0), (250, 3.0)], 50);
        assert_eq!(v.len(), 6);
        assert_eq!((v[0], v[2], v[5]), (1.0, 2.0, 3.0));
        assert!(v[1].is_nan());
    }
}
