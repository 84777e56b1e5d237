//! What a training run is asked to do ([`TrainConfig`], the CLI's flags) and what it resolved
//! to ([`RunConfig`], saved as RUN_DIR/config.json and in every checkpoint's metadata).

use serde::{Deserialize, Serialize};

use crate::model::DcganConfig;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// `builtin:NAME[:COUNT]`, `idx:PATH` or a folder (see `atelier_data::open_dataset`).
    pub data: String,
    pub image_size: usize,
    pub batch: usize,
    /// Steps in all; when absent, `epochs` passes over the data.
    pub steps: Option<u64>,
    pub epochs: Option<u64>,
    pub lr: f64,
    /// Seeds the weights, the data order, the noise and the builtin art.
    pub seed: u64,
    pub nz: usize,
    pub ngf: usize,
    pub ndf: usize,
    /// `auto`, `cpu` or `gpu`.
    pub device: String,
    /// Losses are read back (one read-back) every this many steps, and at checkpoints.
    pub log_every: u64,
    pub sample_every: u64,
    pub checkpoint_every: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: "builtin:mondrian".into(),
            image_size: 64,
            batch: 128,
            steps: None,
            epochs: Some(5),
            lr: 2e-4,
            seed: 0,
            nz: 100,
            ngf: 64,
            ndf: 64,
            device: "auto".into(),
            log_every: 50,
            sample_every: 500,
            checkpoint_every: 500,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.batch < 2 {
            return Err(format!(
                "batch size {} is too small: BatchNorm needs at least 2 images",
                self.batch
            ));
        }
        if self.log_every == 0 || self.sample_every == 0 || self.checkpoint_every == 0 {
            return Err(
                "--log-every, --sample-every and --checkpoint-every must be at least 1".into(),
            );
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!("learning rate {} must be positive", self.lr));
        }
        Ok(())
    }

    /// Total steps for a dataset with `batches_per_epoch` batches.
    pub fn total_steps(&self, batches_per_epoch: usize) -> u64 {
        match (self.steps, self.epochs) {
            (Some(s), _) => s,
            (None, Some(e)) => e * batches_per_epoch as u64,
            (None, None) => 5 * batches_per_epoch as u64,
        }
    }
}

/// RUN_DIR/config.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub train: TrainConfig,
    /// The networks' shape (channels come from the data).
    pub model: DcganConfig,
    /// The dataset, as it describes itself.
    pub dataset: String,
    pub batches_per_epoch: usize,
    pub total_steps: u64,
}

impl RunConfig {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("config serialises")
    }

    pub fn from_json(s: &str) -> Result<RunConfig, serde_json::Error> {
        serde_json::from_str(s)
    }
}
