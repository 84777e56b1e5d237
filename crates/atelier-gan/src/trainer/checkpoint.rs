//! The layout of a DCGAN checkpoint (RUN_DIR/checkpoint.safetensors):
//!
//! | keys | what |
//! | --- | --- |
//! | `netG.main.*`, `netD.main.*` | the two models' state_dicts, PyTorch's names |
//! | `optim.netG.<param>.exp_avg`, `.exp_avg_sq`, `optim.netG.step` (and netD) | Adam's state |
//! | `trainer.step`, `trainer.epoch`, `trainer.batch_index`, `trainer.rng_position` | where the run is |
//! | `netG_ema.main.*`, `ema.updates` | G's moving average (a state_dict like netG's), with `--ema` |
//! | `ada.p`, `ada.signs`, `ada.last_rt`, `ada.seen` | the adaptive augmentation probability and its running sign sum, with `--ada` |
//! | metadata `config` | RUN_DIR/config.json's [`RunConfig`] |
//!
//! In PyTorch: `sd = safetensors.torch.load_file(f)`, then
//! `netG.load_state_dict({k[5:]: v for k, v in sd.items() if k.startswith("netG.")})`.

use std::path::Path;

use atelier_nn::{Checkpoint, Init, Module};
use atelier_tensor::{Device, Tensor};

use super::config::RunConfig;
use super::error::{Result, TrainError};
use crate::model::Generator;
use crate::step::Dcgan;

pub const NET_G: &str = "netG";
pub const NET_D: &str = "netD";
pub const NET_G_EMA: &str = "netG_ema";
pub const OPTIM_G: &str = "optim.netG";
pub const OPTIM_D: &str = "optim.netD";
pub const FORMAT: &str = atelier_nn::kind::DCGAN;

/// Where a run is: steps done, the data position of the next batch, and how many noise
/// batches have been drawn (noise for step k comes from a generator seeded by (seed, k), so
/// this equals the step; it is saved so the format does not depend on that choice).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrainerState {
    pub step: u64,
    pub epoch: u64,
    pub batch_index: u64,
    pub rng_position: u64,
}

fn names(m: &dyn Module) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

/// Every tensor a checkpoint holds, by key: both models and both optimizers' moments.
pub fn state_tensors(model: &Dcgan) -> Vec<(String, atelier_tensor::Tensor)> {
    let mut t = Vec::new();
    for (prefix, m) in [(NET_G, &model.g as &dyn Module), (NET_D, &model.d)] {
        t.extend(
            m.named_tensors()
                .into_iter()
                .map(|(n, x)| (format!("{prefix}.{n}"), x)),
        );
    }
    for (prefix, m, opt) in [
        (OPTIM_G, &model.g as &dyn Module, &model.opt_g),
        (OPTIM_D, &model.d, &model.opt_d),
    ] {
        let (_, exp_avg, exp_avg_sq) = opt.state();
        for ((name, a), b) in names(m).iter().zip(exp_avg).zip(exp_avg_sq) {
            t.push((format!("{prefix}.{name}.exp_avg"), a.clone()));
            t.push((format!("{prefix}.{name}.exp_avg_sq"), b.clone()));
        }
    }
    t
}

/// Writes the models, both optimizers, the trainer state and the config (atomically).
pub fn save(path: &Path, model: &Dcgan, state: &TrainerState, config: &RunConfig) -> Result<()> {
    let mut ck = Checkpoint::new();
    ck.put_module(NET_G, &model.g);
    ck.put_module(NET_D, &model.d);
    ck.put_adam(OPTIM_G, &names(&model.g), &model.opt_g);
    ck.put_adam(OPTIM_D, &names(&model.d), &model.opt_d);
    ck.put_int("trainer.step", state.step as i64);
    ck.put_int("trainer.epoch", state.epoch as i64);
    ck.put_int("trainer.batch_index", state.batch_index as i64);
    ck.put_int("trainer.rng_position", state.rng_position as i64);
    if let Some(ema) = &model.ema {
        ck.put_module(NET_G_EMA, &ema.g);
        ck.put_int("ema.updates", ema.updates as i64);
    }
    if let Some(ada) = &model.ada {
        ck.put_tensor("ada.p", &ada.p);
        ck.put_tensor("ada.signs", &ada.signs);
        ck.put_tensor("ada.last_rt", &ada.last_rt);
        ck.put_int("ada.seen", ada.seen as i64);
    }
    ck.set_metadata("format", FORMAT);
    ck.set_metadata("config", config.to_json());
    ck.save(path)?;
    Ok(())
}

/// The run config stored in a checkpoint's metadata, checked (a model it describes must be one
/// that can be built).
pub fn config_of(ck: &Checkpoint, path: &Path) -> Result<RunConfig> {
    let json = ck.metadata("config").ok_or_else(|| TrainError::BadRun {
        path: path.to_path_buf(),
        message: "checkpoint has no `config` metadata (not written by atelier gan train?)".into(),
    })?;
    let run = RunConfig::from_json(json).map_err(|e| TrainError::BadRun {
        path: path.to_path_buf(),
        message: format!("checkpoint config: {e}"),
    })?;
    run.model.validate().map_err(|e| TrainError::BadRun {
        path: path.to_path_buf(),
        message: format!("checkpoint config: {e}"),
    })?;
    Ok(run)
}

/// Restores models, optimizers and trainer state into `model` (built from the same config).
pub fn load_into(ck: &Checkpoint, model: &mut Dcgan) -> Result<TrainerState> {
    ck.load_module(NET_G, &model.g)?;
    ck.load_module(NET_D, &model.d)?;
    let (ng, nd) = (names(&model.g), names(&model.d));
    ck.load_adam(OPTIM_G, &ng, &mut model.opt_g)?;
    ck.load_adam(OPTIM_D, &nd, &mut model.opt_d)?;
    let int = |k: &str| ck.int(k).map(|v| v.max(0) as u64);
    if let Some(ema) = &mut model.ema {
        ck.load_module(NET_G_EMA, &ema.g)?;
        ema.updates = int("ema.updates")?;
    }
    if let Some(ada) = &mut model.ada {
        let device = ada.p.device();
        let scalar = |k: &str| -> Result<Tensor> { Ok(ck.tensor(k, device)?.reshape(&[1])) };
        ada.p = scalar("ada.p")?;
        ada.signs = scalar("ada.signs")?;
        ada.last_rt = scalar("ada.last_rt")?;
        ada.seen = int("ada.seen")?;
    }
    Ok(TrainerState {
        step: int("trainer.step")?,
        epoch: int("trainer.epoch")?,
        batch_index: int("trainer.batch_index")?,
        rng_position: int("trainer.rng_position")?,
    })
}

/// Whether the checkpoint holds a module under `prefix.`.
pub fn has_module(ck: &Checkpoint, prefix: &str) -> bool {
    let p = format!("{prefix}.");
    ck.keys().any(|k| k.starts_with(&p))
}

/// A generator restored from a checkpoint, with the run it came from.
pub struct LoadedGenerator {
    pub g: Generator,
    pub run: RunConfig,
    /// Training steps it had when saved.
    pub step: u64,
    /// Whether `g` is the moving average (`netG_ema`) rather than the trained G (`netG`).
    pub ema: bool,
}

impl LoadedGenerator {
    /// Which weights these are, in words.
    pub fn describe(&self) -> String {
        if self.ema {
            let beta = self.run.train.ema.unwrap_or(f64::NAN);
            format!("the moving average of G (netG_ema, decay {beta})")
        } else {
            "the trained G (netG)".into()
        }
    }
}

/// The generator of a checkpoint, on `device`, with the run's config and step: its moving
/// average (`netG_ema`) when `prefer_ema` and the checkpoint has one, else `netG`.
pub fn load_generator(path: &Path, device: Device, prefer_ema: bool) -> Result<LoadedGenerator> {
    let ck = Checkpoint::load(path)?;
    ck.expect_kind(FORMAT)?;
    let run = config_of(&ck, path)?;
    run.model
        .check_generation_fits(device)
        .map_err(|error| TrainError::TooLarge {
            error: Box::new(error),
            hint: "this generator is too wide for this device",
        })?;
    let g = Generator::new(&mut Init::new(device, 0), run.model);
    let ema = prefer_ema && has_module(&ck, NET_G_EMA);
    ck.load_module(if ema { NET_G_EMA } else { NET_G }, &g)?;
    let step = ck.int("trainer.step")?.max(0) as u64;
    Ok(LoadedGenerator { g, run, step, ema })
}

/// Fine-tuning: loads another run's G and D (and G's average, when both have one; else the
/// average starts as a copy of the loaded G) into `model`, whose optimizers stay new. The two
/// architectures must match; a mismatch is an error that names each difference.
pub fn init_from(path: &Path, model: &mut Dcgan) -> Result<RunConfig> {
    let ck = Checkpoint::load(path)?;
    let source = config_of(&ck, path)?;
    let (a, b) = (source.model, model.config);
    let mut diffs = Vec::new();
    for (what, x, y) in [
        ("image size", a.image_size, b.image_size),
        ("channels", a.channels, b.channels),
        ("nz", a.nz, b.nz),
        ("ngf", a.ngf, b.ngf),
        ("ndf", a.ndf, b.ndf),
    ] {
        if x != y {
            diffs.push(format!("{what} {x} there, {y} here"));
        }
    }
    if !diffs.is_empty() {
        return Err(TrainError::BadRun {
            path: path.to_path_buf(),
            message: format!(
                "--init-from: the checkpoint's DCGAN differs from this run's: {} (give the \
                 same --image-size, --nz, --ngf, --ndf, and data with as many channels)",
                diffs.join(", ")
            ),
        });
    }
    ck.load_module(NET_G, &model.g)?;
    ck.load_module(NET_D, &model.d)?;
    if let Some(ema) = &mut model.ema {
        if has_module(&ck, NET_G_EMA) {
            ck.load_module(NET_G_EMA, &ema.g)?;
        } else {
            crate::ema::copy_state(&model.g, &ema.g);
        }
    }
    Ok(source)
}
