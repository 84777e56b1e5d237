//! `atelier export --format onnx`: a trained generator or TransformerNet as an ONNX model.

use anyhow::Context;
use atelier_cyclegan::apply::Direction;
use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};
use atelier_nn::{Checkpoint, Module};
use atelier_onnx::Detected;
use atelier_style::TransformerNet;
use atelier_tensor::{Device, Tensor, no_grad};

use super::{Args, What};

pub fn run(a: &Args) -> anyhow::Result<()> {
    let direction = a.what.and_then(What::direction).unwrap_or(Direction::AtoB);
    let (model, weights, what) = atelier_onnx::detect_in(&a.checkpoint, direction)?;
    check_what(a, &what)?;
    let metadata = [
        ("atelier.source", a.checkpoint.display().to_string()),
        ("atelier.input", model.doc.clone()),
    ];
    let proto = atelier_onnx::export(&model, &weights, &metadata)?;
    atelier_onnx::save(&proto, &a.out)?;
    let graph = proto.graph.as_ref().expect("export writes a graph");
    if let Detected::CycleGan { direction, config } = &what {
        let net = direction.map_or("the file's one generator", |d| d.net());
        println!(
            "{net}: ResnetGenerator {} → {} channels, ngf {}, {} blocks",
            config.input_nc, config.output_nc, config.ngf, config.n_blocks
        );
    }
    println!(
        "wrote {}: {} ({} nodes, {} initializers, opset {}; input {:?}, output {:?})",
        a.out.display(),
        model.name,
        graph.node.len(),
        graph.initializer.len(),
        atelier_onnx::OPSET,
        model.input.0,
        model.output.0
    );
    if let Some(path) = &a.example {
        let device = Device::from_name(&a.device).map_err(anyhow::Error::msg)?;
        let (input, output) = example(&a.checkpoint, &what, device)?;
        let mut ck = Checkpoint::new();
        ck.put_tensor("input", &input);
        ck.put_tensor("output", &output);
        ck.set_metadata("model", model.name.clone());
        ck.save(path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote {}: input {:?} and atelier's output {:?}",
            path.display(),
            input.shape(),
            output.shape()
        );
    }
    Ok(())
}

/// An error when `--what` names another network than the file holds.
fn check_what(a: &Args, detected: &Detected) -> anyhow::Result<()> {
    let Some(asked) = a.what else {
        return Ok(());
    };
    let (holds, fits) = match detected {
        Detected::Dcgan(_) => ("a DCGAN checkpoint (--what netG)", asked == What::NetG),
        Detected::TransformerNet => (
            "a style network (--what transformer)",
            asked == What::Transformer,
        ),
        Detected::CycleGan {
            direction: Some(_), ..
        } => (
            "a CycleGAN checkpoint (--what netG_A or netG_B)",
            asked.direction().is_some(),
        ),
        // one generator: it is what `latest_net_G_A.pth` would be
        Detected::CycleGan {
            direction: None, ..
        } => (
            "one CycleGAN generator (leave out --what)",
            asked == What::NetGA,
        ),
    };
    if !fits {
        crate::usage!(
            "--what {}: --checkpoint {} is {holds}",
            clap::ValueEnum::to_possible_value(&asked)
                .map_or_else(String::new, |v| v.get_name().to_string()),
            a.checkpoint.display()
        );
    }
    Ok(())
}

/// An input and atelier's own output for it: noise for the DCGAN generator (BatchNorm in
/// inference mode, as exported); for the TransformerNet a 2×3×38×44 image in [0, 255], for a
/// CycleGAN generator a 2×C×38×44 image in [-1, 1] (a height that is not a multiple of 4, to
/// exercise the padding, strides and upsampling).
fn example(
    path: &std::path::Path,
    what: &Detected,
    device: Device,
) -> anyhow::Result<(Tensor, Tensor)> {
    Ok(match what {
        Detected::Dcgan(config) => {
            let g = load_generator(path, device, true)?.g;
            let z = latent::noise(4, config.nz, 1, device);
            let y = generate(&g, &z, false);
            (z, y)
        }
        Detected::TransformerNet => {
            let net = TransformerNet::load(path, device)?;
            let x = Tensor::rand_uniform(&[2, 3, 38, 44], 0.0, 255.0, 1, device);
            let y = no_grad(|| net.forward(&x));
            (x, y)
        }
        Detected::CycleGan { direction, config } => {
            let direction = direction.unwrap_or(Direction::AtoB);
            let g = atelier_cyclegan::apply::load_generator(path, direction, device)?.g;
            let x = Tensor::rand_uniform(&[2, config.input_nc, 38, 44], -1.0, 1.0, 1, device);
            let y = no_grad(|| g.forward(&x));
            (x, y)
        }
    })
}
