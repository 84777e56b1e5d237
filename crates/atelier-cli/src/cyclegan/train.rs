//! `atelier cyclegan train`: trains a CycleGAN into a run folder (see
//! `atelier_cyclegan::trainer` for what the folder holds, and `runlog` for the TensorBoard
//! events and the run page beside it), with a progress bar showing the eight losses. The
//! folder is locked while the run trains, and a new run refuses a folder that holds anything
//! (`--force` to start over in it). SIGINT (Ctrl-C), SIGTERM and SIGHUP write a checkpoint and
//! exit with 130, 143 and 129 (a second signal exits at once); `--resume RUN_DIR` carries on
//! from the last checkpoint. Defaults are the repository's
//! (`python train.py --model cycle_gan`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use atelier_cyclegan::trainer::{Event, LogLine, Outcome, TrainConfig, Trainer};
use atelier_cyclegan::{GanMode, Losses};
use indicatif::ProgressBar;

use super::runlog::CycleLog;
use crate::exit::Stopped;
use crate::signals::Stop;
use crate::training;

#[derive(clap::Args)]
pub struct Args {
    /// Domain A: a folder of png/jpg/bmp/webp images (any sizes), builtin:mondrian,
    /// builtin:kandinsky or builtin:rothko (optionally :COUNT), or idx:PATH.
    #[arg(long, required_unless_present = "resume")]
    data_a: Option<String>,
    /// Domain B, as --data-a.
    #[arg(long, required_unless_present = "resume")]
    data_b: Option<String>,
    /// The run folder to create (config.json, samples/, checkpoint, metrics).
    #[arg(long, value_name = "RUN_DIR", required_unless_present = "resume")]
    out: Option<PathBuf>,
    /// Continue the run in RUN_DIR from its checkpoint (its config; --steps and --device may
    /// change).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["data_a", "data_b", "out", "force"])]
    resume: Option<PathBuf>,
    /// Start a new run in a --out folder that is not empty: the files a run writes there
    /// (checkpoint, config, samples, metrics, run page, event files) are replaced, other files
    /// are kept.
    #[arg(long)]
    force: bool,
    /// Images are loaded at this size (both sides)...
    #[arg(long, default_value_t = 286)]
    load_size: usize,
    /// ...then randomly cropped to this size.
    #[arg(long, default_value_t = 256)]
    crop_size: usize,
    /// No random left-right flips.
    #[arg(long)]
    no_flip: bool,
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Epochs at the starting learning rate.
    #[arg(long, default_value_t = 100)]
    n_epochs: u64,
    /// Epochs of linear decay to zero after them.
    #[arg(long, default_value_t = 100)]
    n_epochs_decay: u64,
    /// Stop after this many steps in all (default: all the epochs).
    #[arg(long)]
    steps: Option<u64>,
    #[arg(long, default_value_t = 2e-4)]
    lr: f64,
    /// Adam's beta1 (beta2 is 0.999).
    #[arg(long, default_value_t = 0.5)]
    beta1: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Generator width.
    #[arg(long, default_value_t = 64)]
    ngf: usize,
    /// Discriminator width.
    #[arg(long, default_value_t = 64)]
    ndf: usize,
    /// Residual blocks per generator (default: 9 for crops of 256 px and more, else 6).
    #[arg(long)]
    n_blocks: Option<usize>,
    /// Stride-2 layers of the PatchGAN discriminator (3: 70×70 patches).
    #[arg(long, default_value_t = 3)]
    n_layers_d: usize,
    /// Weight of the cycle loss A → B → A.
    #[arg(long, default_value_t = 10.0)]
    lambda_a: f32,
    /// Weight of the cycle loss B → A → B.
    #[arg(long, default_value_t = 10.0)]
    lambda_b: f32,
    /// Identity loss weight relative to the cycle weights (0: none).
    #[arg(long, default_value_t = 0.5)]
    lambda_identity: f32,
    /// lsgan (least squares) or vanilla (cross-entropy with logits).
    #[arg(long, default_value = "lsgan", value_parser = GanMode::from_name)]
    gan_mode: GanMode,
    /// Past fakes the discriminators also see (0: none).
    #[arg(long, default_value_t = 50)]
    pool_size: usize,
    /// cpu (the fast CPU device), reference (the plain CPU reference), gpu or auto (a hardware
    /// GPU, else the fast CPU device).
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
    /// Read the losses back and log them every N steps (the only read-back of the loop).
    #[arg(long, default_value_t = 100)]
    log_every: u64,
    /// Write samples/step_NNNNNN.png every N steps.
    #[arg(long, default_value_t = 1000)]
    sample_every: u64,
    /// Write checkpoint.safetensors every N steps.
    #[arg(long, default_value_t = 5000)]
    checkpoint_every: u64,
    /// Write no TensorBoard event files (scalars.csv and the run page index.html are always
    /// written).
    #[arg(long)]
    no_tensorboard: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut trainer = match &args.resume {
        Some(dir) => {
            let device = training::device_flag_given().then_some(args.device.as_str());
            // its errors name the run folder or the checkpoint
            let t = Trainer::resume(dir, args.steps, device)?;
            if t.step() >= t.total_steps() && args.steps.is_none() {
                training::out(&format!(
                    "{} is already finished at step {}; give --steps N (N > {}) to train further",
                    dir.display(),
                    t.step(),
                    t.step()
                ));
                return Ok(());
            }
            training::out(&format!(
                "resuming {} at step {} of {}",
                dir.display(),
                t.step(),
                t.total_steps()
            ));
            t
        }
        None => {
            let config = TrainConfig {
                data_a: args.data_a.clone().expect("clap requires --data-a"),
                data_b: args.data_b.clone().expect("clap requires --data-b"),
                load_size: args.load_size,
                crop_size: args.crop_size,
                flip: !args.no_flip,
                batch: args.batch,
                n_epochs: args.n_epochs,
                n_epochs_decay: args.n_epochs_decay,
                steps: args.steps,
                lr: args.lr,
                beta1: args.beta1,
                seed: args.seed,
                ngf: args.ngf,
                ndf: args.ndf,
                n_blocks: args.n_blocks,
                n_layers_d: args.n_layers_d,
                lambda_a: args.lambda_a,
                lambda_b: args.lambda_b,
                lambda_identity: args.lambda_identity,
                gan_mode: args.gan_mode,
                pool_size: args.pool_size,
                device: args.device.clone(),
                log_every: args.log_every,
                sample_every: args.sample_every,
                checkpoint_every: args.checkpoint_every,
            };
            let out = args.out.clone().expect("clap requires --out");
            Trainer::create(config, &out, args.force)?
        }
    };
    for note in trainer.folder_notes() {
        eprintln!("note: {note}");
    }
    let run = &trainer.run;
    let m = &run.model;
    println!(
        "A       {}\nB       {}\nmodel   CycleGAN: ResnetGenerator ngf {}, {} blocks; PatchGAN ndf {}, \
         {} layers; {} → {} channels\ntrain   crops {}×{} from {}, batch {}, lr {} ({} + {} \
         decay epochs of {} steps), {} GAN loss, λ_A {} λ_B {} λ_idt {}, pool {}\n\
         device  {}\nrun     {} ({} steps)",
        run.dataset_a,
        run.dataset_b,
        m.ngf,
        m.n_blocks,
        m.ndf,
        m.n_layers_d,
        m.nc_a,
        m.nc_b,
        run.train.crop_size,
        run.train.crop_size,
        run.train.load_size,
        run.train.batch,
        run.train.lr,
        run.train.n_epochs,
        run.train.n_epochs_decay,
        run.batches_per_epoch,
        run.train.gan_mode,
        run.train.lambda_a,
        run.train.lambda_b,
        run.train.lambda_identity,
        run.train.pool_size,
        training::describe_device(trainer.model.device),
        trainer.dir().display(),
        run.total_steps,
    );

    let mut log = CycleLog::open(&trainer, !args.no_tensorboard)?;
    let stop = Stop::install("writing a checkpoint").context("installing signal handlers")?;
    let bar = training::step_bar(trainer.total_steps(), trainer.step());
    let started = Instant::now();
    let first_step = trainer.step();
    let outcome = trainer.run(stop.flag(), &mut |event| {
        log.on_event(&event);
        report(&bar, event)
    });
    bar.finish_and_clear();
    log.finish(trainer.step());
    summary(&trainer, outcome?, &stop, started, first_step)
}

/// The progress bar's and the terminal's view of a trainer event.
fn report(bar: &ProgressBar, event: Event) {
    match event {
        Event::Step { step, .. } => bar.set_position(step),
        Event::Epoch { epoch, lr } => {
            training::say(bar, format!("epoch {epoch}: learning rate {lr:.7}"))
        }
        Event::Log(line) => {
            bar.set_message(short(&line.losses));
            training::say(
                bar,
                format!(
                    "[{}/{}] {}",
                    line.step,
                    bar.length().unwrap_or(0),
                    long(line)
                ),
            );
        }
        Event::Sample(path) => bar.set_message(format!("wrote {}", path.display())),
        Event::Checkpoint(_) => {}
    }
}

fn summary(
    trainer: &Trainer,
    outcome: Outcome,
    stop: &Stop,
    started: Instant,
    first_step: u64,
) -> anyhow::Result<()> {
    let steps = trainer.step() - first_step;
    let secs = started.elapsed().as_secs_f64();
    let dir = trainer.dir().display();
    match (outcome, stop.received()) {
        (Outcome::Finished, _) => training::out(&format!(
            "finished: {} steps in {secs:.1} s ({:.2} s per step); samples in {dir}/samples, \
             checkpoint {dir}/checkpoint.safetensors, run page {dir}/index.html",
            trainer.step(),
            secs / steps.max(1) as f64
        )),
        (Outcome::Stopped, Some((signal, code))) => {
            training::out(&format!(
                "stopped by {signal} at step {} of {}; checkpoint written. Continue with: \
                 atelier cyclegan train --resume {dir}  (exit code {code})",
                trainer.step(),
                trainer.total_steps()
            ));
            return Err(Stopped { code }.into());
        }
        (Outcome::Stopped, None) => training::out(&format!(
            "stopped at step {} of {}; checkpoint written. Continue with: atelier cyclegan \
             train --resume {dir}",
            trainer.step(),
            trainer.total_steps()
        )),
    }
    Ok(())
}

/// The eight losses in a few characters each, for the bar.
fn short(l: &Losses) -> String {
    l.named()
        .map(|(n, v)| format!("{n} {v:.3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn long(l: &LogLine) -> String {
    format!(
        "epoch {}  {}  {:.2} images/s",
        l.epoch,
        l.losses
            .named()
            .map(|(n, v)| format!("{n}: {v:.4}"))
            .collect::<Vec<_>>()
            .join("  "),
        l.images_per_s
    )
}
