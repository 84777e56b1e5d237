//! Conversions between decoded images and the crate's pixel formats: u8 planes (C×H×W, how
//! datasets keep images in memory, 4× smaller than f32) and f32 in [-1, 1].

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage};

/// Resizes so the short side is `size`, then keeps the centre `size × size` square.
///
/// Done as crop-then-resize (the same pixels, cheaper for large paintings). Downscaling uses a
/// triangle filter (an area-like average without ringing); upscaling uses Catmull-Rom (sharper).
pub fn square_resize(image: &DynamicImage, size: usize) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    let side = w.min(h);
    let cropped = image.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    if side as usize == size {
        return cropped;
    }
    let filter = if (side as usize) > size {
        FilterType::Triangle
    } else {
        FilterType::CatmullRom
    };
    cropped.resize_exact(size as u32, size as u32, filter)
}

/// How an image of any shape becomes a `size × size` square.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fit {
    /// Short side to `size`, centre square kept ([`square_resize`]; DCGAN's loading).
    #[default]
    CentreCrop,
    /// Both sides to `size`, the aspect ratio not kept (torchvision's `Resize([size, size])`
    /// with bicubic filtering, as pytorch-CycleGAN-and-pix2pix's `resize_and_crop` loads).
    Stretch,
}

/// `image` at `size × size` as `fit` says.
pub fn fit_square(image: &DynamicImage, size: usize, fit: Fit) -> DynamicImage {
    match fit {
        Fit::CentreCrop => square_resize(image, size),
        Fit::Stretch if image.width() as usize == size && image.height() as usize == size => {
            image.clone()
        }
        Fit::Stretch => image.resize_exact(size as u32, size as u32, FilterType::CatmullRom),
    }
}

/// True when the image's colour type has no colour (L or LA, 8 or 16 bit).
pub fn is_grey(image: &DynamicImage) -> bool {
    !image.color().has_color()
}

/// RGB u8 planes (C×H×W, C = 3).
pub fn rgb_planes(image: &RgbImage) -> Vec<u8> {
    let n = (image.width() * image.height()) as usize;
    let mut planes = vec![0u8; 3 * n];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            planes[c * n + i] = p[c];
        }
    }
    planes
}

/// Grey u8 plane (C = 1).
pub fn grey_plane(image: &GrayImage) -> Vec<u8> {
    image.as_raw().clone()
}

/// Grey from RGB planes with the Rec. 601 luma weights (what `image` uses too).
pub fn rgb_planes_to_grey(planes: &[u8]) -> Vec<u8> {
    let n = planes.len() / 3;
    (0..n)
        .map(|i| {
            let (r, g, b) = (
                planes[i] as f32,
                planes[n + i] as f32,
                planes[2 * n + i] as f32,
            );
            (0.299 * r + 0.587 * g + 0.114 * b)
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// u8 [0, 255] → f32 [-1, 1].
pub fn u8_to_unit(src: &[u8], out: &mut [f32]) {
    assert_eq!(
        src.len(),
        out.len(),
        "u8_to_unit: {} bytes into {} floats",
        src.len(),
        out.len()
    );
    for (o, &s) in out.iter_mut().zip(src) {
        *o = s as f32 * (2.0 / 255.0) - 1.0;
    }
}

/// f32 [-1, 1] → u8 [0, 255], clamped (generator outputs can stray a little outside).
pub fn unit_to_u8(v: f32) -> u8 {
    ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
}

/// Decoded image → u8 planes of `channels` (1 or 3) at `size × size` (centre crop).
pub fn to_planes(image: &DynamicImage, size: usize, channels: usize) -> Vec<u8> {
    to_planes_fit(image, size, channels, Fit::CentreCrop)
}

/// Decoded image → u8 planes of `channels` (1 or 3) at `size × size`, squared as `fit` says.
pub fn to_planes_fit(image: &DynamicImage, size: usize, channels: usize, fit: Fit) -> Vec<u8> {
    let square = fit_square(image, size, fit);
    match channels {
        1 => grey_plane(&square.to_luma8()),
        3 => rgb_planes(&square.to_rgb8()),
        c => panic!("to_planes: channels must be 1 or 3, got {c}"),
    }
}
