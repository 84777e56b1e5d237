//! Image outputs: the format follows the file name (`--out grid.jpg` writes a JPEG), and an
//! output is checked before any work (known extension, size within the format's limits, an
//! existing writable folder), so a long job never fails at its last step.

use std::path::Path;

use image::{ImageFormat, RgbImage};

use crate::error::{Error, Result};
use crate::png::save_as;

/// Extensions of the formats atelier writes, for messages.
pub fn writable_extensions() -> Vec<&'static str> {
    ImageFormat::all()
        .filter(|f| f.writing_enabled() && f.can_write())
        .flat_map(|f| f.extensions_str().first().copied())
        .collect()
}

/// The format `path`'s extension names, when atelier can write it.
pub fn output_format(path: &Path) -> Result<ImageFormat> {
    let bad = |problem: String| Error::BadOutput {
        path: path.to_path_buf(),
        problem,
    };
    let known = || writable_extensions().join(", ");
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return Err(bad(format!(
            "the file name needs an image extension ({})",
            known()
        )));
    };
    match ImageFormat::from_extension(ext) {
        Some(f) if f.writing_enabled() && f.can_write() => Ok(f),
        _ => Err(bad(format!(
            ".{ext} is not an image format atelier writes ({})",
            known()
        ))),
    }
}

/// The largest width and height `format` can store.
fn max_side(format: ImageFormat) -> u64 {
    match format {
        ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif => 65_535,
        ImageFormat::Bmp => i32::MAX as u64,
        _ => u32::MAX as u64,
    }
}

/// Checks, before any work, that an RGB image of `width` × `height` can be written to `path`:
/// its extension names a format atelier writes, the format can store that size, and the folder
/// exists and is writable. Returns the format.
pub fn check_image_output(path: &Path, width: u64, height: u64) -> Result<ImageFormat> {
    let format = output_format(path)?;
    let most = max_side(format);
    if width > most || height > most {
        return Err(Error::BadOutput {
            path: path.to_path_buf(),
            problem: format!(
                "a {width}×{height} image is larger than {format:?} allows ({most} pixels a \
                 side); write a PNG, or fewer images"
            ),
        });
    }
    atelier_fs::check_output_file(path)?;
    Ok(format)
}

/// Saves `image` at `path` in the format its extension names, atomically.
pub fn save_image(path: impl AsRef<Path>, image: &RgbImage) -> Result<()> {
    let path = path.as_ref();
    save_as(path, image, output_format(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(
            output_format(Path::new("a.JPG")).unwrap(),
            ImageFormat::Jpeg
        );
        assert_eq!(output_format(Path::new("a.png")).unwrap(), ImageFormat::Png);
        let err = output_format(Path::new("a.txt")).unwrap_err().to_string();
        assert!(err.contains(".txt is not") && err.contains("png"), "{err}");
        assert!(output_format(Path::new("grid")).is_err());
    }

    #[test]
    fn what_cannot_be_written_is_refused_before_work() {
        let dir = std::env::temp_dir();
        check_image_output(&dir.join("a.jpg"), 65_535, 10).unwrap();
        let err = check_image_output(&dir.join("a.jpg"), 70_000, 10).unwrap_err();
        assert!(err.to_string().contains("65535 pixels"), "{err}");
        check_image_output(&dir.join("a.png"), 70_000, 10).unwrap();
        let err = check_image_output(&dir.join("missing-atelier/a.png"), 1, 1).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn a_jpeg_is_written_as_a_jpeg() {
        let dir = std::env::temp_dir().join(format!("atelier-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.jpg");
        save_image(
            &path,
            &RgbImage::from_pixel(8, 8, image::Rgb([200, 10, 10])),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF]);
    }
}
