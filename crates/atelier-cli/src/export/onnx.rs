//! `atelier export --format onnx`: a trained generator or TransformerNet as an ONNX model.

use anyhow::Context;
use atelier_gan::{latent, step::generate, trainer::checkpoint::load_generator};
use atelier_nn::Checkpoint;
use atelier_onnx::Detected;
use atelier_style::TransformerNet;
use atelier_tensor::{Device, Tensor, no_grad};

use super::Args;

pub fn run(a: &Args) -> anyhow::Result<()> {
    let (model, weights, what) = atelier_onnx::detect(&a.checkpoint)?;
    let metadata = [
        ("atelier.source", a.checkpoint.display().to_string()),
        ("atelier.input", model.doc.clone()),
    ];
    let proto = atelier_onnx::export(&model, &weights, &metadata)?;
    atelier_onnx::save(&proto, &a.out)?;
    let graph = proto.graph.as_ref().expect("export writes a graph");
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

/// An input and atelier's own output for it: noise for the DCGAN generator (BatchNorm in
/// inference mode, as exported), a 2×3×38×44 image in [0, 255] for the TransformerNet (a
/// height that is not a multiple of 4, to exercise its padding and upsampling).
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
    })
}
