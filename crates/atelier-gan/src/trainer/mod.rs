//! The training loop of `atelier gan train`, as a library so tests can drive it.
//!
//! A run lives in a folder (its common parts in [`crate::run`]):
//!
//! ```text
//! RUN_DIR/config.json               what was asked and what it resolved to (RunConfig)
//! RUN_DIR/real.png                  8×8 real images
//! RUN_DIR/samples/step_NNNNNN.png   8×8 images from fixed noise, every sample_every steps
//! RUN_DIR/checkpoint.safetensors    models, optimizers, trainer state (see `checkpoint`)
//! RUN_DIR/metrics.csv               losses, D(x), D(G(z)), images/s every log_every steps
//! RUN_DIR/losses.png                Loss_D and Loss_G against the step
//! ```
//!
//! A step reads nothing back; losses are read every `log_every` steps and before each
//! checkpoint, so a NaN never reaches a checkpoint: the run stops with
//! [`TrainError::Diverged`] and the last good checkpoint stays. A stop flag (Ctrl-C) ends the
//! run after the current step with a checkpoint; [`Trainer::resume`] carries on from it with
//! the same weights, Adam state, step count, data position and noise stream, so a resumed run
//! computes what an uninterrupted one would have.

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod metrics;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use atelier_data::{Batcher, ImageSet, Position};
use atelier_tensor::{Device, Tensor};

pub use checkpoint::TrainerState;
pub use config::{RunConfig, TrainConfig};
pub use error::{Result, TrainError};
pub use metrics::LogLine;

use crate::latent;
use crate::model::DcganConfig;
use crate::run;
use crate::step::{Dcgan, StepOutputs};

/// Images in a sample grid (8×8).
pub const GRID: usize = 64;
/// Sample grids normalise with the fixed-noise batch's own statistics, as pytorch/examples
/// does (its `netG(fixed_noise)` runs in training mode).
pub const SAMPLE_BATCH_STATS: bool = true;

/// What the loop reports as it goes.
pub enum Event<'a> {
    /// A step was recorded (nothing was read back).
    Step {
        step: u64,
        total: u64,
    },
    /// Values were read back.
    Log(&'a LogLine),
    Sample(&'a Path),
    Checkpoint(&'a Path),
}

/// How [`Trainer::run`] ended (a divergence is an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// All steps done; a final checkpoint and sample grid were written.
    Finished,
    /// Stopped early (the stop flag, or the step limit of `run_until`), with a checkpoint.
    Stopped,
}

pub struct Trainer {
    pub run: RunConfig,
    pub model: Dcgan,
    dir: PathBuf,
    set: Arc<dyn ImageSet>,
    batcher: Batcher,
    fixed_noise: Tensor,
    state: TrainerState,
    metrics: metrics::Metrics,
    /// The last step's outputs until they are read.
    pending: Option<StepOutputs>,
    /// Step of the last checkpoint on disk.
    saved_step: Option<u64>,
    /// Step of the last sample grid.
    sampled_step: Option<u64>,
    /// Start of the current images/s interval: (time, step).
    interval: (Instant, u64),
}

fn device_of(name: &str) -> Result<Device> {
    Device::from_name(name).map_err(TrainError::Config)
}

fn open_set(train: &TrainConfig) -> Result<Arc<dyn ImageSet>> {
    let set = atelier_data::open_dataset(&train.data, train.image_size, train.seed)?;
    Ok(Arc::from(set))
}

impl Trainer {
    /// Starts a new run in `dir` (created if needed): writes config.json and real.png.
    pub fn create(train: TrainConfig, dir: impl AsRef<Path>) -> Result<Trainer> {
        train.validate().map_err(TrainError::Config)?;
        let dir = dir.as_ref().to_path_buf();
        let set = open_set(&train)?;
        let model_config = DcganConfig {
            nz: train.nz,
            ngf: train.ngf,
            ndf: train.ndf,
            channels: set.channels(),
            image_size: train.image_size,
        };
        model_config.validate().map_err(TrainError::Config)?;
        if set.len() < train.batch {
            return Err(TrainError::Config(format!(
                "batch size {} is larger than the dataset ({})",
                train.batch,
                set.describe()
            )));
        }
        let batches_per_epoch = set.len() / train.batch;
        let run = RunConfig {
            total_steps: train.total_steps(batches_per_epoch),
            model: model_config,
            dataset: set.describe(),
            batches_per_epoch,
            train,
        };
        let device = device_of(&run.train.device)?;
        run::create(&dir, &run.to_json())?;
        save_real_grid(&*set, &dir.join("real.png"))?;
        let model = Dcgan::new(model_config, device, run.train.seed, run.train.lr);
        let metrics = metrics::Metrics::create(&dir)?;
        Trainer::assemble(run, model, dir, set, TrainerState::default(), metrics, None)
    }

    /// Continues the run in `dir` from its checkpoint. `steps` replaces the run's total (to
    /// train longer) and `device` its device, when given.
    pub fn resume(
        dir: impl AsRef<Path>,
        steps: Option<u64>,
        device: Option<&str>,
    ) -> Result<Trainer> {
        let dir = dir.as_ref().to_path_buf();
        let (ck, path) = run::open_checkpoint(&dir)?;
        let mut run = checkpoint::config_of(&ck, &path)?;
        if let Some(s) = steps {
            run.train.steps = Some(s);
            run.total_steps = s;
        }
        if let Some(d) = device {
            run.train.device = d.to_string();
        }
        let set = open_set(&run.train)?;
        if set.len() / run.train.batch != run.batches_per_epoch {
            return Err(TrainError::BadRun {
                path: dir,
                message: format!(
                    "the data changed: {} now, {} when the run started",
                    set.describe(),
                    run.dataset
                ),
            });
        }
        let device = device_of(&run.train.device)?;
        let mut model = Dcgan::new(run.model, device, run.train.seed, run.train.lr);
        let state = checkpoint::load_into(&ck, &mut model)?;
        run::write_config(&dir, &run.to_json())?;
        let metrics = metrics::Metrics::resume(&dir, state.step)?;
        let saved = Some(state.step);
        Trainer::assemble(run, model, dir, set, state, metrics, saved)
    }

    fn assemble(
        run: RunConfig,
        model: Dcgan,
        dir: PathBuf,
        set: Arc<dyn ImageSet>,
        state: TrainerState,
        metrics: metrics::Metrics,
        saved_step: Option<u64>,
    ) -> Result<Trainer> {
        let position = Position {
            epoch: state.epoch as usize,
            index: state.batch_index as usize,
        };
        let batcher = Batcher::starting_at(set.clone(), run.train.batch, run.train.seed, position)?;
        let fixed_noise = latent::noise(
            GRID,
            run.model.nz,
            latent::derive_seed(run.train.seed, u64::MAX),
            model.device,
        );
        Ok(Trainer {
            interval: (Instant::now(), state.step),
            run,
            model,
            dir,
            set,
            batcher,
            fixed_noise,
            state,
            metrics,
            pending: None,
            saved_step,
            sampled_step: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn checkpoint_path(&self) -> PathBuf {
        run::checkpoint_path(&self.dir)
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.state.step
    }

    pub fn state(&self) -> TrainerState {
        self.state
    }

    pub fn total_steps(&self) -> u64 {
        self.run.total_steps
    }

    pub fn metrics(&self) -> &[LogLine] {
        &self.metrics.rows
    }

    pub fn dataset(&self) -> &dyn ImageSet {
        &*self.set
    }

    /// Runs to the end (or until `stop` is set).
    pub fn run(&mut self, stop: &AtomicBool, on: &mut dyn FnMut(Event)) -> Result<Outcome> {
        self.run_until(self.run.total_steps, stop, on)
    }

    /// Runs until `limit` steps are done (at most the run's total), or `stop` is set; ends
    /// with a checkpoint either way.
    pub fn run_until(
        &mut self,
        limit: u64,
        stop: &AtomicBool,
        on: &mut dyn FnMut(Event),
    ) -> Result<Outcome> {
        let total = self.run.total_steps;
        let limit = limit.min(total);
        let t = self.run.train.clone();
        self.interval = (Instant::now(), self.state.step);
        while self.state.step < limit && !stop.load(Ordering::Relaxed) {
            self.one_step();
            let step = self.state.step;
            on(Event::Step { step, total });
            let checkpoint_now = step.is_multiple_of(t.checkpoint_every);
            if step.is_multiple_of(t.log_every) || checkpoint_now {
                self.log(on)?;
            }
            if step.is_multiple_of(t.sample_every) {
                self.sample(on)?;
            }
            if checkpoint_now {
                self.checkpoint(on)?;
            }
        }
        let finished = self.state.step >= total;
        if self.pending.is_some() {
            self.log(on)?;
        }
        if finished && self.sampled_step != Some(self.state.step) {
            self.sample(on)?;
        }
        if self.saved_step != Some(self.state.step) {
            self.checkpoint(on)?;
        }
        self.metrics.plot(&self.dir, self.run.train.log_every)?;
        Ok(if finished {
            Outcome::Finished
        } else {
            Outcome::Stopped
        })
    }

    /// Records one step: the next batch, the step's noise, G's and D's updates.
    fn one_step(&mut self) {
        let batch = self.batcher.next_batch();
        let device = self.model.device;
        let real = Tensor::from_vec(batch.data, &batch.shape, device);
        let b = batch.shape[0];
        let noise_seed = latent::derive_seed(self.run.train.seed, self.state.rng_position);
        let z = latent::noise(b, self.run.model.nz, noise_seed, device);
        self.pending = Some(self.model.step(&real, &z));
        let next = batch_position_after(batch.epoch, batch.index, self.run.batches_per_epoch);
        self.state = TrainerState {
            step: self.state.step + 1,
            epoch: next.epoch as u64,
            batch_index: next.index as u64,
            rng_position: self.state.rng_position + 1,
        };
    }

    /// Reads the last step's values (one read-back), checks them, and logs them.
    fn log(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        let Some(outputs) = self.pending.take() else {
            return Ok(());
        };
        let values = outputs.read();
        let step = self.state.step;
        if !values.is_finite() {
            let kept = match self.saved_step {
                Some(s) => format!(
                    "The last good checkpoint (step {s}) is {}.",
                    self.checkpoint_path().display()
                ),
                None => "No checkpoint had been written yet.".into(),
            };
            return Err(TrainError::Diverged { step, values, kept });
        }
        let (since, from) = self.interval;
        let images = (step - from) * self.run.train.batch as u64;
        let line = LogLine {
            step,
            epoch: self.state.epoch,
            values,
            images_per_s: images as f64 / since.elapsed().as_secs_f64().max(1e-9),
        };
        self.interval = (Instant::now(), step);
        self.metrics.push(line)?;
        on(Event::Log(&line));
        Ok(())
    }

    /// RUN_DIR/samples/step_NNNNNN.png from the fixed noise.
    fn sample(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        let images = self
            .model
            .generate(&self.fixed_noise, SAMPLE_BATCH_STATS)
            .to_vec();
        let path = run::sample_path(&self.dir, self.state.step);
        let (c, s) = (self.run.model.channels, self.run.model.image_size);
        atelier_data::save_grid(&path, &images, GRID, c, s, s, 8, 2)?;
        self.sampled_step = Some(self.state.step);
        on(Event::Sample(&path));
        Ok(())
    }

    /// Writes RUN_DIR/checkpoint.safetensors (after checking the last step's values).
    pub fn checkpoint(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        self.log(on)?;
        let path = self.checkpoint_path();
        checkpoint::save(&path, &self.model, &self.state, &self.run)?;
        self.saved_step = Some(self.state.step);
        self.metrics.plot(&self.dir, self.run.train.log_every)?;
        on(Event::Checkpoint(&path));
        Ok(())
    }
}

fn batch_position_after(epoch: usize, index: usize, batches_per_epoch: usize) -> Position {
    if index + 1 == batches_per_epoch {
        Position {
            epoch: epoch + 1,
            index: 0,
        }
    } else {
        Position {
            epoch,
            index: index + 1,
        }
    }
}

/// RUN_DIR/real.png: the dataset's first 64 images (fewer if it is smaller).
fn save_real_grid(set: &dyn ImageSet, path: &Path) -> Result<()> {
    let n = set.len().min(GRID);
    let mut data = Vec::with_capacity(n * set.image_len());
    for i in 0..n {
        data.extend(set.get(i));
    }
    let s = set.size();
    atelier_data::save_grid(path, &data, n, set.channels(), s, s, 8, 2)?;
    Ok(())
}
