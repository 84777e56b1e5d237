//! What `atelier gan train` leaves for people beside the checkpoint: TensorBoard scalars and
//! sample grids, scalars.csv and the run page (atelier-runlog), fed from the trainer's events.
//! A failure here warns once and training goes on: a lost chart is no reason to lose a run.

use std::path::Path;

use atelier_gan::trainer::{Event, GRID, LogLine, SAMPLE_BATCH_STATS, Trainer};
use atelier_gan::{latent, step::generate};
use atelier_runlog::{Figure, RunPage};
use atelier_tensor::Tensor;

use crate::runlog::{GpuClock, PageLog};

/// Latent walks on the run page: this many walks of this many frames.
const WALKS: usize = 4;
const FRAMES: usize = 8;

pub struct GanLog {
    log: PageLog,
    gpu_clock: GpuClock,
}

impl GanLog {
    /// The log of `trainer`'s run (resumed when it is past step 0).
    pub fn open(trainer: &Trainer, tensorboard: bool) -> anyhow::Result<GanLog> {
        let dir = trainer.dir();
        let run = &trainer.run;
        let m = &run.model;
        let facts = vec![
            ("data".into(), run.dataset.clone()),
            (
                "model".into(),
                format!(
                    "DCGAN {0}×{0}, nz {1}, ngf {2}, ndf {3}, {4} channel(s)",
                    m.image_size, m.nz, m.ngf, m.ndf, m.channels
                ),
            ),
            (
                "training".into(),
                format!(
                    "batch {}, Adam lr {} (betas 0.5, 0.999), {} batches per epoch",
                    run.train.batch, run.train.lr, run.batches_per_epoch
                ),
            ),
            (
                "device".into(),
                super::train::describe_device(trainer.model.device),
            ),
        ];
        let page = RunPage {
            title: format!("DCGAN: {}", dir.display()),
            facts,
            step: trainer.step(),
            total_steps: Some(trainer.total_steps()),
            running: true,
            checkpoint: PageLog::checkpoint_in(dir, trainer.step()),
            samples: Some((
                "samples".into(),
                format!(
                    "{GRID} images from the same fixed noise at every sample step (normalised \
                     with the batch's own statistics, as pytorch/examples does)"
                ),
            )),
            figures: vec![
                Figure {
                    title: "Latent walks".into(),
                    path: "walk.png".into(),
                    caption: format!(
                        "{WALKS} spherical walks of {FRAMES} frames between latent seeds (a row \
                         each), from the generator at the end of the run"
                    ),
                },
                Figure {
                    title: "Training images".into(),
                    path: "real.png".into(),
                    caption: "the dataset's first images".into(),
                },
            ],
            config: std::fs::read_to_string(dir.join("config.json")).ok(),
        };
        Ok(GanLog {
            log: PageLog::open(dir, trainer.step(), tensorboard, page)?,
            gpu_clock: GpuClock::start(trainer.model.device, trainer.step()),
        })
    }

    /// Feeds one trainer event to the log.
    pub fn on_event(&mut self, event: &Event, lr: f64) {
        match *event {
            Event::Step { step, .. } => self.log.page.step = step,
            Event::Log(line) => {
                let values = self.scalars(line, lr);
                self.log.scalars(line.step, &values);
            }
            Event::Sample(path) => self.log.sample(path),
            Event::Checkpoint(_) => self.log.checkpoint(),
        }
    }

    /// Every scalar of a log line: the losses, D's outputs, the learning rate, throughput, and
    /// GPU time per step when the profiler times dispatches (ATELIER_PROFILE=1).
    fn scalars(&mut self, line: &LogLine, lr: f64) -> Vec<(&'static str, f64)> {
        let v = &line.values;
        let mut out = vec![
            ("loss/D", f64::from(v.loss_d)),
            ("loss/G", f64::from(v.loss_g)),
            ("D/D(x)", f64::from(v.d_x)),
            ("D/D(G(z)) before D step", f64::from(v.d_g_z1)),
            ("D/D(G(z)) after D step", f64::from(v.d_g_z2)),
            ("lr", lr),
            ("perf/images_per_s", line.images_per_s),
        ];
        if let Some(ms) = self.gpu_clock.ms_per_step(line.step) {
            out.push(("perf/gpu_ms_per_step", ms));
        }
        out
    }

    /// After an error: the page marked as no longer training.
    pub fn stop(&mut self) {
        let step = self.log.page.step;
        self.log.finish(step);
    }

    /// At the end of a run: the latent walks, and the page marked as no longer training.
    pub fn finish(&mut self, trainer: &Trainer) {
        if let Err(e) = write_walks(trainer, &trainer.dir().join("walk.png")) {
            self.log.warn("writing walk.png", e);
        }
        self.log.finish(trainer.step());
    }
}

/// RUN_DIR/walk.png: WALKS rows of FRAMES frames, each a spherical walk between the latent
/// points of seeds 2k+1 and 2k+2.
fn write_walks(trainer: &Trainer, path: &Path) -> anyhow::Result<()> {
    let m = trainer.run.model;
    let mut z = Vec::with_capacity(WALKS * FRAMES * m.nz);
    for k in 0..WALKS as u64 {
        let (a, b) = (
            latent::point(m.nz, 2 * k + 1),
            latent::point(m.nz, 2 * k + 2),
        );
        for i in 0..FRAMES {
            z.extend(latent::slerp(&a, &b, i as f32 / (FRAMES - 1) as f32));
        }
    }
    let n = WALKS * FRAMES;
    let z = Tensor::from_vec(z, &[n, m.nz, 1, 1], trainer.model.device);
    let images = generate(&trainer.model.g, &z, SAMPLE_BATCH_STATS).to_vec();
    let s = m.image_size;
    atelier_data::save_grid(path, &images, n, m.channels, s, s, FRAMES, 2)?;
    Ok(())
}
