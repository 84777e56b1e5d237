//! `atelier gan train`: trains a DCGAN into a run folder (see `atelier_gan::trainer` for what
//! the folder holds), with a progress bar. Ctrl-C writes a checkpoint and exits cleanly (a
//! second Ctrl-C exits at once); `--resume RUN_DIR` carries on from the last checkpoint.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use atelier_gan::trainer::{Event, LogLine, Outcome, TrainConfig, Trainer};

use crate::training;

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
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["data", "out"])]
    resume: Option<PathBuf>,
    /// 32, 64 or 128.
    #[arg(long, default_value_t = 64)]
    image_size: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Steps in all (default: --epochs).
    #[arg(long)]
    steps: Option<u64>,
    /// Passes over the data (default 5 when --steps is not given).
    #[arg(long, conflicts_with = "steps")]
    epochs: Option<u64>,
    #[arg(long, default_value_t = 2e-4)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 64)]
    ngf: usize,
    #[arg(long, default_value_t = 64)]
    ndf: usize,
    #[arg(long, default_value_t = 100)]
    nz: usize,
    /// cpu, gpu or auto.
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
    /// Read the losses back and log them every N steps (the only read-back of the loop).
    #[arg(long, default_value_t = 50)]
    log_every: u64,
    /// Write samples/step_NNNNNN.png every N steps.
    #[arg(long, default_value_t = 500)]
    sample_every: u64,
    /// Write checkpoint.safetensors every N steps.
    #[arg(long, default_value_t = 500)]
    checkpoint_every: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut trainer = match &args.resume {
        Some(dir) => {
            let device = training::device_flag_given().then_some(args.device.as_str());
            let t = Trainer::resume(dir, args.steps, device)
                .with_context(|| format!("resuming {}", dir.display()))?;
            println!(
                "resuming {} at step {} of {}",
                dir.display(),
                t.step(),
                t.total_steps()
            );
            t
        }
        None => {
            let config = TrainConfig {
                data: args.data.clone().expect("clap requires --data"),
                image_size: args.image_size,
                batch: args.batch,
                steps: args.steps,
                epochs: args.epochs,
                lr: args.lr,
                seed: args.seed,
                nz: args.nz,
                ngf: args.ngf,
                ndf: args.ndf,
                device: args.device.clone(),
                log_every: args.log_every,
                sample_every: args.sample_every,
                checkpoint_every: args.checkpoint_every,
            };
            let out = args.out.clone().expect("clap requires --out");
            training::refuse_existing_run(&out, "atelier gan train")?;
            Trainer::create(config, &out)?
        }
    };
    let run = &trainer.run;
    println!(
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
        training::describe_device(trainer.model.device),
        trainer.dir().display(),
        run.total_steps,
        run.batches_per_epoch
    );

    let stop = training::stop_on_ctrl_c()?;
    let bar = training::step_bar(trainer.total_steps(), trainer.step());
    let say = training::say;
    let started = Instant::now();
    let first_step = trainer.step();
    let outcome = trainer.run(&stop, &mut |event| match event {
        Event::Step { step, .. } => bar.set_position(step),
        Event::Log(line) => {
            bar.set_message(short(line));
            say(
                &bar,
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
    });
    bar.finish_and_clear();
    let outcome = outcome?;
    let steps = trainer.step() - first_step;
    let secs = started.elapsed().as_secs_f64();
    let dir = trainer.dir().display();
    match outcome {
        Outcome::Finished => println!(
            "finished: {} steps in {secs:.1} s ({:.1} images/s); samples in {dir}/samples, \
             checkpoint {dir}/checkpoint.safetensors, losses {dir}/losses.png",
            trainer.step(),
            (steps * trainer.run.train.batch as u64) as f64 / secs.max(1e-9)
        ),
        Outcome::Stopped => println!(
            "stopped at step {} of {}; checkpoint written. Continue with: atelier gan train \
             --resume {dir}",
            trainer.step(),
            trainer.total_steps()
        ),
    }
    Ok(())
}

fn short(l: &LogLine) -> String {
    let v = &l.values;
    format!(
        "Loss_D {:.3}  Loss_G {:.3}  D(x) {:.3}  D(G(z)) {:.3}  {:.0} img/s",
        v.loss_d, v.loss_g, v.d_x, v.d_g_z1, l.images_per_s
    )
}

fn long(l: &LogLine) -> String {
    let v = &l.values;
    format!(
        "Loss_D: {:.4}  Loss_G: {:.4}  D(x): {:.4}  D(G(z)): {:.4} / {:.4}  {:.1} images/s",
        v.loss_d, v.loss_g, v.d_x, v.d_g_z1, v.d_g_z2, l.images_per_s
    )
}
