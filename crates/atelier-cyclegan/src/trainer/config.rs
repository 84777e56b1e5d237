//! What a CycleGAN run is asked to do ([`TrainConfig`], the CLI's flags, with the repository's
//! defaults) and what it resolved to ([`RunConfig`], saved as RUN_DIR/config.json and in every
//! checkpoint's metadata).

use serde::{Deserialize, Serialize};

use crate::loss::GanMode;
use crate::model::CycleGanConfig;
use crate::schedule::Schedule;
use crate::step::LossConfig;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Domain A: a folder, `builtin:NAME[:COUNT]` or `idx:PATH`.
    pub data_a: String,
    pub data_b: String,
    /// Images are loaded at this size (square)...
    pub load_size: usize,
    /// ...and randomly cropped to this one.
    pub crop_size: usize,
    /// Random left-right flips (the repository's default; `--no-flip` turns them off).
    pub flip: bool,
    pub batch: usize,
    /// Epochs at the starting learning rate.
    pub n_epochs: u64,
    /// Epochs of linear decay to zero after them.
    pub n_epochs_decay: u64,
    /// Stop after this many steps in all (default: every epoch).
    pub steps: Option<u64>,
    pub lr: f64,
    pub beta1: f64,
    /// Seeds the weights, the data order, crops and flips, the pools and the builtin art.
    pub seed: u64,
    pub ngf: usize,
    pub ndf: usize,
    /// Residual blocks (default: 9 from 256 px crops up, else 6).
    pub n_blocks: Option<usize>,
    pub n_layers_d: usize,
    pub lambda_a: f32,
    pub lambda_b: f32,
    pub lambda_identity: f32,
    pub gan_mode: GanMode,
    pub pool_size: usize,
    /// `auto`, `cpu` or `gpu`.
    pub device: String,
    /// Losses are read back (one read-back) every this many steps, and at checkpoints.
    pub log_every: u64,
    pub sample_every: u64,
    pub checkpoint_every: u64,
}

impl Default for TrainConfig {
    /// The repository's defaults (`train.py --model cycle_gan`).
    fn default() -> Self {
        let losses = LossConfig::default();
        TrainConfig {
            data_a: String::new(),
            data_b: String::new(),
            load_size: 286,
            crop_size: 256,
            flip: true,
            batch: 1,
            n_epochs: 100,
            n_epochs_decay: 100,
            steps: None,
            lr: 2e-4,
            beta1: 0.5,
            seed: 0,
            ngf: 64,
            ndf: 64,
            n_blocks: None,
            n_layers_d: 3,
            lambda_a: losses.lambda_a,
            lambda_b: losses.lambda_b,
            lambda_identity: losses.lambda_identity,
            gan_mode: losses.gan_mode,
            pool_size: losses.pool_size,
            device: "auto".into(),
            log_every: 100,
            sample_every: 1000,
            checkpoint_every: 5000,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.batch == 0 {
            return Err("--batch must be at least 1".into());
        }
        if self.log_every == 0 || self.sample_every == 0 || self.checkpoint_every == 0 {
            return Err(
                "--log-every, --sample-every and --checkpoint-every must be at least 1".into(),
            );
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!("learning rate {} must be positive", self.lr));
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(format!("--beta1 {} must be in [0, 1)", self.beta1));
        }
        for (flag, v) in [
            ("--lambda-a", self.lambda_a),
            ("--lambda-b", self.lambda_b),
            ("--lambda-identity", self.lambda_identity),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{flag} {v} must be a non-negative number"));
            }
        }
        if self.n_epochs + self.n_epochs_decay == 0 && self.steps.is_none() {
            return Err("--n-epochs and --n-epochs-decay are both 0: nothing to train".into());
        }
        Ok(())
    }

    pub fn losses(&self) -> LossConfig {
        LossConfig {
            lambda_a: self.lambda_a,
            lambda_b: self.lambda_b,
            lambda_identity: self.lambda_identity,
            gan_mode: self.gan_mode,
            pool_size: self.pool_size,
        }
    }

    pub fn schedule(&self) -> Schedule {
        Schedule {
            lr: self.lr,
            n_epochs: self.n_epochs,
            n_epochs_decay: self.n_epochs_decay,
        }
    }

    /// Total steps for `batches_per_epoch` batches per epoch.
    pub fn total_steps(&self, batches_per_epoch: usize) -> u64 {
        self.steps
            .unwrap_or(self.schedule().epochs() * batches_per_epoch as u64)
    }
}

/// RUN_DIR/config.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub train: TrainConfig,
    /// The networks' shape (channels come from the data).
    pub model: CycleGanConfig,
    /// The two domains, as they describe themselves.
    pub dataset_a: String,
    pub dataset_b: String,
    /// Items per epoch, `max(|A|, |B|)`.
    pub epoch_len: usize,
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
