//! RUN_DIR/metrics.csv (one row per logged step) and RUN_DIR/losses.png (its loss curves).

use std::path::Path;

use super::error::Result;
use crate::run::{MetricsCsv, plot_losses};
use crate::step::StepValues;

pub const HEADER: &str = "step,epoch,loss_d,loss_g,d_x,d_g_z1,d_g_z2,images_per_s";

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
        format!(
            "{},{},{},{},{},{},{},{:.1}",
            self.step, self.epoch, v.loss_d, v.loss_g, v.d_x, v.d_g_z1, v.d_g_z2, self.images_per_s
        )
    }

    fn parse(line: &str) -> Option<LogLine> {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 8 {
            return None;
        }
        let num = |i: usize| f[i].parse::<f32>().ok();
        Some(LogLine {
            step: f[0].parse().ok()?,
            epoch: f[1].parse().ok()?,
            values: StepValues {
                loss_d: num(2)?,
                loss_g: num(3)?,
                d_x: num(4)?,
                d_g_z1: num(5)?,
                d_g_z2: num(6)?,
            },
            images_per_s: f[7].parse().ok()?,
        })
    }
}

/// The rows so far, kept in memory for the plot, and the CSV file they are appended to.
pub struct Metrics {
    csv: MetricsCsv,
    pub rows: Vec<LogLine>,
}

impl Metrics {
    /// A new metrics.csv with just the header.
    pub fn create(dir: &Path) -> Result<Metrics> {
        Ok(Metrics {
            csv: MetricsCsv::create(dir, HEADER)?,
            rows: Vec::new(),
        })
    }

    /// The existing metrics.csv, keeping only rows up to `step` (rows logged after the
    /// checkpoint a run resumes from will be logged again).
    pub fn resume(dir: &Path, step: u64) -> Result<Metrics> {
        let (csv, lines) = MetricsCsv::resume(dir, HEADER, step)?;
        let rows = lines.iter().filter_map(|l| LogLine::parse(l)).collect();
        Ok(Metrics { csv, rows })
    }

    pub fn push(&mut self, line: LogLine) -> Result<()> {
        self.csv.append(&line.csv())?;
        self.rows.push(line);
        Ok(())
    }

    /// Loss_D and Loss_G against the step, as RUN_DIR/losses.png.
    pub fn plot(&self, dir: &Path, log_every: u64) -> Result<()> {
        let series = |f: fn(&LogLine) -> f32| self.rows.iter().map(|r| (r.step, f(r))).collect();
        plot_losses(
            dir,
            "DCGAN losses",
            log_every,
            &[
                ("Loss_D", series(|r| r.values.loss_d)),
                ("Loss_G", series(|r| r.values.loss_g)),
            ],
        )?;
        Ok(())
    }
}
