//! Writing PNGs safely: to a temporary file beside the target, then renamed over it, so a
//! reader (or a crash) never sees half a file.

use std::path::{Path, PathBuf};

use image::{EncodableLayout, ImageBuffer, ImageFormat, Pixel, PixelWithColorType};

use crate::error::{Error, Result};

/// Saves an RGB or grey image (or any 8/16-bit `image` buffer) as a PNG at `path`.
pub fn save_png<P>(path: impl AsRef<Path>, image: &ImageBuffer<P, Vec<P::Subpixel>>) -> Result<()>
where
    P: Pixel + PixelWithColorType,
    [P::Subpixel]: EncodableLayout,
{
    let path = path.as_ref();
    let tmp = temp_path(path);
    let result = image
        .save_with_format(&tmp, ImageFormat::Png)
        .map_err(|source| Error::Encode {
            path: path.to_path_buf(),
            source,
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `dir/.name.tmp-PID`: same folder (so the rename stays on one file system), hidden, and
/// distinct per process.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "image".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
