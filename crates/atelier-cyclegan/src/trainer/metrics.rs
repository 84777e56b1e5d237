//! RUN_DIR/metrics.csv (one row per logged step: the step, epoch, learning rate, the eight
//! losses, images/s) and RUN_DIR/losses.png (the eight losses against the step).

use std::path::Path;

use atelier_gan::run::{MetricsCsv, plot_losses};

use super::error::Result;
use crate::step::{LOSS_NAMES, Losses};

pub fn header() -> String {
    let losses: Vec<String> = LOSS_NAMES.iter().map(|n| format!("loss_{n}")).collect();
    format!("step,epoch,lr,{},images_per_s", losses.join(","))
}

/// One logged step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLine {
    /// Steps done.
    pub step: u64,
    /// The epoch (from 0) of the last step.
    pub epoch: u64,
    pub lr: f64,
    pub losses: Losses,
    /// Images (of each domain) per second since the previous log line.
    pub images_per_s: f64,
}

impl LogLine {
    fn csv(&self) -> String {
        let losses: Vec<String> = self.losses.values().iter().map(|v| v.to_string()).collect();
        format!(
            "{},{},{},{},{:.2}",
            self.step,
            self.epoch,
            self.lr,
            losses.join(","),
            self.images_per_s
        )
    }

    fn parse(line: &str) -> Option<LogLine> {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 12 {
            return None;
        }
        let mut losses = [0.0f32; 8];
        for (l, s) in losses.iter_mut().zip(&f[3..11]) {
            *l = s.parse().ok()?;
        }
        Some(LogLine {
            step: f[0].parse().ok()?,
            epoch: f[1].parse().ok()?,
            lr: f[2].parse().ok()?,
            losses: Losses::from_values(losses),
            images_per_s: f[11].parse().ok()?,
        })
    }
}

/// The rows so far, kept for the plot, and the CSV file they are appended to.
pub struct Metrics {
    csv: MetricsCsv,
    pub rows: Vec<LogLine>,
}

impl Metrics {
    pub fn create(dir: &Path) -> Result<Metrics> {
        Ok(Metrics {
            csv: MetricsCsv::create(dir, &header())?,
            rows: Vec::new(),
        })
    }

    /// The rows up to `step` of the existing file (later ones will be logged again).
    pub fn resume(dir: &Path, step: u64) -> Result<Metrics> {
        let (csv, lines) = MetricsCsv::resume(dir, &header(), step)?;
        let rows = lines.iter().filter_map(|l| LogLine::parse(l)).collect();
        Ok(Metrics { csv, rows })
    }

    pub fn push(&mut self, line: LogLine) -> Result<()> {
        self.csv.append(&line.csv())?;
        self.rows.push(line);
        Ok(())
    }

    pub fn plot(&self, dir: &Path) -> Result<()> {
        let series: Vec<(&str, Vec<(u64, f32)>)> = LOSS_NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let points = self
                    .rows
                    .iter()
                    .map(|r| (r.step, r.losses.values()[i]))
                    .collect();
                (*name, points)
            })
            .collect();
        plot_losses(dir, "CycleGAN losses", &series)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_back() {
        let line = LogLine {
            step: 12,
            epoch: 1,
            lr: 1.5e-4,
            losses: Losses::from_values([0.25, 1.0, 2.5, 1.25, 0.5, 0.75, 3.0, 1.5]),
            images_per_s: 2.5,
        };
        assert_eq!(LogLine::parse(&line.csv()), Some(line));
        assert_eq!(header().split(',').count(), 12);
    }
}
