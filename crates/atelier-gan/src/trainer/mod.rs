//! The training loop of `atelier gan train`, as a library so tests can drive it.
//!
//! A run lives in a folder:
//!
//! ```text
//! RUN_DIR/config.json               what was asked and what it resolved to (RunConfig)
//! RUN_DIR/real.png                  8×8 real images
//! RUN_DIR/samples/step_NNNNNN.png   8×8 images from fixed noise, every sample_every steps
//! RUN_DIR/checkpoint.safetensors    models, optimizers, trainer state (see `checkpoint`)
//! RUN_DIR/metrics.csv               losses, D(x), D(G(z)), images/s (and the augmentation
//!                                   probability, ADA's r_t) every log_every steps
//! RUN_DIR/losses.png                Loss_D and Loss_G against the step
//! RUN_DIR/.atelier.lock             held while a process trains in the folder (atelier_fs::RunDir)
//! RUN_DIR/progress.gif              the sample grids as an animation, at the end of a run
//! RUN_DIR/swd.csv, swd.png          SWD against the data every swd_every steps (optional)
//! ```
//!
//! A run folder has one owner: creating or resuming a run claims the folder
//! ([`atelier_fs::RunDir`]), so a second process is refused while the first runs, a new run
//! refuses a folder that holds anything (unless forced), and temporary files of killed writers
//! are removed. Every file is written atomically.
//!
//! With `--ema` the sample grids (and the SWD's `swd_ema` column) come from G's moving average.
//!
//! A step reads nothing back; losses are read every `log_every` steps and before each
//! checkpoint, and before each checkpoint every weight, buffer and Adam moment is checked on
//! the device for NaN and infinity (one scalar read, [`atelier_nn::find_non_finite`]), so a
//! non-finite value never reaches a checkpoint: the run stops with [`TrainError::Diverged`]
//! or [`TrainError::NonFinite`] and the last good checkpoint stays. A stop flag (a signal)
//! ends the run after the current step with a checkpoint; [`Trainer::resume`] carries on from
//! it with the same weights, Adam state, step count, data position and noise stream, so a
//! resumed run computes what an uninterrupted one would have.

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod metrics;
pub mod progress;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use atelier_data::{Batcher, ImageSet, Position};
use atelier_fs::RunDir;
use atelier_fs::run_dir::RunLayout;
use atelier_nn::Checkpoint;
use atelier_tensor::{Device, Tensor};

pub use checkpoint::TrainerState;
pub use config::{RunConfig, TrainConfig};
pub use error::{Result, TrainError};
pub use metrics::LogLine;

use crate::latent;
use crate::model::DcganConfig;
use crate::step::{Dcgan, StepDraws, StepOutputs};

/// Seed streams of the trainer's per-step randomness besides the noise (mixed with the run's
/// seed by `latent::derive_seed`).
const AUGMENT_STREAM: u64 = 0xA06_0000_0000_0001;
const MIRROR_STREAM: u64 = 0xA06_0000_0000_0002;

/// Images in a sample grid (8×8).
pub const GRID: usize = 64;
/// Sample grids normalise with the fixed-noise batch's own statistics, as pytorch/examples
/// does (its `netG(fixed_noise)` runs in training mode).
pub const SAMPLE_BATCH_STATS: bool = true;

/// What a run writes in its folder (what `--force` replaces): the trainer's files, and those
/// of the CLI's run log (`atelier_runlog::FILES`, `walk.png`), so that a forced run leaves
/// no event file or chart of the old run to mix with its own.
pub const RUN_LAYOUT: RunLayout = RunLayout {
    marker: "checkpoint.safetensors",
    files: &[
        "checkpoint.safetensors",
        "config.json",
        "real.png",
        "samples",
        "metrics.csv",
        "losses.png",
        "progress.gif",
        "swd.csv",
        "swd.png",
        "walk.png",
        "index.html",
        "scalars.csv",
        "events.out.tfevents.*",
    ],
    resume_flag: "--resume",
    force_flag: "--force",
};

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
    /// The claim on the run folder, held while the trainer lives.
    run_dir: RunDir,
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
    /// SWD over the run, when `swd_every` is set.
    swd: Option<progress::SwdTracker>,
}

fn device_of(name: &str) -> Result<Device> {
    Device::from_name(name).map_err(TrainError::Config)
}

fn open_set(train: &TrainConfig) -> Result<Arc<dyn ImageSet>> {
    let set = atelier_data::open_dataset(&train.data, train.image_size, train.seed)?;
    Ok(Arc::from(set))
}

impl Trainer {
    /// Starts a new run in `dir` (created if needed): checks everything first (the config, the
    /// data, that the device holds every tensor), then claims the folder, which must be empty
    /// unless `force` (see [`RunDir::create`]), and writes config.json and real.png.
    pub fn create(train: TrainConfig, dir: impl AsRef<Path>, force: bool) -> Result<Trainer> {
        train.validate().map_err(TrainError::Config)?;
        let dir = dir.as_ref().to_path_buf();
        let device = device_of(&train.device)?;
        // before the data is read: what the device must hold (RGB, the larger case)
        let rgb = DcganConfig {
            nz: train.nz,
            ngf: train.ngf,
            ndf: train.ndf,
            channels: 3,
            image_size: train.image_size,
        };
        rgb.validate().map_err(TrainError::Config)?;
        check_fits(&rgb, train.batch, device)?;
        // claimed before the data is read: a second run in the folder is refused at once
        let mut run_dir = RunDir::create(&dir, force, &RUN_LAYOUT)?;
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
        run_dir.clear_old_run()?;
        std::fs::create_dir_all(dir.join("samples")).map_err(error::io(&dir))?;
        atelier_fs::write_atomic(dir.join("config.json"), run.to_json().as_bytes())?;
        save_real_grid(&*set, &dir.join("real.png"))?;
        let mut model = build_model(&run, device)?;
        if let Some(source) = &run.train.init_from {
            checkpoint::init_from(source, &mut model)?;
        }
        let metrics = metrics::Metrics::create(&dir)?;
        progress::SwdTracker::reset(&dir)?;
        let state = TrainerState::default();
        Trainer::assemble(run, model, run_dir, set, state, metrics, None)
    }

    /// Continues the run in `dir` from its checkpoint. `steps` replaces the run's total (to
    /// train longer) and `device` its device, when given.
    pub fn resume(
        dir: impl AsRef<Path>,
        steps: Option<u64>,
        device: Option<&str>,
    ) -> Result<Trainer> {
        let dir = dir.as_ref().to_path_buf();
        // claimed first: nobody else trains here while this reads and resumes
        let run_dir = RunDir::resume(&dir, &RUN_LAYOUT)?;
        let path = dir.join(RUN_LAYOUT.marker);
        let ck = Checkpoint::load(&path)?;
        ck.expect_kind(checkpoint::FORMAT)?;
        let mut run = checkpoint::config_of(&ck, &path)?;
        if let Some(s) = steps {
            let at = ck.int("trainer.step")?.max(0) as u64;
            if s < at {
                return Err(TrainError::StepsBehind {
                    path: dir,
                    steps: s,
                    at,
                });
            }
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
        check_fits(&run.model, run.train.batch, device)?;
        let mut model = build_model(&run, device)?;
        let state = checkpoint::load_into(&ck, &mut model)?;
        atelier_fs::write_atomic(dir.join("config.json"), run.to_json().as_bytes())?;
        let metrics = metrics::Metrics::resume(&dir, state.step)?;
        let saved = Some(state.step);
        Trainer::assemble(run, model, run_dir, set, state, metrics, saved)
    }

    fn assemble(
        run: RunConfig,
        model: Dcgan,
        run_dir: RunDir,
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
        let swd = match run.train.swd_every {
            Some(_) => Some(progress::SwdTracker::new(
                run_dir.path(),
                &*set,
                &run,
                model.device,
                state.step,
            )?),
            None => None,
        };
        Ok(Trainer {
            swd,
            interval: (Instant::now(), state.step),
            run,
            model,
            dir: run_dir.path().to_path_buf(),
            run_dir,
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

    /// What claiming the run folder did (a stale lock taken over, temporary files removed,
    /// old run files replaced), one line each.
    pub fn folder_notes(&self) -> Vec<String> {
        self.run_dir.notes()
    }

    pub fn checkpoint_path(&self) -> PathBuf {
        self.dir.join("checkpoint.safetensors")
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
        if self.state.step == 0 {
            self.measure_swd()?;
        }
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
            if t.swd_every.is_some_and(|e| step.is_multiple_of(e)) {
                self.measure_swd()?;
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
        if finished
            && t.swd_every.is_some()
            && !self.state.step.is_multiple_of(t.swd_every.unwrap_or(1))
        {
            self.measure_swd()?;
        }
        self.metrics.plot(&self.dir)?;
        if finished {
            progress::write_progress_gif(&self.dir)?;
        }
        Ok(if finished {
            Outcome::Finished
        } else {
            Outcome::Stopped
        })
    }

    /// Records one step: the next batch (mirrored at random with `mirror`), the step's noise
    /// and augmentation draws, G's and D's updates.
    fn one_step(&mut self) {
        let mut batch = self.batcher.next_batch();
        let device = self.model.device;
        let position = self.state.rng_position;
        let seed = self.run.train.seed;
        if self.run.train.mirror {
            let mirror_seed = latent::derive_seed(seed ^ MIRROR_STREAM, position);
            progress::mirror_at_random(&mut batch.data, &batch.shape, mirror_seed);
        }
        let real = Tensor::from_vec(batch.data, &batch.shape, device);
        let b = batch.shape[0];
        let noise_seed = latent::derive_seed(seed, position);
        let z = latent::noise(b, self.run.model.nz, noise_seed, device);
        let draws = self.model.augment.as_ref().map(|_| {
            let (h, w) = (batch.shape[2], batch.shape[3]);
            StepDraws::draw(
                b,
                h,
                w,
                latent::derive_seed(seed ^ AUGMENT_STREAM, position),
                device,
            )
        });
        self.pending = Some(self.model.step_with(&real, &z, draws.as_ref()));
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
            let kept = self.kept();
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

    /// Which checkpoint is left after a divergence, in words.
    fn kept(&self) -> String {
        match self.saved_step {
            Some(s) => format!(
                "The last good checkpoint (step {s}) is {}.",
                self.checkpoint_path().display()
            ),
            None => "No checkpoint had been written yet.".into(),
        }
    }

    /// RUN_DIR/samples/step_NNNNNN.png from the fixed noise.
    fn sample(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        let g = self.model.sampling_generator();
        let images = crate::step::generate(g, &self.fixed_noise, SAMPLE_BATCH_STATS).to_vec();
        let path = self
            .dir
            .join("samples")
            .join(format!("step_{:06}.png", self.state.step));
        let (c, s) = (self.run.model.channels, self.run.model.image_size);
        atelier_data::save_grid(&path, &images, GRID, c, s, s, 8, 2)?;
        self.sampled_step = Some(self.state.step);
        on(Event::Sample(&path));
        Ok(())
    }

    /// Writes RUN_DIR/checkpoint.safetensors, after checking the last step's values and that
    /// every weight, buffer and Adam moment is finite (on the device, one scalar read).
    pub fn checkpoint(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        self.log(on)?;
        if let Some(tensor) = atelier_nn::find_non_finite(&checkpoint::state_tensors(&self.model)) {
            return Err(TrainError::NonFinite {
                step: self.state.step,
                tensor,
                kept: self.kept(),
            });
        }
        let path = self.checkpoint_path();
        checkpoint::save(&path, &self.model, &self.state, &self.run)?;
        self.saved_step = Some(self.state.step);
        self.metrics.plot(&self.dir)?;
        on(Event::Checkpoint(&path));
        Ok(())
    }
}

/// An error, before any work, when the device cannot hold a tensor of a training step, or its
/// memory (the host's on the CPU or a software GPU) cannot hold the step.
fn check_fits(model: &DcganConfig, batch: usize, device: Device) -> Result<()> {
    model
        .check_training_fits(batch, device)
        .map_err(|error| TrainError::TooLarge {
            error: Box::new(error),
            hint: "use a smaller --batch, --image-size, --ngf or --ndf",
        })?;
    device.check_memory(
        "a training step at this batch size and width",
        model.training_bytes(batch),
    )?;
    Ok(())
}

/// G and D as the run asks: DiffAugment (with ADA), the moving average.
fn build_model(run: &RunConfig, device: Device) -> Result<Dcgan> {
    let t = &run.train;
    let policy = t.policy().map_err(TrainError::Config)?;
    Ok(Dcgan::new(run.model, device, t.seed, t.lr)
        .with_augment(policy, t.ada)
        .with_ema(t.ema))
}

impl Trainer {
    /// Appends the SWD of G (and of its average) to swd.csv, when the run tracks it.
    fn measure_swd(&mut self) -> Result<()> {
        if let Some(tracker) = &mut self.swd {
            let ema = self.model.ema.as_ref().map(|e| &e.g);
            tracker.measure(self.state.step, &self.model.g, ema)?;
        }
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
