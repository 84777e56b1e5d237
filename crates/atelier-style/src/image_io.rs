//! Images on the host: loading, resizing, cropping, saving, and moving them in and out of
//! tensors. Host images are `image::Rgb32FImage` with values in [0, 1]; tensors are NCHW.

use std::io::Cursor;
use std::path::Path;

use atelier_data::jpeg;
use atelier_tensor::{Device, Tensor};
use image::imageops::{self, FilterType};
use image::{ImageError, ImageReader, Rgb, Rgb32FImage, RgbImage};

use crate::error::{Result, StyleError};

/// Reads any image the `image` crate decodes (PNG, JPEG, BMP, WebP, GIF, TIFF) as RGB in
/// [0, 1]. Only a regular file is opened; a JPEG cut short is an error (decoders would fill
/// the rest with grey).
pub fn load_image(path: &Path) -> Result<Rgb32FImage> {
    let bytes = atelier_fs::read_regular_file(path)?;
    if jpeg::is_jpeg(&bytes) && !jpeg::is_complete(&bytes) {
        return Err(StyleError::Invalid(format!(
            "{}: truncated JPEG (the file ends before its end-of-image marker)",
            path.display()
        )));
    }
    let decoded = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| StyleError::io(path, e))?
        .decode();
    match decoded {
        Ok(img) => Ok(img.to_rgb32f()),
        Err(ImageError::IoError(e)) => Err(StyleError::io(path, e)),
        Err(error) => Err(StyleError::Image {
            path: path.to_path_buf(),
            error,
        }),
    }
}

/// Writes `img` as 8-bit RGB (values clamped to [0, 1] and rounded) in the format `path`'s
/// extension names (`out.jpg` a JPEG, `out.png` a PNG), atomically.
pub fn save_image(img: &Rgb32FImage, path: &Path) -> Result<()> {
    let rgb8 = RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        Rgb(p.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
    });
    atelier_data::save_image(path, &rgb8)?;
    Ok(())
}

/// [`save_image`] under its former name (the format follows the extension).
pub fn save_png(img: &Rgb32FImage, path: &Path) -> Result<()> {
    save_image(img, path)
}

/// Resamples to exactly `width`×`height` (Lanczos; the identity when the size already fits).
pub fn resize(img: &Rgb32FImage, width: u32, height: u32) -> Rgb32FImage {
    if img.dimensions() == (width, height) {
        return img.clone();
    }
    imageops::resize(img, width, height, FilterType::Lanczos3)
}

/// The size with the longer side scaled to `long_side`, the aspect ratio kept.
pub fn fit_long_side(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let scale = long_side as f64 / width.max(height) as f64;
    let side = |s: u32| ((s as f64 * scale).round() as u32).max(1);
    (side(width), side(height))
}

/// Resizes so the longer side is `long_side` pixels.
pub fn resize_long_side(img: &Rgb32FImage, long_side: u32) -> Rgb32FImage {
    let (w, h) = fit_long_side(img.width(), img.height(), long_side);
    resize(img, w, h)
}

/// A `size`×`size` square: the shorter side resized to `size`, then the centre cut out
/// (torchvision's `Resize(size)` then `CenterCrop(size)`).
pub fn square_crop(img: &Rgb32FImage, size: u32) -> Rgb32FImage {
    let scale = size as f64 / img.width().min(img.height()) as f64;
    let w = ((img.width() as f64 * scale).round() as u32).max(size);
    let h = ((img.height() as f64 * scale).round() as u32).max(size);
    let resized = resize(img, w, h);
    imageops::crop_imm(&resized, (w - size) / 2, (h - size) / 2, size, size).to_image()
}

/// A batch of equally sized images as an `[N, 3, H, W]` tensor.
pub fn images_to_tensor(images: &[Rgb32FImage], device: Device) -> Tensor {
    assert!(!images.is_empty(), "images_to_tensor: no images");
    let (w, h) = images[0].dimensions();
    let plane = (w * h) as usize;
    let mut data = vec![0.0f32; images.len() * 3 * plane];
    for (n, img) in images.iter().enumerate() {
        assert_eq!(
            img.dimensions(),
            (w, h),
            "images_to_tensor: image {n} differs in size"
        );
        for (i, p) in img.pixels().enumerate() {
            for c in 0..3 {
                data[(n * 3 + c) * plane + i] = p.0[c];
            }
        }
    }
    Tensor::from_vec(data, &[images.len(), 3, h as usize, w as usize], device)
}

/// One image as a `[1, 3, H, W]` tensor.
pub fn image_to_tensor(img: &Rgb32FImage, device: Device) -> Tensor {
    images_to_tensor(std::slice::from_ref(img), device)
}

/// Image `index` of an `[N, 3, H, W]` tensor (values are not clamped here; saving clamps).
pub fn tensor_to_image(t: &Tensor, index: usize) -> Rgb32FImage {
    let &[n, c, h, w] = t.shape() else {
        panic!("tensor_to_image: expects [N, 3, H, W], got {:?}", t.shape());
    };
    assert!(
        c == 3 && index < n,
        "tensor_to_image: image {index} of {:?}",
        t.shape()
    );
    let plane = h * w;
    let values = t.slice(0, index, index + 1).to_vec();
    Rgb32FImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        Rgb([values[i], values[plane + i], values[2 * plane + i]])
    })
}

/// The images in a row, each scaled to `height`, `gap` white pixels between them.
pub fn side_by_side(images: &[&Rgb32FImage], height: u32, gap: u32) -> Rgb32FImage {
    let scaled: Vec<Rgb32FImage> = images
        .iter()
        .map(|img| {
            let w = (img.width() as f64 * height as f64 / img.height() as f64).round() as u32;
            resize(img, w.max(1), height)
        })
        .collect();
    let width = scaled.iter().map(|i| i.width()).sum::<u32>() + gap * (scaled.len() as u32 - 1);
    let mut out = Rgb32FImage::from_pixel(width, height, Rgb([1.0; 3]));
    let mut x = 0;
    for img in &scaled {
        imageops::replace(&mut out, img, x as i64, 0);
        x += img.width() + gap;
    }
    out
}
