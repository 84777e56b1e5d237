//! `atelier export`: a trained network as a file other tools load.
//!
//! - `--format onnx` ([`onnx`]): a generator as an ONNX model (opset 17, dynamic batch;
//!   dynamic height and width for the fully convolutional TransformerNet and CycleGAN
//!   ResnetGenerator), for any ONNX runtime; the checkpoint's metadata says which model it
//!   holds.
//! - `--format pth` ([`pth`]): a PyTorch state_dict in torch's zip format, which
//!   `torch.load(f, weights_only=True)` reads and the PyTorch model's `load_state_dict` takes
//!   unchanged: pytorch/examples' DCGAN `Generator` / `Discriminator`, fast_neural_style's
//!   `TransformerNet`, or pytorch-CycleGAN-and-pix2pix's `ResnetGenerator` (what its
//!   `latest_net_G_A.pth` holds).

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
    /// CycleGAN's G_A (domain A to B).
    #[value(name = "netG_A")]
    NetGA,
    /// CycleGAN's G_B (domain B to A).
    #[value(name = "netG_B")]
    NetGB,
}

impl What {
    /// The CycleGAN direction a generator's name picks, when it names one.
    pub fn direction(self) -> Option<atelier_cyclegan::apply::Direction> {
        use atelier_cyclegan::apply::Direction;
        match self {
            What::NetGA => Some(Direction::AtoB),
            What::NetGB => Some(Direction::BtoA),
            _ => None,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum)]
    format: Format,
    /// A DCGAN checkpoint (RUN_DIR/checkpoint.safetensors; a bare pytorch/examples generator
    /// .pth for --format pth), a TransformerNet (`style train` output or a pytorch/examples
    /// .pth), a CycleGAN checkpoint, or one CycleGAN ResnetGenerator's state_dict (such as
    /// pytorch-CycleGAN-and-pix2pix's latest_net_G.pth); any format, read by content.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The file to write (model.onnx, netG.pth).
    #[arg(long)]
    out: PathBuf,
    /// Which network (default: netG for a DCGAN checkpoint, netG_A for a CycleGAN one,
    /// transformer for a style network). --format onnx exports generators and style networks:
    /// the DCGAN's G (its moving average when the run kept one), the TransformerNet, CycleGAN's
    /// netG_A or netG_B.
    #[arg(long, value_enum)]
    what: Option<What>,
    /// --format onnx: also write a safetensors file with an example `input` (noise for the
    /// DCGAN, images for the others) and atelier's `output` for it, to check a runtime against
    /// (scripts/check_onnx.py).
    #[arg(long, value_name = "FILE")]
    example: Option<PathBuf>,
    /// Device for the example's forward pass: cpu, reference, gpu or auto.
    #[arg(long, env = "ATELIER_DEVICE", default_value = "auto")]
    device: String,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    match a.format {
        Format::Onnx => {
            if a.what == Some(What::NetD) {
                crate::usage!(
                    "--what netD: ONNX export takes generators and style networks (netG, netG_A, \
                     netG_B, transformer); --format pth writes a discriminator"
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
