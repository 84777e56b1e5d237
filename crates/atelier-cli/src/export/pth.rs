//! `atelier export --format pth`: a network as a PyTorch state_dict (torch's zip format).

use anyhow::{Context, bail};
use atelier_gan::trainer::checkpoint::{load_discriminator, load_generator};
use atelier_nn::{Checkpoint, Module};
use atelier_style::TransformerNet;
use atelier_tensor::Device;

use super::{Args, What};

pub fn run(a: &Args) -> anyhow::Result<()> {
    if !a.checkpoint.is_file() {
        bail!("--checkpoint {}: no such file", a.checkpoint.display());
    }
    let ck = Checkpoint::load(&a.checkpoint).context("--checkpoint")?;
    let what = match a.what {
        Some(w) => w,
        None => guess(&ck, &a.checkpoint)?,
    };
    let cyclegan_checkpoint = is_cyclegan_checkpoint(&ck);
    drop(ck); // each network's loader reads the file again, checking it as it needs
    let summary = match what {
        What::NetG => {
            let loaded =
                load_generator(&a.checkpoint, Device::Cpu, false).context("--checkpoint")?;
            Checkpoint::save_pth(&a.out, &loaded.g).context("--out")?;
            let c = loaded.config;
            format!(
                "DCGAN generator, {0}×{0}, nz {1}, ngf {2}, {3} channel(s); {4} tensors",
                c.image_size,
                c.nz,
                c.ngf,
                c.channels,
                loaded.g.named_tensors().len()
            )
        }
        What::NetD => {
            let d = load_discriminator(&a.checkpoint, Device::Cpu).context("--checkpoint")?;
            Checkpoint::save_pth(&a.out, &d).context("--out")?;
            format!("DCGAN discriminator; {} tensors", d.named_tensors().len())
        }
        What::NetGA | What::NetGB => {
            let direction = what.direction().expect("a CycleGAN generator");
            if what == What::NetGB && !cyclegan_checkpoint {
                bail!(
                    "--what netG_B: --checkpoint {} is not a CycleGAN checkpoint with netG_A and \
                     netG_B; leave out --what to write the generator it holds",
                    a.checkpoint.display()
                );
            }
            let loaded =
                atelier_cyclegan::apply::load_generator(&a.checkpoint, direction, Device::Cpu)
                    .context("--checkpoint")?;
            // its parameters under the repository's keys, what latest_net_G_A.pth holds
            Checkpoint::save_pth(&a.out, &loaded.g).context("--out")?;
            format!(
                "{}; {} tensors",
                loaded.describe,
                loaded.g.named_tensors().len()
            )
        }
        What::Transformer => {
            let net = TransformerNet::load(&a.checkpoint, Device::Cpu).context("--checkpoint")?;
            net.save_pth(&a.out).context("--out")?;
            format!(
                "fast-neural-style TransformerNet; {} tensors",
                net.named_parameters().len()
            )
        }
    };
    println!(
        "wrote {} ({summary}): a PyTorch state_dict, torch.load(path, weights_only=True) reads it",
        a.out.display()
    );
    Ok(())
}

/// Whether `ck` is a CycleGAN run's checkpoint (both generators under `netG_A.`, `netG_B.`).
fn is_cyclegan_checkpoint(ck: &Checkpoint) -> bool {
    ck.metadata("format") == Some(atelier_nn::kind::CYCLEGAN)
        || ck.keys().any(|k| k.starts_with("netG_A."))
}

/// What the file holds, from its keys.
fn guess(ck: &Checkpoint, path: &std::path::Path) -> anyhow::Result<What> {
    if ck.contains("netG.main.0.weight") || ck.contains("main.0.weight") {
        Ok(What::NetG)
    } else if ck.contains("conv1.conv2d.weight") {
        Ok(What::Transformer)
    } else if is_cyclegan_checkpoint(ck) || ck.contains("model.1.weight") {
        Ok(What::NetGA)
    } else {
        let keys: Vec<&str> = ck.keys().take(6).collect();
        bail!(
            "--checkpoint {}: neither a DCGAN (main.0.weight), a TransformerNet \
             (conv1.conv2d.weight) nor a CycleGAN generator (netG_A.model.1.weight, \
             model.1.weight); its keys begin {keys:?}",
            path.display()
        )
    }
}
