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
//! `netG.load_state_dict({k[5:]: v for k, v in sd.items() if k.startswith("netG.")})`, or
//! `atelier export --format pth` for a .pth file `load_state_dict` takes as it is.
//!
//! [`load_generator`] also reads pytorch/examples' own `netG_epoch_N.pth` (a bare state_dict).

use std::path::Path;

use atelier_nn::{Checkpoint, Init, Module};
use atelier_tensor::{Device, Tensor};

use super::config::RunConfig;
use super::error::{Result, TrainError};
use crate::model::{DcganConfig, Discriminator, Generator};
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

/// The discriminator of a checkpoint written by `atelier gan train`, on `device`.
pub fn load_discriminator(path: &Path, device: Device) -> Result<Discriminator> {
    let ck = Checkpoint::load(path)?;
    let run = config_of(&ck, path)?;
    let d = Discriminator::new(&mut Init::new(device, 0), run.model);
    ck.load_module(NET_D, &d)?;
    Ok(d)
}

/// A generator restored from a checkpoint, with what is known of where it came from.
pub struct LoadedGenerator {
    pub g: Generator,
    /// Its shape: from the run's config, or inferred from a bare state_dict's shapes.
    pub config: DcganConfig,
    /// The run that trained it (atelier checkpoints only).
    pub run: Option<RunConfig>,
    /// Training steps it had when saved (atelier checkpoints only).
    pub step: Option<u64>,
    /// Whether `g` is the moving average (`netG_ema`) rather than the trained G (`netG`).
    pub ema: bool,
}

impl LoadedGenerator {
    /// "after 400 steps on builtin:rothko", or "from a PyTorch state_dict".
    pub fn origin(&self) -> String {
        match (&self.run, self.step) {
            (Some(run), Some(step)) => format!("after {step} steps on {}", run.dataset),
            _ => "from a bare generator state_dict (no training record)".to_string(),
        }
    }

    /// Which weights these are, in words.
    pub fn describe(&self) -> String {
        match (&self.run, self.ema) {
            (Some(run), true) => {
                let beta = run.train.ema.unwrap_or(f64::NAN);
                format!("the moving average of G (netG_ema, decay {beta})")
            }
            (Some(_), false) => "the trained G (netG)".into(),
            (None, _) => "a generator state_dict".into(),
        }
    }
}

/// The generator of a checkpoint, on `device`. Takes what `atelier gan train` writes (netG,
/// netD, optimizers and the run's config), and a bare generator state_dict
/// (`main.0.weight`, ...) in any format: pytorch/examples' `netG_epoch_24.pth` as downloaded,
/// its sizes inferred from the shapes ([`infer_generator_config`]). Of an atelier checkpoint,
/// G's moving average (`netG_ema`) when `prefer_ema` and the run kept one, else `netG`.
pub fn load_generator(path: &Path, device: Device, prefer_ema: bool) -> Result<LoadedGenerator> {
    let ck = Checkpoint::load(path)?;
    let fits = |config: &DcganConfig| {
        config
            .check_generation_fits(device)
            .map_err(|error| TrainError::TooLarge {
                error: Box::new(error),
                hint: "this generator is too wide for this device",
            })
    };
    // another kind of atelier file (a style network, a CycleGAN) says what it is
    ck.expect_kind(FORMAT)?;
    if ck.metadata("config").is_some() {
        let run = config_of(&ck, path)?;
        fits(&run.model)?;
        let g = Generator::new(&mut Init::new(device, 0), run.model);
        let ema = prefer_ema && has_module(&ck, NET_G_EMA);
        ck.load_module(if ema { NET_G_EMA } else { NET_G }, &g)?;
        let step = ck.int("trainer.step")?.max(0) as u64;
        return Ok(LoadedGenerator {
            g,
            config: run.model,
            run: Some(run),
            step: Some(step),
            ema,
        });
    }
    // a bare state_dict, or one under netG. (an atelier checkpoint without its config)
    let prefix = if ck.contains("netG.main.0.weight") {
        NET_G
    } else {
        ""
    };
    let config = infer_generator_config(&ck, prefix, path)?;
    fits(&config)?;
    let g = Generator::new(&mut Init::new(device, 0), config);
    ck.load_module(prefix, &g)?;
    Ok(LoadedGenerator {
        g,
        config,
        run: None,
        step: None,
        ema: false,
    })
}

/// A DCGAN generator's sizes from its state_dict (keys under `prefix`): nz and the first
/// width from `main.0.weight` (`[nz, ngf·2^(s-1), 4, 4]`), the number s of stride-2 stages
/// (hence the image size 4·2^s) from the last transposed convolution's index (`main.{3s}`),
/// and the image channels from its shape (`[ngf, nc, 4, 4]`). Everything else is checked
/// when the weights are loaded.
pub fn infer_generator_config(ck: &Checkpoint, prefix: &str, path: &Path) -> Result<DcganConfig> {
    let key = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let bad = |message: String| TrainError::BadRun {
        path: path.to_path_buf(),
        message: format!("not a DCGAN generator state_dict: {message}"),
    };
    let first = key("main.0.weight");
    if !ck.contains(&first) {
        let keys: Vec<&str> = ck.keys().take(8).collect();
        return Err(bad(format!(
            "no key {first} (the file has {keys:?}...); pytorch/examples' netG_epoch_N.pth has it"
        )));
    }
    let shape0 = ck.shape(&first)?.to_vec();
    let &[nz, width, 4, 4] = shape0.as_slice() else {
        return Err(bad(format!(
            "{first} has shape {shape0:?}, [nz, channels, 4, 4] expected"
        )));
    };
    // transposed convolutions at main.0, main.3, ..., main.{3s}: find the last one
    let mut last = 0;
    while ck.contains(&key(&format!("main.{}.weight", last + 3))) {
        last += 3;
    }
    let stages = last / 3;
    let image_size = 4usize.checked_shl(stages as u32).unwrap_or(0);
    if !DcganConfig::IMAGE_SIZES.contains(&image_size) {
        return Err(bad(format!(
            "{} transposed convolutions (main.0 to main.{last}) do not make 32, 64 or 128 \
             pixel images, the sizes atelier's DCGAN builds",
            stages + 1
        )));
    }
    let ngf = width >> (stages - 1);
    if ngf == 0 || ngf << (stages - 1) != width {
        return Err(bad(format!(
            "{first} has {width} output channels, not ngf·2^{} for any ngf",
            stages - 1
        )));
    }
    let last_key = key(&format!("main.{last}.weight"));
    let last_shape = ck.shape(&last_key)?.to_vec();
    let &[_, channels, 4, 4] = last_shape.as_slice() else {
        return Err(bad(format!(
            "{last_key} has shape {last_shape:?}, [ngf, channels, 4, 4] expected"
        )));
    };
    let config = DcganConfig {
        nz,
        ngf,
        ndf: ngf, // the discriminator is not in the file; unused
        channels,
        image_size,
    };
    config.validate().map_err(bad)?;
    Ok(config)
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
