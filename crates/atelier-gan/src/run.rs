//! What every trainer's run folder shares (the DCGAN's and CycleGAN's): the folder and its
//! config.json, the checkpoint a run resumes from, sample grid names, metrics.csv with rows
//! dropped past the checkpoint on resume, and the loss plot.
//!
//! ```text
//! RUN_DIR/config.json               what was asked and what it resolved to
//! RUN_DIR/samples/step_NNNNNN.png   sample grids
//! RUN_DIR/checkpoint.safetensors    models, optimizers, trainer state
//! RUN_DIR/metrics.csv               one row per logged step, the step first
//! RUN_DIR/losses.png                the losses against the step
//! ```
//!
//! Every file is written atomically (a temporary file, synced, then renamed).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use atelier_nn::{Checkpoint, CheckpointError};

pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
pub const CONFIG_FILE: &str = "config.json";
pub const METRICS_FILE: &str = "metrics.csv";
pub const LOSSES_FILE: &str = "losses.png";
pub const SAMPLES_DIR: &str = "samples";

/// What can go wrong with a run folder; each names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadRun { path: PathBuf, message: String },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Data(#[from] atelier_data::Error),
    #[error(transparent)]
    Fs(#[from] atelier_fs::FsError),
    #[error("drawing {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RunError {
    let path = path.into();
    move |source| RunError::Io { path, source }
}

pub fn checkpoint_path(dir: &Path) -> PathBuf {
    dir.join(CHECKPOINT_FILE)
}

/// RUN_DIR/samples/step_NNNNNN.png.
pub fn sample_path(dir: &Path, step: u64) -> PathBuf {
    dir.join(SAMPLES_DIR).join(format!("step_{step:06}.png"))
}

/// Creates RUN_DIR and RUN_DIR/samples (if needed) and writes config.json.
pub fn create(dir: &Path, config_json: &str) -> Result<(), RunError> {
    std::fs::create_dir_all(dir.join(SAMPLES_DIR)).map_err(io(dir))?;
    write_config(dir, config_json)
}

/// (Re)writes RUN_DIR/config.json.
pub fn write_config(dir: &Path, config_json: &str) -> Result<(), RunError> {
    atelier_fs::write_atomic(dir.join(CONFIG_FILE), config_json.as_bytes())?;
    Ok(())
}

/// The checkpoint of the run in `dir`, to resume from, and its path.
pub fn open_checkpoint(dir: &Path) -> Result<(Checkpoint, PathBuf), RunError> {
    let path = checkpoint_path(dir);
    if !path.exists() {
        return Err(RunError::BadRun {
            path: dir.to_path_buf(),
            message: format!("no {CHECKPOINT_FILE} to resume from"),
        });
    }
    Ok((Checkpoint::load(&path)?, path))
}

/// The run config a trainer stored in a checkpoint's `config` metadata; `command` names
/// the command that writes such checkpoints, for the error when there is none.
pub fn config_json<'a>(
    ck: &'a Checkpoint,
    path: &Path,
    command: &str,
) -> Result<&'a str, RunError> {
    ck.metadata("config").ok_or_else(|| RunError::BadRun {
        path: path.to_path_buf(),
        message: format!("checkpoint has no `config` metadata (not written by {command}?)"),
    })
}

/// RUN_DIR/metrics.csv: a header, then one line per logged step whose first field is the
/// step.
pub struct MetricsCsv {
    path: PathBuf,
}

impl MetricsCsv {
    /// A new file with just `header`.
    pub fn create(dir: &Path, header: &str) -> Result<MetricsCsv, RunError> {
        let path = dir.join(METRICS_FILE);
        atelier_fs::write_atomic(&path, format!("{header}\n").as_bytes())?;
        Ok(MetricsCsv { path })
    }

    /// The existing file's lines (after the header) of steps up to `step`, the file rewritten
    /// with only those: rows logged after the checkpoint a run resumes from will be logged
    /// again. A missing file starts empty.
    pub fn resume(
        dir: &Path,
        header: &str,
        step: u64,
    ) -> Result<(MetricsCsv, Vec<String>), RunError> {
        let path = dir.join(METRICS_FILE);
        let step_of = |line: &str| line.split(',').next().and_then(|s| s.parse::<u64>().ok());
        let lines: Vec<String> = match File::open(&path) {
            Ok(f) => BufReader::new(f)
                .lines()
                .map_while(|l| l.ok())
                .filter(|l| step_of(l).is_some_and(|s| s <= step))
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut text = format!("{header}\n");
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        atelier_fs::write_atomic(&path, text.as_bytes())?;
        Ok((MetricsCsv { path }, lines))
    }

    pub fn append(&self, line: &str) -> Result<(), RunError> {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        writeln!(f, "{line}").map_err(io(&self.path))
    }
}

/// RUN_DIR/losses.png: each series' (step, value) points against the step (non-finite values
/// left out).
pub fn plot_losses(
    dir: &Path,
    title: &str,
    series: &[(&str, Vec<(u64, f32)>)],
) -> Result<(), RunError> {
    if series.iter().all(|(_, points)| points.is_empty()) {
        return Ok(());
    }
    let chart = series.iter().fold(
        atelier_plot::LineChart::new(title).x_label("step"),
        |chart, (name, points)| {
            let points = points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|&(step, v)| (step as f64, f64::from(v)))
                .collect();
            chart.series(*name, points)
        },
    );
    let path = dir.join(LOSSES_FILE);
    chart.save_png(&path).map_err(|e| RunError::Plot {
        path,
        message: e.to_string(),
    })
}
