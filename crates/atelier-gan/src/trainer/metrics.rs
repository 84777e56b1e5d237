//! RUN_DIR/metrics.csv (one row per logged step) and RUN_DIR/losses.png (its loss curves).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::error::{Result, io};
use crate::step::StepValues;

/// `aug_p` and `r_t` are empty without DiffAugment / ADA.
pub const HEADER: &str = "step,epoch,loss_d,loss_g,d_x,d_g_z1,d_g_z2,images_per_s,aug_p,r_t";

/// One logged step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLine {
    pub step: u64,
    pub epoch: u64,
    pub values: StepValues,
    /// Images per second since the previous log line.
    pub images_per_s: f64,
}

impl LogLine {
    fn csv(&self) -> String {
        let v = &self.values;
        let opt = |x: f32| {
            if x.is_nan() {
                String::new()
            } else {
                x.to_string()
            }
        };
        format!(
            "{},{},{},{},{},{},{},{:.1},{},{}",
            self.step,
            self.epoch,
            v.loss_d,
            v.loss_g,
            v.d_x,
            v.d_g_z1,
            v.d_g_z2,
            self.images_per_s,
            opt(v.aug_p),
            opt(v.rt)
        )
    }

    /// A row of this header, or of the older one without `aug_p,r_t`.
    fn parse(line: &str) -> Option<LogLine> {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 8 && f.len() != 10 {
            return None;
        }
        let num = |i: usize| f[i].parse::<f32>().ok();
        let opt = |i: usize| match f.get(i) {
            Some(s) if !s.is_empty() => s.parse::<f32>().ok(),
            _ => Some(f32::NAN),
        };
        Some(LogLine {
            step: f[0].parse().ok()?,
            epoch: f[1].parse().ok()?,
            values: StepValues {
                loss_d: num(2)?,
                loss_g: num(3)?,
                d_x: num(4)?,
                d_g_z1: num(5)?,
                d_g_z2: num(6)?,
                aug_p: opt(8)?,
                rt: opt(9)?,
            },
            images_per_s: f[7].parse().ok()?,
        })
    }
}

/// The rows so far, kept in memory for the plot, and the CSV file they are appended to.
pub struct Metrics {
    path: PathBuf,
    pub rows: Vec<LogLine>,
}

impl Metrics {
    /// A new metrics.csv with just the header.
    pub fn create(dir: &Path) -> Result<Metrics> {
        let path = dir.join("metrics.csv");
        std::fs::write(&path, format!("{HEADER}\n")).map_err(io(&path))?;
        Ok(Metrics {
            path,
            rows: Vec::new(),
        })
    }

    /// The rows of RUN_DIR/metrics.csv (unreadable lines skipped; none if there is no file).
    pub fn read(dir: &Path) -> Vec<LogLine> {
        match File::open(dir.join("metrics.csv")) {
            Ok(f) => BufReader::new(f)
                .lines()
                .map_while(|l| l.ok())
                .filter_map(|l| LogLine::parse(&l))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The existing metrics.csv, keeping only rows up to `step` (rows logged after the
    /// checkpoint a run resumes from will be logged again).
    pub fn resume(dir: &Path, step: u64) -> Result<Metrics> {
        let path = dir.join("metrics.csv");
        let rows: Vec<LogLine> = Metrics::read(dir)
            .into_iter()
            .filter(|r| r.step <= step)
            .collect();
        let mut text = format!("{HEADER}\n");
        for r in &rows {
            text.push_str(&r.csv());
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        Ok(Metrics { path, rows })
    }

    pub fn push(&mut self, line: LogLine) -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        writeln!(f, "{}", line.csv()).map_err(io(&self.path))?;
        self.rows.push(line);
        Ok(())
    }

    /// Loss_D and Loss_G against the step, as RUN_DIR/losses.png. Rows land at
    /// `step / log_every` on a grid of `log_every` steps (points between are left out).
    pub fn plot(&self, dir: &Path, log_every: u64) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let every = log_every.max(1);
        let slot = |step: u64| (step as f64 / every as f64).round() as usize;
        let len = slot(self.rows.iter().map(|r| r.step).max().unwrap_or(0)) + 1;
        let (mut loss_d, mut loss_g) = (vec![f32::NAN; len], vec![f32::NAN; len]);
        for r in &self.rows {
            loss_d[slot(r.step)] = r.values.loss_d;
            loss_g[slot(r.step)] = r.values.loss_g;
        }
        let x_step = every as f32;
        let image = atelier_data::plot_image(
            &[("Loss_D", &loss_d), ("Loss_G", &loss_g)],
            "DCGAN losses",
            "step",
            x_step.max(1.0),
        );
        atelier_data::save_png(dir.join("losses.png"), &image)?;
        Ok(())
    }
}
