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
    let panel =
        |series: &[(String, Vec<(u64, f64)>)], title: &str| -> Option<anyhow::Result<RgbImage>> {
            if series.is_empty() {
                return None;
            }
            let chart = series.iter().fold(
                atelier_plot::LineChart::new(title).x_label("step"),
                |chart, (name, points)| {
                    let points = points
                        .iter()
                        .filter(|p| p.1.is_finite())
                        .map(|&(step, v)| (step as f64, v))
                        .collect();
                    chart.series(name.clone(), points)
                },
            );
            Some(
                chart
                    .to_image()
                    .map_err(|e| anyhow::anyhow!("{title}: {e}")),
            )
        };
    let panels: Vec<RgbImage> = [
        panel(&swd_series, "SWD x1e3 against the data (lower: closer)"),
        panel(&d_series, "D(x) on real, D(G(z)) on generated images"),
    ]
    .into_iter()
    .flatten()
    .collect::<anyhow::Result<_>>()?;
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
