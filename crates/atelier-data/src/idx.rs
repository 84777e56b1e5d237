//! [`Idx`]: MNIST-style IDX image files (magic 0x00000803: unsigned bytes, 3 dimensions),
//! raw or gzip-compressed (detected by content, not by name), e.g. Fashion-MNIST.
//!
//! Layout: a big-endian u32 magic, then the 3 dimensions (count, rows, cols) as big-endian
//! u32, then count × rows × cols bytes, row-major, 0 = background.

use std::io::Read;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage};

use crate::error::{Error, Result};
use crate::image_set::ImageSet;
use crate::pixels;

/// The magic number of an IDX file of u8 data with 3 dimensions.
pub const IDX_U8_3D_MAGIC: u32 = 0x0000_0803;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub struct Idx {
    path: PathBuf,
    size: usize,
    len: usize,
    /// Every image's grey plane at `size × size`, one after another.
    pixels: Vec<u8>,
}

impl Idx {
    /// Reads the IDX image file at `path` (raw or .gz); images are resized to `size × size`
    /// (short side, then centre crop) when their stored size differs. Bad magic or a truncated
    /// file is an error naming the file and what was wrong.
    pub fn open(path: impl AsRef<Path>, size: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if size == 0 {
            return Err(Error::Invalid("image size must be at least 1".into()));
        }
        let bytes = read_maybe_gzip(&path)?;
        let bad = |problem: String| Error::Idx {
            path: path.clone(),
            problem,
        };
        if bytes.len() < 16 {
            return Err(bad(format!(
                "truncated: {} bytes, shorter than the 16-byte header",
                bytes.len()
            )));
        }
        let word = |k: usize| u32::from_be_bytes(bytes[4 * k..4 * k + 4].try_into().unwrap());
        let magic = word(0);
        if magic != IDX_U8_3D_MAGIC {
            return Err(bad(format!(
                "bad magic 0x{magic:08x}: expected 0x{IDX_U8_3D_MAGIC:08x} (u8 images, 3 dimensions)"
            )));
        }
        let (count, rows, cols) = (word(1) as usize, word(2) as usize, word(3) as usize);
        if count == 0 || rows == 0 || cols == 0 {
            return Err(bad(format!("empty: dimensions {count}×{rows}×{cols}")));
        }
        let expected = count
            .checked_mul(rows * cols)
            .ok_or_else(|| bad(format!("dimensions {count}×{rows}×{cols} overflow")))?;
        let data = &bytes[16..];
        if data.len() < expected {
            return Err(bad(format!(
                "truncated: header says {count} images of {rows}×{cols} = {expected} bytes, \
                 the file holds {}",
                data.len()
            )));
        }

        let stored = rows * cols;
        let pixels = if rows == size && cols == size {
            data[..expected].to_vec()
        } else {
            let mut pixels = Vec::with_capacity(count * size * size);
            for image in data[..expected].chunks_exact(stored) {
                let grey = GrayImage::from_raw(cols as u32, rows as u32, image.to_vec())
                    .expect("chunk has rows × cols bytes");
                pixels.extend(pixels::to_planes(&DynamicImage::ImageLuma8(grey), size, 1));
            }
            pixels
        };
        Ok(Idx {
            path,
            size,
            len: count,
            pixels,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The file's bytes, gunzipped when it starts with the gzip magic.
fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = atelier_fs::read_regular_file(path)?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Idx {
            path: path.to_path_buf(),
            problem: format!("gzip stream is corrupt or truncated: {e}"),
        })?;
    Ok(bytes)
}

impl ImageSet for Idx {
    fn len(&self) -> usize {
        self.len
    }

    fn channels(&self) -> usize {
        1
    }

    fn size(&self) -> usize {
        self.size
    }

    fn get_into(&self, i: usize, out: &mut [f32]) {
        let n = self.size * self.size;
        pixels::u8_to_unit(&self.pixels[i * n..(i + 1) * n], out);
    }

    fn describe(&self) -> String {
        format!(
            "idx {} ({} images, grey {}×{})",
            self.path.display(),
            self.len,
            self.size,
            self.size
        )
    }
}
