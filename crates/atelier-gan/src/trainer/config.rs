//! What a training run is asked to do ([`TrainConfig`], the CLI's flags) and what it resolved
//! to ([`RunConfig`], saved as RUN_DIR/config.json and in every checkpoint's metadata).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ada::AdaConfig;
use crate::augment::Policy;
use crate::model::DcganConfig;

/// Fields missing from an older run's config.json take their defaults (all new options off).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// DiffAugment's transforms (`color,translation,cutout`; empty: none).
    pub diffaug: String,
    /// ADA's adaptive augmentation probability (needs `diffaug`); None: p = 1.
    pub ada: Option<AdaConfig>,
    /// Random horizontal flips of the real images.
    pub mirror: bool,
    /// The generator's moving average, with this decay (e.g. 0.999).
    pub ema: Option<f64>,
    /// Start G and D (and G's average) from another run's checkpoint (fine-tuning).
    pub init_from: Option<PathBuf>,
    /// SWD against the data every this many steps (RUN_DIR/swd.csv, swd.png).
    pub swd_every: Option<u64>,
    /// Images per set for that SWD (at most the data set's size).
    pub swd_images: usize,
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
            diffaug: String::new(),
            ada: None,
            mirror: false,
            ema: None,
            init_from: None,
            swd_every: None,
            swd_images: 512,
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
        let policy = self.policy()?;
        if let Some(ada) = &self.ada {
            if policy.is_empty() {
                return Err("--ada adapts DiffAugment's probability: give --diffaug too".into());
            }
            ada.validate()?;
        }
        if let Some(b) = self.ema
            && !(b > 0.0 && b < 1.0)
        {
            return Err(format!("--ema {b} must be between 0 and 1 (e.g. 0.999)"));
        }
        if self.swd_every == Some(0) {
            return Err("--swd-every must be at least 1".into());
        }
        if self.swd_images < 2 {
            return Err("--swd-images must be at least 2".into());
        }
        Ok(())
    }

    /// The DiffAugment policy (`diffaug` parsed).
    pub fn policy(&self) -> Result<Policy, String> {
        self.diffaug.parse().map_err(|e| format!("--diffaug: {e}"))
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
