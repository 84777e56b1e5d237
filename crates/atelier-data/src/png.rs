//! Writing images safely: atomically (`atelier_fs::write_atomic_with`: a temporary name unique
//! to the process, synced, renamed over the target), so a reader, a crash or a kill never
//! leaves half a file, and a failed write leaves no temporary file behind. The format follows
//! the file name's extension ([`crate::image_out`]); [`save_png`] always writes PNG.

use std::io::{BufWriter, Seek, Write};
use std::path::Path;

use image::{EncodableLayout, ImageBuffer, ImageEncoder, ImageFormat, Pixel, PixelWithColorType};

use crate::error::Result;

/// Saves an RGB or grey image (or any 8/16-bit `image` buffer) as a PNG at `path`.
pub fn save_png<P>(path: impl AsRef<Path>, image: &ImageBuffer<P, Vec<P::Subpixel>>) -> Result<()>
where
    P: Pixel + PixelWithColorType,
    [P::Subpixel]: EncodableLayout,
{
    save_as(path.as_ref(), image, ImageFormat::Png)
}

/// JPEG quality of written JPEGs (the image crate's default, 75, blurs fine detail).
pub const JPEG_QUALITY: u8 = 95;

/// Saves `image` at `path` in `format`, atomically.
pub fn save_as<P>(
    path: &Path,
    image: &ImageBuffer<P, Vec<P::Subpixel>>,
    format: ImageFormat,
) -> Result<()>
where
    P: Pixel + PixelWithColorType,
    [P::Subpixel]: EncodableLayout,
{
    atelier_fs::write_atomic_with(path, |w| {
        encode(w, image, format).map_err(|e| match e {
            image::ImageError::IoError(io) => io,
            other => std::io::Error::other(other),
        })
    })?;
    Ok(())
}

fn encode<P, W>(
    w: &mut BufWriter<W>,
    image: &ImageBuffer<P, Vec<P::Subpixel>>,
    format: ImageFormat,
) -> image::ImageResult<()>
where
    P: Pixel + PixelWithColorType,
    [P::Subpixel]: EncodableLayout,
    W: Write + Seek,
{
    if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(w, JPEG_QUALITY);
        return encoder.write_image(
            image.as_raw().as_bytes(),
            image.width(),
            image.height(),
            P::COLOR_TYPE,
        );
    }
    image.write_to(w, format)
}
