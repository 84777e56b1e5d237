//! `atelier style apply`: runs a trained TransformerNet (ours, or pytorch/examples' .pth files
//! as downloaded: candy.pth, mosaic.pth, udnie.pth, rain_princess.pth) on one image.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use atelier_style::TransformerNet;
use atelier_style::image_io::{
    fit_long_side, image_to_tensor, load_image, resize_long_side, save_image, tensor_to_image,
};

use super::common;
use crate::usage;

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
    /// Where the result goes; its extension picks the format (png, jpg, bmp, webp, gif, tif).
    #[arg(long)]
    out: PathBuf,
    /// Resize the input so its longer side is this many pixels first (default: as it is).
    #[arg(long, value_parser = clap::value_parser!(u32).range(MIN_SIDE as i64..))]
    size: Option<u32>,
    /// cpu (the fast CPU device), reference (the plain CPU reference), gpu or auto (a hardware
    /// GPU, else the fast CPU device).
    #[arg(long, default_value = "auto")]
    device: String,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    common::check_input(&a.model, "--model")?;
    common::check_input(&a.input, "--input")?;
    common::check_image_output(&a.out, "--out", 1, 1)?;
    let mut image = load_image(&a.input).context("--input")?;
    let (w, h) = match a.size {
        Some(size) => fit_long_side(image.width(), image.height(), size),
        None => image.dimensions(),
    };
    if w.min(h) < MIN_SIDE {
        usage!("--input is {w}x{h}; the network needs at least {MIN_SIDE} pixels a side");
    }
    common::check_image_output(&a.out, "--out", w as u64, h as u64)?;
    let device = common::device(&a.device)?;
    let (wu, hu) = (w as usize, h as usize);
    // every op of the network splits a tensor larger than one binding (convolutions, padding,
    // upsampling, instance norms into blocks of planes; slices, clamps and broadcasts into
    // boxes or ranges)
    let shapes = TransformerNet::largest_activations(1, hu, wu);
    let what = format!("stylising a {w}×{h} image");
    let hint = "use a smaller --size";
    let memory = atelier_style::memory::stylize_bytes(wu * hu);
    common::check_fits(&shapes, memory, &what, device, hint)?;
    if a.size.is_some() {
        image = resize_long_side(&image, w.max(h));
    }
    let net = TransformerNet::load(&a.model, device).context("--model")?;
    let start = Instant::now();
    let out = tensor_to_image(&net.stylize(&image_to_tensor(&image, device)), 0);
    let elapsed = start.elapsed().as_secs_f64();
    save_image(&out, &a.out)?;
    println!("wrote {} ({w}x{h}) in {elapsed:.2} s", a.out.display());
    Ok(())
}
