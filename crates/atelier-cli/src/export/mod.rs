//! `atelier export`: a trained network as a file other tools load.
//!
//! - `--format onnx` ([`onnx`]): a generator as an ONNX model (opset 17, dynamic batch;
//!   dynamic height and width for the TransformerNet), for any ONNX runtime; the checkpoint's
//!   metadata says which model it holds.
//! - `--format pth` ([`pth`]): a PyTorch state_dict in torch's zip format, which
//!   `torch.load(f, weights_only=True)` reads and the PyTorch model's `load_state_dict` takes
//!   unchanged: pytorch/examples' DCGAN `Generator` / `Discriminator`, or fast_neural_style's
//!   `TransformerNet`.

mod onnx;
mod pth;

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// ONNX (opset 17).
    Onnx,
    /// A PyTorch state_dict (.pth, torch's zip format).
    Pth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// The DCGAN generator.
    #[value(name = "netG")]
    NetG,
    /// The DCGAN discriminator (atelier checkpoints only).
    #[value(name = "netD")]
    NetD,
    /// A fast-neural-style TransformerNet.
    Transformer,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum)]
    format: Format,
    /// A DCGAN checkpoint (RUN_DIR/checkpoint.safetensors; a bare pytorch/examples generator
    /// .pth for --format pth) or a TransformerNet (`style train` output or a pytorch/examples
    /// .pth); any format, read by content.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The file to write (model.onnx, netG.pth).
    #[arg(long)]
    out: PathBuf,
    /// --format pth: which network (default: netG for a GAN checkpoint, transformer for a
    /// style network). --format onnx exports the generator (G's moving average when the run
    /// kept one) or the TransformerNet.
    #[arg(long, value_enum)]
    what: Option<What>,
    /// --format onnx: also write a safetensors file with an example `input` and atelier's
    /// `output` for it, to check a runtime against (scripts/check_onnx.py).
    #[arg(long, value_name = "FILE")]
    example: Option<PathBuf>,
    /// Device for the example's forward pass: cpu, gpu or auto.
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    match a.format {
        Format::Onnx => {
            if a.what.is_some() {
                crate::usage!(
                    "--what is for --format pth; ONNX export takes the generator or the TransformerNet"
                );
            }
            onnx::run(&a)
        }
        Format::Pth => {
            if a.example.is_some() {
                crate::usage!("--example is for --format onnx");
            }
            pth::run(&a)
        }
    }
}
