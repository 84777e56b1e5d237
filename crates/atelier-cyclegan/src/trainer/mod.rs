//! The training loop of `atelier cyclegan train`, as a library so tests can drive it. A run
//! lives in a folder laid out as every atelier trainer's ([`atelier_gan::run`]):
//!
//! ```text
//! RUN_DIR/config.json               what was asked and what it resolved to (RunConfig)
//! RUN_DIR/samples/step_NNNNNN.png   rows real_A | fake_B | rec_A | real_B | fake_A | rec_B
//!                                   of fixed images, every sample_every steps
//! RUN_DIR/checkpoint.safetensors    networks, optimizers, pools, trainer state (`checkpoint`)
//! RUN_DIR/metrics.csv               the eight losses, lr, images/s every log_every steps
//! RUN_DIR/losses.png                the eight losses against the step
//! RUN_DIR/.atelier.lock             held while a process trains in the folder (atelier_fs::RunDir)
//! ```
//!
//! A run folder has one owner, as a DCGAN run's: creating or resuming a run claims the folder
//! ([`atelier_fs::RunDir`]), so a second process is refused while the first runs, a new run
//! refuses a folder that holds anything (unless forced), and temporary files of killed
//! writers are removed.
//!
//! A step reads nothing back; the losses are read every `log_every` steps and before each
//! checkpoint, and before each checkpoint every weight and Adam moment is checked on the
//! device (one scalar read), so a NaN never reaches a checkpoint ([`CycleError::Diverged`],
//! [`CycleError::NonFinite`]). A stop flag
//! (Ctrl-C) ends the run after the current step with a checkpoint; [`Trainer::resume`]
//! carries on with the same weights, Adam state, pools, data position and random draws, so a
//! resumed run computes what an uninterrupted one would have. The learning rate follows
//! [`Schedule`](crate::Schedule) by epoch.

pub mod checkpoint;
pub mod config;
pub mod error;
pub mod metrics;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use atelier_data::{Batcher, ImageSet, Position};
use atelier_fs::RunDir;
use atelier_fs::run_dir::RunLayout;
use atelier_gan::latent::derive_seed;
use atelier_gan::run;
use atelier_tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use checkpoint::TrainerState;
pub use config::{RunConfig, TrainConfig};
pub use error::{CycleError, Result};
pub use metrics::LogLine;

use crate::data::{DomainSpec, Domains};
use crate::model::CycleGanConfig;
use crate::step::{CycleGan, StepOutputs, cyclegan_adam};

/// Rows of fixed images in a sample grid.
pub const SAMPLE_ROWS: usize = 4;

/// Streams of randomness derived from the run's seed.
const SEED_BATCHES_A: u64 = 1;
const SEED_BATCHES_B: u64 = 2;
const SEED_POOL: u64 = 3;

/// What a run writes in its folder (what `--force` replaces): the trainer's files, and those
/// of the CLI's run log (`atelier_runlog::FILES`).
pub const RUN_LAYOUT: RunLayout = RunLayout {
    marker: run::CHECKPOINT_FILE,
    files: &[
        run::CHECKPOINT_FILE,
        run::CONFIG_FILE,
        run::SAMPLES_DIR,
        run::METRICS_FILE,
        run::LOSSES_FILE,
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
    /// A new epoch starts at this learning rate.
    Epoch {
        epoch: u64,
        lr: f64,
    },
    /// Values were read back.
    Log(&'a LogLine),
    Sample(&'a Path),
    Checkpoint(&'a Path),
}

pub use atelier_gan::trainer::Outcome;

pub struct Trainer {
    pub run: RunConfig,
    pub model: CycleGan,
    dir: PathBuf,
    /// The claim on the run folder, held while the trainer lives.
    run_dir: RunDir,
    domains: Domains,
    batcher_a: Batcher,
    batcher_b: Batcher,
    /// Fixed images for sample grids (centre crops of the first images of each domain).
    fixed: (Tensor, Tensor),
    state: TrainerState,
    /// The epoch whose learning rate is set.
    lr_epoch: Option<u64>,
    metrics: metrics::Metrics,
    pending: Option<StepOutputs>,
    saved_step: Option<u64>,
    sampled_step: Option<u64>,
    interval: (Instant, u64),
}

fn device_of(name: &str) -> Result<Device> {
    Device::from_name(name).map_err(CycleError::Config)
}

fn open_domains(train: &TrainConfig) -> Result<Domains> {
    Domains::open(&DomainSpec {
        data_a: &train.data_a,
        data_b: &train.data_b,
        load_size: train.load_size,
        crop_size: train.crop_size,
        flip: train.flip,
        seed: train.seed,
    })
}

impl Trainer {
    /// Starts a new run in `dir` (created if needed): checks the settings, claims the folder,
    /// which must be empty unless `force` (see [`RunDir::create`]), checks the data and the
    /// networks, then writes config.json.
    pub fn create(train: TrainConfig, dir: impl AsRef<Path>, force: bool) -> Result<Trainer> {
        train.validate().map_err(CycleError::Config)?;
        let dir = dir.as_ref().to_path_buf();
        let device = device_of(&train.device)?;
        // claimed before the data is read: a second run in the folder is refused at once
        let mut run_dir = RunDir::create(&dir, force, &RUN_LAYOUT)?;
        let domains = open_domains(&train)?;
        let model_config = CycleGanConfig {
            nc_a: domains.a.channels(),
            nc_b: domains.b.channels(),
            ngf: train.ngf,
            ndf: train.ndf,
            n_blocks: train
                .n_blocks
                .unwrap_or(CycleGanConfig::default_blocks(train.crop_size)),
            n_layers_d: train.n_layers_d,
        };
        model_config.validate().map_err(CycleError::Config)?;
        if model_config.nc_a != model_config.nc_b && train.lambda_identity > 0.0 {
            return Err(CycleError::Config(format!(
                "the identity loss needs both domains to have the same channels, but A has {} \
                 ({}) and B has {} ({}): pass --lambda-identity 0",
                model_config.nc_a,
                domains.a.describe(),
                model_config.nc_b,
                domains.b.describe()
            )));
        }
        if !train.crop_size.is_multiple_of(4) {
            return Err(CycleError::Config(format!(
                "--crop-size {} must be a multiple of 4: the generator halves the size twice and \
                 doubles it back",
                train.crop_size
            )));
        }
        let min = model_config.min_crop();
        if train.crop_size < min {
            return Err(CycleError::Config(format!(
                "--crop-size {} is too small: with --n-layers-d {} the networks need at least \
                 {min} pixels",
                train.crop_size, train.n_layers_d
            )));
        }
        check_memory(&model_config, &train, device)?;
        if domains.len < train.batch {
            return Err(CycleError::Config(format!(
                "--batch {} is larger than the data ({} and {})",
                train.batch,
                domains.a.describe(),
                domains.b.describe()
            )));
        }
        let batches_per_epoch = domains.len / train.batch;
        let run = RunConfig {
            total_steps: train.total_steps(batches_per_epoch),
            model: model_config,
            dataset_a: domains.a.describe(),
            dataset_b: domains.b.describe(),
            epoch_len: domains.len,
            batches_per_epoch,
            train,
        };
        run_dir.clear_old_run()?;
        run::create(&dir, &run.to_json())?;
        let model = new_model(&run, device);
        let metrics = metrics::Metrics::create(&dir)?;
        Trainer::assemble(
            run,
            model,
            run_dir,
            domains,
            TrainerState::default(),
            metrics,
            None,
        )
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
        let (ck, path) = run::open_checkpoint(&dir)?;
        let mut run = checkpoint::config_of(&ck, &path)?;
        if let Some(s) = steps {
            let at = ck.int("trainer.step")?.max(0) as u64;
            if s < at {
                return Err(CycleError::StepsBehind {
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
        let domains = open_domains(&run.train)?;
        if domains.len != run.epoch_len {
            return Err(CycleError::BadRun {
                path: dir,
                message: format!(
                    "the data changed: {} and {} now, {} and {} when the run started",
                    domains.a.describe(),
                    domains.b.describe(),
                    run.dataset_a,
                    run.dataset_b
                ),
            });
        }
        let device = device_of(&run.train.device)?;
        check_memory(&run.model, &run.train, device)?;
        let mut model = new_model(&run, device);
        let state = checkpoint::load_into(&ck, &mut model)?;
        run::write_config(&dir, &run.to_json())?;
        let metrics = metrics::Metrics::resume(&dir, state.step)?;
        Trainer::assemble(
            run,
            model,
            run_dir,
            domains,
            state,
            metrics,
            Some(state.step),
        )
    }

    fn assemble(
        run: RunConfig,
        model: CycleGan,
        run_dir: RunDir,
        domains: Domains,
        state: TrainerState,
        metrics: metrics::Metrics,
        saved_step: Option<u64>,
    ) -> Result<Trainer> {
        let position = Position {
            epoch: state.epoch as usize,
            index: state.batch_index as usize,
        };
        let (seed, batch) = (run.train.seed, run.train.batch);
        let batcher = |set: &Arc<atelier_data::RandomCrops>, stream| {
            let set: Arc<dyn ImageSet> = set.clone();
            Batcher::starting_at(set, batch, derive_seed(seed, stream), position)
        };
        let batcher_a = batcher(&domains.a, SEED_BATCHES_A)?;
        let batcher_b = batcher(&domains.b, SEED_BATCHES_B)?;
        let fixed = (
            fixed_images(&*domains.a, model.device),
            fixed_images(&*domains.b, model.device),
        );
        Ok(Trainer {
            interval: (Instant::now(), state.step),
            run,
            model,
            dir: run_dir.path().to_path_buf(),
            run_dir,
            domains,
            batcher_a,
            batcher_b,
            fixed,
            state,
            lr_epoch: None,
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

    pub fn domains(&self) -> &Domains {
        &self.domains
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
            self.one_step(on);
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
        self.metrics.plot(&self.dir)?;
        Ok(if finished {
            Outcome::Finished
        } else {
            Outcome::Stopped
        })
    }

    /// The learning rate of the current epoch.
    pub fn lr(&self) -> f64 {
        self.run.train.schedule().lr_at(self.state.epoch)
    }

    /// Records one step: the next pair of batches, G's and D's updates.
    fn one_step(&mut self, on: &mut dyn FnMut(Event)) {
        if self.lr_epoch != Some(self.state.epoch) {
            let lr = self.lr();
            self.model.set_lr(lr);
            self.lr_epoch = Some(self.state.epoch);
            on(Event::Epoch {
                epoch: self.state.epoch,
                lr,
            });
        }
        let (a, b) = (self.batcher_a.next_batch(), self.batcher_b.next_batch());
        debug_assert_eq!((a.epoch, a.index), (b.epoch, b.index));
        let device = self.model.device;
        let real_a = Tensor::from_vec(a.data, &a.shape, device);
        let real_b = Tensor::from_vec(b.data, &b.shape, device);
        let mut rng = StdRng::seed_from_u64(derive_seed(
            derive_seed(self.run.train.seed, SEED_POOL),
            self.state.step,
        ));
        self.pending = Some(self.model.step(&real_a, &real_b, &mut rng));
        let next = Position::from_step(
            a.epoch as u64 * self.run.batches_per_epoch as u64 + a.index as u64 + 1,
            self.run.batches_per_epoch,
        );
        self.state = TrainerState {
            step: self.state.step + 1,
            epoch: next.epoch as u64,
            batch_index: next.index as u64,
        };
    }

    /// Reads the last step's losses (one read-back), checks them, and logs them.
    fn log(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        let Some(outputs) = self.pending.take() else {
            return Ok(());
        };
        let losses = outputs.read();
        let step = self.state.step;
        if !losses.is_finite() {
            let kept = self.kept();
            return Err(CycleError::Diverged { step, losses, kept });
        }
        let (since, from) = self.interval;
        let images = (step - from) * self.run.train.batch as u64;
        let line = LogLine {
            step,
            // the epoch of the step just done (the state holds the next batch's)
            epoch: (step - 1) / self.run.batches_per_epoch as u64,
            lr: self.model.opt_g.config.lr,
            losses,
            images_per_s: images as f64 / since.elapsed().as_secs_f64().max(1e-9),
        };
        self.interval = (Instant::now(), step);
        self.metrics.push(line)?;
        on(Event::Log(&line));
        Ok(())
    }

    /// RUN_DIR/samples/step_NNNNNN.png: a row per fixed image pair, real_A | fake_B | rec_A |
    /// real_B | fake_A | rec_B.
    fn sample(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        let path = run::sample_path(&self.dir, self.state.step);
        save_visuals(&self.model, &self.fixed.0, &self.fixed.1, &path)?;
        self.sampled_step = Some(self.state.step);
        on(Event::Sample(&path));
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

    /// Writes RUN_DIR/checkpoint.safetensors, after checking the last step's losses and that
    /// every weight and Adam moment is finite (on the device, one scalar read).
    pub fn checkpoint(&mut self, on: &mut dyn FnMut(Event)) -> Result<()> {
        self.log(on)?;
        if let Some(tensor) = atelier_nn::find_non_finite(&checkpoint::state_tensors(&self.model)) {
            return Err(CycleError::NonFinite {
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

/// An error, before any work, when the device's memory (the host's on the CPU or a software
/// GPU) cannot hold a training step (`CycleGanConfig::training_bytes`).
fn check_memory(model: &CycleGanConfig, train: &TrainConfig, device: Device) -> Result<()> {
    let need = model.training_bytes(
        train.batch,
        train.crop_size,
        train.pool_size,
        train.lambda_identity > 0.0,
    );
    device.check_memory(
        "a training step at this --batch, --crop-size, --ngf and --ndf",
        need,
    )?;
    Ok(())
}

fn new_model(run: &RunConfig, device: Device) -> CycleGan {
    let t = &run.train;
    let mut model = CycleGan::new(
        run.model,
        t.losses(),
        device,
        t.seed,
        cyclegan_adam(t.lr, t.beta1),
    );
    model.set_lr(t.schedule().lr_at(0));
    model
}

/// The first [`SAMPLE_ROWS`] images of `set` (centre crops), as one batch on `device`.
fn fixed_images(set: &dyn ImageSet, device: Device) -> Tensor {
    let n = set.len().min(SAMPLE_ROWS);
    let mut data = Vec::with_capacity(n * set.image_len());
    for i in 0..n {
        data.extend(set.get(i));
    }
    let s = set.size();
    Tensor::from_vec(data, &[n, set.channels(), s, s], device)
}

/// A grid with one row per image pair: real_A | fake_B | rec_A | real_B | fake_A | rec_B
/// (grey images shown grey next to RGB ones).
pub fn save_visuals(model: &CycleGan, real_a: &Tensor, real_b: &Tensor, path: &Path) -> Result<()> {
    let n = real_a.shape()[0].min(real_b.shape()[0]);
    let (real_a, real_b) = (real_a.slice(0, 0, n), real_b.slice(0, 0, n));
    let visuals = model.visuals(&real_a, &real_b);
    let s = real_a.shape()[2];
    let columns: Vec<Vec<f32>> = visuals.iter().map(rgb).collect();
    let image_len = 3 * s * s;
    let mut grid = Vec::with_capacity(6 * n * image_len);
    for row in 0..n {
        for column in &columns {
            grid.extend_from_slice(&column[row * image_len..(row + 1) * image_len]);
        }
    }
    atelier_data::save_grid(path, &grid, 6 * n, 3, s, s, 6, 2)?;
    Ok(())
}

/// `[N, C, H, W]` images as RGB values (grey repeated three times).
fn rgb(t: &Tensor) -> Vec<f32> {
    let v = t.to_vec();
    let &[n, c, h, w] = t.shape() else {
        unreachable!("images are NCHW")
    };
    if c == 3 {
        return v;
    }
    v.chunks(h * w)
        .take(n)
        .flat_map(|plane| plane.iter().chain(plane).chain(plane).copied())
        .collect()
}
