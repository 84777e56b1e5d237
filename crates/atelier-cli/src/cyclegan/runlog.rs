//! What `atelier cyclegan train` leaves for people beside the checkpoint: TensorBoard scalars
//! (the eight losses, the learning rate, images/s, GPU ms per step when profiling) and the
//! translation grids, scalars.csv and the run page, fed from the trainer's events (the shared
//! [`PageLog`]: a failure warns once and training goes on).

use atelier_cyclegan::trainer::{Event, LogLine, SAMPLE_ROWS, Trainer};
use atelier_runlog::RunPage;

use crate::runlog::{GpuClock, PageLog};
use crate::training::describe_device;

pub struct CycleLog {
    log: PageLog,
    gpu_clock: GpuClock,
}

impl CycleLog {
    /// The log of `trainer`'s run (resumed when it is past step 0).
    pub fn open(trainer: &Trainer, tensorboard: bool) -> anyhow::Result<CycleLog> {
        let dir = trainer.dir();
        let run = &trainer.run;
        let (m, t) = (&run.model, &run.train);
        let flips = if t.flip { ", random flips" } else { "" };
        let facts = vec![
            ("domain A".into(), run.dataset_a.clone()),
            ("domain B".into(), run.dataset_b.clone()),
            (
                "model".into(),
                format!(
                    "CycleGAN: ResnetGenerator ngf {}, {} blocks; PatchGAN ndf {}, {} layers; \
                     {} → {} channels",
                    m.ngf, m.n_blocks, m.ndf, m.n_layers_d, m.nc_a, m.nc_b
                ),
            ),
            (
                "training".into(),
                format!(
                    "{0}×{0} crops from {1}×{1}{flips}, batch {2}, Adam lr {3} (betas {4}, \
                     0.999), {5} epochs + {6} of linear decay, {7} steps an epoch; {8} GAN loss, \
                     λ_A {9}, λ_B {10}, λ_identity {11}, pool {12}",
                    t.crop_size,
                    t.load_size,
                    t.batch,
                    t.lr,
                    t.beta1,
                    t.n_epochs,
                    t.n_epochs_decay,
                    run.batches_per_epoch,
                    t.gan_mode,
                    t.lambda_a,
                    t.lambda_b,
                    t.lambda_identity,
                    t.pool_size
                ),
            ),
            ("device".into(), describe_device(trainer.model.device)),
        ];
        let page = RunPage {
            title: format!("CycleGAN: {}", dir.display()),
            facts,
            step: trainer.step(),
            total_steps: Some(trainer.total_steps()),
            running: true,
            checkpoint: PageLog::checkpoint_in(dir, trainer.step()),
            samples: Some((
                "samples".into(),
                format!(
                    "a row for each of {SAMPLE_ROWS} fixed image pairs (centre crops): real_A | \
                     fake_B = G_A(real_A) | rec_A = G_B(fake_B) | real_B | fake_A = \
                     G_B(real_B) | rec_B = G_A(fake_A)"
                ),
            )),
            figures: Vec::new(),
            config: std::fs::read_to_string(dir.join("config.json")).ok(),
        };
        Ok(CycleLog {
            log: PageLog::open(dir, trainer.step(), tensorboard, page)?,
            gpu_clock: GpuClock::start(trainer.model.device, trainer.step()),
        })
    }

    /// Feeds one trainer event to the log.
    pub fn on_event(&mut self, event: &Event) {
        match *event {
            Event::Step { step, .. } => self.log.page.step = step,
            Event::Epoch { .. } => {}
            Event::Log(line) => {
                let values = self.scalars(line);
                let pairs: Vec<(&str, f64)> =
                    values.iter().map(|(t, v)| (t.as_str(), *v)).collect();
                self.log.scalars(line.step, &pairs);
            }
            Event::Sample(path) => self.log.sample(path),
            Event::Checkpoint(_) => self.log.checkpoint(),
        }
    }

    /// Every scalar of a log line: `loss/D_A`, ... (the repository's eight names), the
    /// learning rate, images/s, and GPU ms per step when the profiler times dispatches.
    fn scalars(&mut self, line: &LogLine) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = line
            .losses
            .named()
            .map(|(name, v)| (format!("loss/{name}"), f64::from(v)))
            .collect();
        out.push(("lr".into(), line.lr));
        out.push(("perf/images_per_s".into(), line.images_per_s));
        if let Some(ms) = self.gpu_clock.ms_per_step(line.step) {
            out.push(("perf/gpu_ms_per_step".into(), ms));
        }
        out
    }

    /// At the end of a run, or after an error: the page marked as no longer training.
    pub fn finish(&mut self, step: u64) {
        self.log.finish(step);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_forced_run_replaces_what_the_run_log_wrote() {
        for layout in [
            atelier_cyclegan::trainer::RUN_LAYOUT,
            atelier_gan::trainer::RUN_LAYOUT,
        ] {
            for file in atelier_runlog::FILES {
                assert!(layout.files.contains(&file), "{file} is not in {layout:?}");
            }
        }
    }
}
