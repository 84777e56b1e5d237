//! Translating images with a trained generator: `atelier cyclegan apply`.
//!
//! A generator comes from an atelier CycleGAN checkpoint (G_A for AtoB, G_B for BtoA), or
//! from a file holding one generator's state_dict with the repository's keys (`model.1.weight`,
//! ...: a `latest_net_G_A.pth` converted to safetensors), its architecture read from the keys.
//! Images of any size go through whole (the networks are fully convolutional): each side is
//! reflection-padded up to a multiple of 4 (the two stride-2 stages need it) and the result
//! cropped back.

use std::path::Path;

use atelier_nn::{Checkpoint, Module};
use atelier_tensor::{Device, Tensor, no_grad};
use image::{DynamicImage, GrayImage, RgbImage};

use crate::model::{ResnetGenerator, state_dict_of};
use crate::trainer::checkpoint::FORMAT;
use crate::trainer::error::{CycleError, Result};

/// Which generator of a CycleGAN checkpoint: A → B (G_A) or B → A (G_B).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    AtoB,
    BtoA,
}

impl Direction {
    pub fn from_name(name: &str) -> std::result::Result<Direction, String> {
        match name {
            "AtoB" => Ok(Direction::AtoB),
            "BtoA" => Ok(Direction::BtoA),
            _ => Err(format!("unknown direction {name:?}: use AtoB or BtoA")),
        }
    }

    /// The generator's name in a checkpoint.
    pub fn net(self) -> &'static str {
        match self {
            Direction::AtoB => "netG_A",
            Direction::BtoA => "netG_B",
        }
    }
}

/// The smallest side the generator takes (its reflection padding at 1/4 resolution needs 2
/// pixels there).
pub const MIN_SIDE: u32 = 8;

/// A loaded generator and where it came from, in words.
pub struct Loaded {
    pub g: ResnetGenerator,
    pub describe: String,
}

/// The generator `direction` picks from a CycleGAN checkpoint, or the one generator of a
/// state_dict file (then `direction` does not matter).
pub fn load_generator(path: &Path, direction: Direction, device: Device) -> Result<Loaded> {
    let ck = Checkpoint::load(path)?;
    let shown = path.display().to_string();
    let net = direction.net();
    let (sd, what) =
        if ck.metadata("format") == Some(FORMAT) || ck.keys().any(|k| k.starts_with("netG_A.")) {
            (
                state_dict_of(&ck, net),
                format!("{net} of CycleGAN checkpoint {shown}"),
            )
        } else if ck.contains("model.1.weight") {
            (state_dict_of(&ck, ""), format!("generator {shown}"))
        } else {
            return Err(CycleError::BadRun {
                path: path.to_path_buf(),
                message: "neither a CycleGAN checkpoint (netG_A.*, netG_B.* keys) nor a \
                      ResnetGenerator state_dict (model.1.weight, ...)"
                    .into(),
            });
        };
    let g = ResnetGenerator::from_state_dict(&sd, &shown, device)?;
    let c = g.config;
    Ok(Loaded {
        describe: format!(
            "{what}: ResnetGenerator {} → {} channels, ngf {}, {} blocks",
            c.input_nc, c.output_nc, c.ngf, c.n_blocks
        ),
        g,
    })
}

/// `image` through `g`, at its own size: converted to the generator's input channels, values
/// to [-1, 1], padded to a multiple of 4 by reflection, and the output cropped back.
/// An error, before any work, when translating a `width` × `height` image cannot run on
/// `device`: a plane must fit a binding (the kernels split the rest), the whole translation
/// the device's memory (the host's on the CPU or a software GPU).
pub fn check_translation_fits(
    g: &ResnetGenerator,
    width: u32,
    height: u32,
    device: Device,
) -> Result<()> {
    let (w, h) = (width, height);
    let (hp, wp) = (
        (h as usize).next_multiple_of(4),
        (w as usize).next_multiple_of(4),
    );
    atelier_tensor::limits::check_all_planes_fit(&g.config.largest_activations(hp, wp), device)
        .map_err(|e| {
            CycleError::Config(format!("the image is {w}×{h}: {e}; use a smaller --size"))
        })?;
    device.check_memory(
        &format!("translating a {w}×{h} image"),
        g.config.translation_bytes(hp, wp),
    )?;
    Ok(())
}

pub fn translate(
    g: &ResnetGenerator,
    image: &DynamicImage,
    device: Device,
) -> Result<DynamicImage> {
    let (w, h) = (image.width(), image.height());
    if w.min(h) < MIN_SIDE {
        return Err(CycleError::Config(format!(
            "the image is {w}×{h}; the generator needs at least {MIN_SIDE} pixels a side"
        )));
    }
    check_translation_fits(g, w, h, device)?;
    let c_in = g.config.input_nc;
    let planes: Vec<u8> = match c_in {
        1 => image.to_luma8().into_raw(),
        _ => atelier_data::pixels::rgb_planes(&image.to_rgb8()),
    };
    let mut x = vec![0.0f32; planes.len()];
    atelier_data::pixels::u8_to_unit(&planes, &mut x);
    let (w, h) = (w as usize, h as usize);
    let (pw, ph) = (w.next_multiple_of(4) - w, h.next_multiple_of(4) - h);
    let y = no_grad(|| {
        let x = Tensor::from_vec(x, &[1, c_in, h, w], device);
        let x = if pw + ph > 0 {
            x.reflection_pad2d([0, pw, 0, ph])
        } else {
            x
        };
        let y = g.forward(&x);
        if pw + ph > 0 {
            y.slice(2, 0, h).slice(3, 0, w)
        } else {
            y
        }
    })
    .to_vec();
    let px: Vec<u8> = y
        .iter()
        .map(|&v| atelier_data::pixels::unit_to_u8(v))
        .collect();
    let (w32, h32) = (w as u32, h as u32);
    Ok(match g.config.output_nc {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(w32, h32, px).expect("w × h values")),
        _ => {
            let n = w * h;
            let interleaved: Vec<u8> = (0..n)
                .flat_map(|i| [px[i], px[n + i], px[2 * n + i]])
                .collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(w32, h32, interleaved).expect("w × h × 3"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GeneratorConfig;
    use atelier_nn::Init;

    #[test]
    fn any_size_comes_back_at_its_size() {
        let g = ResnetGenerator::new(
            &mut Init::new(Device::Cpu, 1),
            GeneratorConfig {
                input_nc: 3,
                output_nc: 1,
                ngf: 2,
                n_blocks: 1,
            },
        );
        let image = DynamicImage::ImageRgb8(RgbImage::from_fn(13, 10, |x, y| {
            image::Rgb([(x * 19) as u8, (y * 25) as u8, 7])
        }));
        let out = translate(&g, &image, Device::Cpu).unwrap();
        assert_eq!((out.width(), out.height()), (13, 10));
        assert!(!out.color().has_color(), "one output channel: grey");
        let tiny = DynamicImage::ImageRgb8(RgbImage::new(7, 30));
        assert!(translate(&g, &tiny, Device::Cpu).is_err());
    }
}
