//! The layout of a CycleGAN checkpoint (RUN_DIR/checkpoint.safetensors):
//!
//! | keys | what |
//! | --- | --- |
//! | `netG_A.model.*`, `netG_B.*`, `netD_A.*`, `netD_B.*` | the four state_dicts, the repository's keys |
//! | `optim.G.netG_A.model.1.weight.exp_avg`, `.exp_avg_sq`, ..., `optim.G.step` (and `optim.D`) | Adam's state |
//! | `pool.fake_A.0` … `pool.fake_B.49` | the image pools' contents, `[1, C, H, W]` each |
//! | `trainer.step`, `trainer.epoch`, `trainer.batch_index` | where the run is |
//! | metadata `config` | RUN_DIR/config.json's [`RunConfig`]; `format` = `atelier-cyclegan-1` |
//!
//! In PyTorch: `sd = safetensors.torch.load_file(f)`, then
//! `netG_A.load_state_dict({k[7:]: v for k, v in sd.items() if k.startswith("netG_A.")})`.

use std::path::Path;

use atelier_nn::{Checkpoint, Module};

use super::config::RunConfig;
use super::error::Result;
use crate::step::CycleGan;

pub const OPTIM_G: &str = "optim.G";
pub const OPTIM_D: &str = "optim.D";
pub const POOL_A: &str = "pool.fake_A";
pub const POOL_B: &str = "pool.fake_B";
pub const FORMAT: &str = atelier_nn::kind::CYCLEGAN;

/// Where a run is: steps done and the data position of the next batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrainerState {
    pub step: u64,
    pub epoch: u64,
    pub batch_index: u64,
}

/// The names of an optimizer's parameters, `netG_A.model.1.weight`, ..., in its order.
fn param_names(nets: &[(&str, &dyn Module)]) -> Vec<String> {
    nets.iter()
        .flat_map(|(net, m)| {
            m.named_parameters()
                .into_iter()
                .map(move |(n, _)| format!("{net}.{n}"))
        })
        .collect()
}

fn g_names(model: &CycleGan) -> Vec<String> {
    let n = model.nets();
    param_names(&n[..2])
}

fn d_names(model: &CycleGan) -> Vec<String> {
    let n = model.nets();
    param_names(&n[2..])
}

/// Every tensor a checkpoint stores from the model (the four networks and both Adams'
/// moments), named as in the file, for the finiteness check before it is written.
pub fn state_tensors(model: &CycleGan) -> Vec<(String, atelier_tensor::Tensor)> {
    let mut t: Vec<(String, atelier_tensor::Tensor)> = model
        .nets()
        .into_iter()
        .flat_map(|(net, m)| {
            m.named_tensors()
                .into_iter()
                .map(move |(n, x)| (format!("{net}.{n}"), x))
        })
        .collect();
    for (prefix, names, opt) in [
        (OPTIM_G, g_names(model), &model.opt_g),
        (OPTIM_D, d_names(model), &model.opt_d),
    ] {
        let (_, exp_avg, exp_avg_sq) = opt.state();
        for ((name, a), b) in names.iter().zip(exp_avg).zip(exp_avg_sq) {
            t.push((format!("{prefix}.{name}.exp_avg"), a.clone()));
            t.push((format!("{prefix}.{name}.exp_avg_sq"), b.clone()));
        }
    }
    t
}

/// Writes the networks, both optimizers, both pools, the trainer state and the config
/// (temp file + rename).
pub fn save(path: &Path, model: &CycleGan, state: &TrainerState, run: &RunConfig) -> Result<()> {
    let mut ck = Checkpoint::new();
    for (name, net) in model.nets() {
        ck.put_module(name, net);
    }
    ck.put_adam(OPTIM_G, &g_names(model), &model.opt_g);
    ck.put_adam(OPTIM_D, &d_names(model), &model.opt_d);
    for (prefix, pool) in [(POOL_A, &model.pool_a), (POOL_B, &model.pool_b)] {
        for (i, image) in pool.images().iter().enumerate() {
            ck.put_tensor(&format!("{prefix}.{i}"), image);
        }
    }
    ck.put_int("trainer.step", state.step as i64);
    ck.put_int("trainer.epoch", state.epoch as i64);
    ck.put_int("trainer.batch_index", state.batch_index as i64);
    ck.set_metadata("format", FORMAT);
    ck.set_metadata("config", run.to_json());
    ck.save(path)?;
    Ok(())
}

/// Restores networks, optimizers, pools and the trainer state into `model` (built from the
/// checkpoint's own config).
pub fn load_into(ck: &Checkpoint, model: &mut CycleGan) -> Result<TrainerState> {
    for (name, net) in model.nets() {
        ck.load_module(name, net)?;
    }
    let (g, d) = (g_names(model), d_names(model));
    ck.load_adam(OPTIM_G, &g, &mut model.opt_g)?;
    ck.load_adam(OPTIM_D, &d, &mut model.opt_d)?;
    let device = model.device;
    for (prefix, pool) in [(POOL_A, &mut model.pool_a), (POOL_B, &mut model.pool_b)] {
        let mut images = Vec::new();
        while ck.contains(&format!("{prefix}.{}", images.len())) {
            images.push(ck.tensor(&format!("{prefix}.{}", images.len()), device)?);
        }
        pool.restore(images);
    }
    let int = |k: &str| ck.int(k).map(|v| v.max(0) as u64);
    Ok(TrainerState {
        step: int("trainer.step")?,
        epoch: int("trainer.epoch")?,
        batch_index: int("trainer.batch_index")?,
    })
}

/// The run config stored in a checkpoint's metadata.
pub fn config_of(ck: &Checkpoint, path: &Path) -> Result<RunConfig> {
    let json = atelier_gan::run::config_json(ck, path, "atelier cyclegan train")?;
    RunConfig::from_json(json).map_err(|e| super::error::CycleError::BadRun {
        path: path.to_path_buf(),
        message: format!("checkpoint config is not a CycleGAN run's: {e}"),
    })
}
