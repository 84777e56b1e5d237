//! `atelier style apply`: runs a trained TransformerNet (ours, or pytorch/examples' .pth files
//! as downloaded: candy.pth, mosaic.pth, udnie.pth, rain_princess.pth) on one image.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use atelier_style::TransformerNet;
use atelier_style::image_io::{
    image_to_tensor, load_image, resize_long_side, save_png, tensor_to_image,
};

use super::common;

/// Smaller images leave nothing for the network's reflection padding after two stride-2 convs.
const MIN_SIDE: u32 = 8;

#[derive(clap::Args)]
pub struct Args {
    /// A trained network with PyTorch's TransformerNet keys: ours (.safetensors) or
    /// pytorch/examples' (candy.pth, ...; torch's legacy or zip format), read by content.
    #[arg(long)]
    model: PathBuf,
    /// The image to stylise.
    #[arg(long)]
    input: PathBuf,
    /// Where the result goes (PNG).
    #[arg(long)]
    out: PathBuf,
    /// Resize the input so its longer side is this many pixels first (default: as it is).
    #[arg(long, value_parser = clap::value_parser!(u32).range(MIN_SIDE as i64..))]
    size: Option<u32>,
    /// cpu, gpu or auto.
    #[arg(long, default_value = "auto")]
    device: String,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    common::check_input(&a.model, "--model")?;
    common::check_input(&a.input, "--input")?;
    common::check_output(&a.out, "--out", "png")?;
    let mut image = load_image(&a.input).context("--input")?;
    if let Some(size) = a.size {
        image = resize_long_side(&image, size);
    }
    let (w, h) = image.dimensions();
    if w.min(h) < MIN_SIDE {
        bail!("--input is {w}x{h}; the network needs at least {MIN_SIDE} pixels a side");
    }
    let device = common::device(&a.device)?;
    let net = TransformerNet::load(&a.model, device).context("--model")?;
    let start = Instant::now();
    let out = tensor_to_image(&net.stylize(&image_to_tensor(&image, device)), 0);
    let elapsed = start.elapsed().as_secs_f64();
    save_png(&out, &a.out)?;
    println!("wrote {} ({w}x{h}) in {elapsed:.2} s", a.out.display());
    Ok(())
}
