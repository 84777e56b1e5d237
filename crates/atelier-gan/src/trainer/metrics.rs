//! RUN_DIR/metrics.csv (one row per logged step) and RUN_DIR/losses.png (its loss curves).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::error::{Result, TrainError, io};
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
        atelier_fs::write_atomic(&path, format!("{HEADER}\n").as_bytes())?;
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
        atelier_fs::write_atomic(&path, text.as_bytes())?;
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

    /// Loss_D and Loss_G against the step, as RUN_DIR/losses.png.
    pub fn plot(&self, dir: &Path) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let curve = |f: fn(&LogLine) -> f32| {
            self.rows
                .iter()
                .map(|r| (r.step as f64, f64::from(f(r))))
                .collect()
        };
        let path = dir.join("losses.png");
        atelier_plot::LineChart::new("DCGAN losses")
            .series("Loss_D", curve(|r| r.values.loss_d))
            .series("Loss_G", curve(|r| r.values.loss_g))
            .save_png(&path)
            .map_err(|e| TrainError::Plot {
                path,
                message: e.to_string(),
            })?;
        Ok(())
    }
}
