//! Image grids: a batch of NCHW images in [-1, 1] laid out in rows, as in torchvision's
//! `make_grid` (padding between and around the tiles).

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::error::Result;
use crate::image_out::save_image;
use crate::pixels::unit_to_u8;

/// Colour of the padding between tiles.
const PADDING_COLOR: Rgb<u8> = Rgb([24, 24, 24]);

/// The first `n` images of `images` (NCHW, C = 1 or 3, values in [-1, 1]) in a grid of
/// `cols` columns and `ceil(n / cols)` rows, with `padding` pixels between and around tiles.
/// Grey images are shown grey. Panics if `images` is shorter than `n * c * h * w`.
pub fn grid_image(
    images: &[f32],
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    cols: usize,
    padding: usize,
) -> RgbImage {
    assert!(
        c == 1 || c == 3,
        "grid_image: channels must be 1 or 3, got {c}"
    );
    assert!(
        n > 0 && cols > 0 && h > 0 && w > 0,
        "grid_image: n {n}, cols {cols}, h {h}, w {w}"
    );
    assert!(
        images.len() >= n * c * h * w,
        "grid_image: {} floats for {n} images of {c}×{h}×{w}",
        images.len()
    );
    let cols = cols.min(n);
    let rows = n.div_ceil(cols);
    let width = cols * (w + padding) + padding;
    let height = rows * (h + padding) + padding;
    let mut grid = RgbImage::from_pixel(width as u32, height as u32, PADDING_COLOR);
    let plane = h * w;
    for k in 0..n {
        let image = &images[k * c * plane..(k + 1) * c * plane];
        let (x0, y0) = (
            padding + (k % cols) * (w + padding),
            padding + (k / cols) * (h + padding),
        );
        for y in 0..h {
            for x in 0..w {
                let at = |ch: usize| unit_to_u8(image[ch * plane + y * w + x]);
                let pixel = if c == 1 {
                    [at(0); 3]
                } else {
                    [at(0), at(1), at(2)]
                };
                grid.put_pixel((x0 + x) as u32, (y0 + y) as u32, Rgb(pixel));
            }
        }
    }
    grid
}

/// [`grid_image`] saved at `path` in the format its extension names (atomically).
#[allow(clippy::too_many_arguments)]
pub fn save_grid(
    path: impl AsRef<Path>,
    images: &[f32],
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    cols: usize,
    padding: usize,
) -> Result<()> {
    save_image(path, &grid_image(images, n, c, h, w, cols, padding))
}

/// Width and height of the grid [`grid_image`] makes, without making it.
pub fn grid_size(n: usize, h: usize, w: usize, cols: usize, padding: usize) -> (u64, u64) {
    let cols = cols.clamp(1, n.max(1));
    let rows = n.div_ceil(cols);
    let side = |count: usize, px: usize| (count as u64) * (px + padding) as u64 + padding as u64;
    (side(cols, w), side(rows, h))
}
