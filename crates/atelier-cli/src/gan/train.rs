//! `atelier gan train`: trains a DCGAN into a run folder (see `atelier_gan::trainer` for what
//! the folder holds), with a progress bar. The folder is locked while the run trains, and a new
//! run refuses a folder that holds anything (`--force` to start over in it). SIGINT (Ctrl-C),
//! SIGTERM and SIGHUP write a checkpoint and exit with 130, 143 and 129 (a second signal exits
//! at once); `--resume RUN_DIR` carries on from the last checkpoint.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use atelier_gan::trainer::{Event, LogLine, Outcome, TrainConfig, Trainer};
use indicatif::{ProgressBar, ProgressStyle};

use super::runlog::GanLog;
use crate::exit::Stopped;
use crate::signals::Stop;

#[derive(clap::Args)]
pub struct Args {
    /// builtin:mondrian, builtin:kandinsky, builtin:rothko (optionally :COUNT), idx:PATH, or a
    /// folder of png/jpg/bmp/webp images.
    #[arg(long, required_unless_present = "resume")]
    data: Option<String>,
    /// The run folder to create (config.json, real.png, samples/, checkpoint, metrics).
    #[arg(long, value_name = "RUN_DIR", required_unless_present = "resume")]
    out: Option<PathBuf>,
    /// Continue the run in RUN_DIR from its checkpoint (its config; --steps and --device may
    /// change).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["data", "out", "force"])]
    resume: Option<PathBuf>,
    /// Start a new run in a --out folder that is not empty: the files a run writes there
    /// (checkpoint, config, samples, metrics) are replaced, other files are kept.
    #[arg(long)]
    force: bool,
    /// 32, 64 or 128.
    #[arg(long, default_value_t = 64, value_parser = crate::args::dcgan_image_size)]
    image_size: usize,
    /// Images per step (at least 2: BatchNorm needs them).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(2..))]
    batch: u64,
    /// Steps in all (default: --epochs).
    #[arg(long)]
    steps: Option<u64>,
    /// Passes over the data (default 5 when --steps is not given).
    #[arg(long, conflicts_with = "steps")]
    epochs: Option<u64>,
    #[arg(long, default_value_t = 2e-4, value_parser = crate::args::positive_f64)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    ngf: u64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    ndf: u64,
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    nz: u64,
    /// cpu (the fast CPU device), reference (the plain CPU reference), gpu or auto (a hardware
    /// GPU, else the fast CPU device).
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
    /// Read the losses back and log them every N steps (the only read-back of the loop).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    log_every: u64,
    /// Write samples/step_NNNNNN.png every N steps.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    sample_every: u64,
    /// Write checkpoint.safetensors every N steps.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: u64,
    /// DiffAugment (Zhao et al. 2020) on every image D sees, real and fake: a comma-separated
    /// list of color (brightness, saturation, contrast), translation (up to 1/8 of the image),
    /// cutout (a square of half its size). For small collections: --diffaug
    /// color,translation,cutout.
    #[arg(long, value_name = "POLICY", default_value = "")]
    diffaug: String,
    /// Adapt DiffAugment's probability p (from 0) to D's overfitting, ADA's rule (Karras et al.
    /// 2020): p rises while more than --ada-target of the real images get a positive logit.
    #[arg(long, requires = "diffaug")]
    ada: bool,
    /// ADA's target for E[sign(D(x))].
    #[arg(long, default_value_t = 0.6, requires = "ada")]
    ada_target: f64,
    /// Steps between ADA's adjustments of p.
    #[arg(long, default_value_t = 4, requires = "ada")]
    ada_interval: u64,
    /// Thousands of images over which p can move from 0 to 1 (ADA: 500).
    #[arg(long, default_value_t = 100.0, requires = "ada")]
    ada_kimg: f64,
    /// Flip the real images left to right at random (doubles a small collection).
    #[arg(long)]
    mirror: bool,
    /// Keep an exponential moving average of G's weights with this decay (e.g. 0.999, with a
    /// warm-up); samples, and `gan sample`, `interpolate` and `eval`, use it.
    #[arg(long, value_name = "BETA")]
    ema: Option<f64>,
    /// Fine-tune: start G and D (and G's average) from this checkpoint of another run, with new
    /// optimizers, on this run's data. The architecture must match.
    #[arg(long, value_name = "CHECKPOINT")]
    init_from: Option<PathBuf>,
    /// Measure SWD against the data every N steps (RUN_DIR/swd.csv and swd.png).
    #[arg(long, value_name = "N")]
    swd_every: Option<u64>,
    /// Images per set for --swd-every (at most the data set's size).
    #[arg(long, default_value_t = 512)]
    swd_images: usize,
    /// Arithmetic of the convolutions: f32 (the default) or f16 (f16 inputs with f32
    /// accumulation on the GPU's matrix units, conv2d's `coop_f16`, where the GPU offers
    /// cooperative matrices; forward and input gradients only, weight gradients stay f32).
    #[arg(long, env = "ATELIER_PRECISION", default_value = "f32", value_parser = crate::args::precision)]
    precision: atelier_kernels::precision::Precision,
    /// Write no TensorBoard event files (scalars.csv and the run page index.html are always
    /// written).
    #[arg(long)]
    no_tensorboard: bool,
}

/// Prints a line without panicking when stdout is gone (a closed terminal after SIGHUP).
fn out(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::args::apply_precision(args.precision);
    let mut trainer = match &args.resume {
        Some(dir) => {
            let device = std::env::args()
                .any(|a| a == "--device" || a.starts_with("--device="))
                .then_some(args.device.as_str());
            // its errors name the run folder or the checkpoint
            let t = Trainer::resume(dir, args.steps, device)?;
            if t.step() >= t.total_steps() && args.steps.is_none() {
                out(&format!(
                    "{} is already finished at step {}; give --steps N (N > {}) to train further",
                    dir.display(),
                    t.step(),
                    t.step()
                ));
                return Ok(());
            }
            out(&format!(
                "resuming {} at step {} of {}",
                dir.display(),
                t.step(),
                t.total_steps()
            ));
            t
        }
        None => {
            let config = TrainConfig {
                data: args.data.clone().expect("clap requires --data"),
                image_size: args.image_size,
                batch: args.batch as usize,
                steps: args.steps,
                epochs: args.epochs,
                lr: args.lr,
                seed: args.seed,
                nz: args.nz as usize,
                ngf: args.ngf as usize,
                ndf: args.ndf as usize,
                device: args.device.clone(),
                log_every: args.log_every,
                sample_every: args.sample_every,
                checkpoint_every: args.checkpoint_every,
                diffaug: args.diffaug.clone(),
                ada: args.ada.then_some(atelier_gan::ada::AdaConfig {
                    target: args.ada_target,
                    interval: args.ada_interval,
                    kimg: args.ada_kimg,
                }),
                mirror: args.mirror,
                ema: args.ema,
                init_from: args.init_from.clone(),
                swd_every: args.swd_every,
                swd_images: args.swd_images,
            };
            let dir = args.out.clone().expect("clap requires --out");
            Trainer::create(config, &dir, args.force)?
        }
    };
    if let Some(note) = crate::args::precision_note(args.precision, trainer.model.device) {
        eprintln!("note: {note}");
    }
    for note in trainer.folder_notes() {
        eprintln!("note: {note}");
    }
    let run = &trainer.run;
    out(&format!(
        "data    {}\nmodel   DCGAN {}×{}, nz {}, ngf {}, ndf {}, {} channel(s); batch {}, lr {}\n\
         device  {}\nrun     {} ({} steps, {} batches per epoch)",
        run.dataset,
        run.model.image_size,
        run.model.image_size,
        run.model.nz,
        run.model.ngf,
        run.model.ndf,
        run.model.channels,
        run.train.batch,
        run.train.lr,
        describe_device(trainer.model.device),
        trainer.dir().display(),
        run.total_steps,
        run.batches_per_epoch
    ));
    if let Some(extras) = describe_extras(&run.train) {
        out(&format!("extras  {extras}"));
    }

    let mut log = GanLog::open(&trainer, !args.no_tensorboard)?;
    let lr = trainer.run.train.lr;
    let stop = Stop::install("writing a checkpoint").context("installing signal handlers")?;

    let bar = ProgressBar::new(trainer.total_steps());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30.cyan/blue} {pos}/{len} steps  {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_position(trainer.step());
    let started = Instant::now();
    let first_step = trainer.step();
    let outcome = trainer.run(stop.flag(), &mut |event| {
        log.on_event(&event, lr);
        report(&bar, event)
    });
    bar.finish_and_clear();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            log.stop();
            return Err(e.into());
        }
    };
    log.finish(&trainer);
    let steps = trainer.step() - first_step;
    let secs = started.elapsed().as_secs_f64();
    let dir = trainer.dir().display();
    match (outcome, stop.received()) {
        (Outcome::Stopped, Some((signal, code))) => {
            out(&format!(
                "stopped by {signal} at step {} of {}; checkpoint written. Continue with: \
                 atelier gan train --resume {dir}  (exit code {code})",
                trainer.step(),
                trainer.total_steps()
            ));
            drop(trainer);
            Err(Stopped { code }.into())
        }
        (Outcome::Finished, _) => {
            out(&format!(
                "finished: {} steps in {secs:.1} s ({:.1} images/s); samples in {dir}/samples, \
                 checkpoint {dir}/checkpoint.safetensors, run page {dir}/index.html",
                trainer.step(),
                (steps * trainer.run.train.batch as u64) as f64 / secs.max(1e-9)
            ));
            Ok(())
        }
        (Outcome::Stopped, None) => {
            out(&format!(
                "stopped at step {} of {}; checkpoint written. Continue with: atelier gan \
                 train --resume {dir}",
                trainer.step(),
                trainer.total_steps()
            ));
            Ok(())
        }
    }
}

/// The progress bar's and the terminal's view of a trainer event.
fn report(bar: &ProgressBar, event: Event) {
    let say = |bar: &ProgressBar, line: String| {
        if bar.is_hidden() {
            out(&line);
        } else {
            bar.println(line);
        }
    };
    match event {
        Event::Step { step, .. } => bar.set_position(step),
        Event::Log(line) => {
            bar.set_message(short(line));
            say(
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

pub(crate) fn describe_device(d: atelier_tensor::Device) -> String {
    match d {
        atelier_tensor::Device::Gpu => {
            let info = &atelier_kernels::gpu().info;
            format!("gpu: {} ({:?})", info.name, info.backend)
        }
        atelier_tensor::Device::Cpu => format!(
            "cpu: the {} ({} threads)",
            atelier_kernels::cpu::cpu_mode(),
            atelier_kernels::cpu::threads()
        ),
    }
}

/// The small-data options in force, in words.
fn describe_extras(t: &TrainConfig) -> Option<String> {
    let mut parts = Vec::new();
    if !t.diffaug.is_empty() {
        match &t.ada {
            Some(a) => parts.push(format!(
                "DiffAugment {} with ADA (target {}, every {} steps, {} kimg)",
                t.diffaug, a.target, a.interval, a.kimg
            )),
            None => parts.push(format!("DiffAugment {}", t.diffaug)),
        }
    }
    if t.mirror {
        parts.push("mirror".into());
    }
    if let Some(b) = t.ema {
        parts.push(format!("EMA of G (decay {b})"));
    }
    if let Some(p) = &t.init_from {
        parts.push(format!("fine-tuning from {}", p.display()));
    }
    if let Some(n) = t.swd_every {
        parts.push(format!("SWD every {n} steps"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn short(l: &LogLine) -> String {
    let v = &l.values;
    format!(
        "Loss_D {:.3}  Loss_G {:.3}  D(x) {:.3}  D(G(z)) {:.3}{}  {:.0} img/s",
        v.loss_d,
        v.loss_g,
        v.d_x,
        v.d_g_z1,
        augment_note(l),
        l.images_per_s
    )
}

/// "  p 0.120  r_t 0.650" when augmenting (and adapting).
fn augment_note(l: &LogLine) -> String {
    let v = &l.values;
    let mut s = String::new();
    if v.aug_p.is_finite() {
        s.push_str(&format!("  p {:.3}", v.aug_p));
    }
    if v.rt.is_finite() {
        s.push_str(&format!("  r_t {:.3}", v.rt));
    }
    s
}

fn long(l: &LogLine) -> String {
    let v = &l.values;
    format!(
        "Loss_D: {:.4}  Loss_G: {:.4}  D(x): {:.4}  D(G(z)): {:.4} / {:.4}{}  {:.1} images/s",
        v.loss_d,
        v.loss_g,
        v.d_x,
        v.d_g_z1,
        v.d_g_z2,
        augment_note(l),
        l.images_per_s
    )
}
