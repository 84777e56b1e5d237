//! The layout of a DCGAN checkpoint (RUN_DIR/checkpoint.safetensors):
//!
//! | keys | what |
//! | --- | --- |
//! | `netG.main.*`, `netD.main.*` | the two models' state_dicts, PyTorch's names |
//! | `optim.netG.<param>.exp_avg`, `.exp_avg_sq`, `optim.netG.step` (and netD) | Adam's state |
//! | `trainer.step`, `trainer.epoch`, `trainer.batch_index`, `trainer.rng_position` | where the run is |
//! | metadata `config` | RUN_DIR/config.json's [`RunConfig`] |
//!
//! In PyTorch: `sd = safetensors.torch.load_file(f)`, then
//! `netG.load_state_dict({k[5:]: v for k, v in sd.items() if k.startswith("netG.")})`.

use std::path::Path;

use atelier_nn::{Checkpoint, Init, Module};
use atelier_tensor::Device;

use super::config::RunConfig;
use super::error::{Result, TrainError};
use crate::model::Generator;
use crate::step::Dcgan;

pub const NET_G: &str = "netG";
pub const NET_D: &str = "netD";
pub const OPTIM_G: &str = "optim.netG";
pub const OPTIM_D: &str = "optim.netD";
pub const FORMAT: &str = "atelier-dcgan-1";

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

/// Writes the models, both optimizers, the trainer state and the config (temp file + rename).
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
    ck.set_metadata("format", FORMAT);
    ck.set_metadata("config", config.to_json());
    ck.save(path)?;
    Ok(())
}

/// The run config stored in a checkpoint's metadata.
pub fn config_of(ck: &Checkpoint, path: &Path) -> Result<RunConfig> {
    let json = crate::run::config_json(ck, path, "atelier gan train")?;
    RunConfig::from_json(json).map_err(|e| TrainError::BadRun {
        path: path.to_path_buf(),
        message: format!("checkpoint config: {e}"),
    })
}

/// Restores models, optimizers and trainer state into `model` (built from the same config).
pub fn load_into(ck: &Checkpoint, model: &mut Dcgan) -> Result<TrainerState> {
    ck.load_module(NET_G, &model.g)?;
    ck.load_module(NET_D, &model.d)?;
    let (ng, nd) = (names(&model.g), names(&model.d));
    ck.load_adam(OPTIM_G, &ng, &mut model.opt_g)?;
    ck.load_adam(OPTIM_D, &nd, &mut model.opt_d)?;
    let int = |k: &str| ck.int(k).map(|v| v.max(0) as u64);
    Ok(TrainerState {
        step: int("trainer.step")?,
        epoch: int("trainer.epoch")?,
        batch_index: int("trainer.batch_index")?,
        rng_position: int("trainer.rng_position")?,
    })
}

/// A generator restored from a checkpoint, with the run it came from.
pub struct LoadedGenerator {
    pub g: Generator,
    pub run: RunConfig,
    /// Training steps it had when saved.
    pub step: u64,
}

/// The generator of a checkpoint, on `device`, with the run's config and step.
pub fn load_generator(path: &Path, device: Device) -> Result<LoadedGenerator> {
    let ck = Checkpoint::load(path)?;
    let run = config_of(&ck, path)?;
    let g = Generator::new(&mut Init::new(device, 0), run.model);
    ck.load_module(NET_G, &g)?;
    let step = ck.int("trainer.step")?.max(0) as u64;
    Ok(LoadedGenerator { g, run, step })
}
