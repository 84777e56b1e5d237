//! Luminance and chroma (YIQ, NTSC's coefficients) for colour-preserving transfer (Gatys et al.,
//! "Preserving Color in Neural Artistic Style Transfer", 2016): transfer the style on the
//! luminance alone, then put the content's chroma back.

use image::{Rgb, Rgb32FImage};

const RGB_TO_YIQ: [[f32; 3]; 3] = [
    [0.299, 0.587, 0.114],
    [0.595_716, -0.274_453, -0.321_263],
    [0.211_456, -0.522_591, 0.311_135],
];

/// The exact inverse of `RGB_TO_YIQ`.
const YIQ_TO_RGB: [[f32; 3]; 3] = [
    [1.0, 0.956_295_7, 0.621_024_4],
    [1.0, -0.272_122_1, -0.647_380_6],
    [1.0, -1.106_989, 1.704_615],
];

fn apply(m: &[[f32; 3]; 3], v: [f32; 3]) -> [f32; 3] {
    m.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
}

pub fn rgb_to_yiq(rgb: [f32; 3]) -> [f32; 3] {
    apply(&RGB_TO_YIQ, rgb)
}

pub fn yiq_to_rgb(yiq: [f32; 3]) -> [f32; 3] {
    apply(&YIQ_TO_RGB, yiq)
}

/// The luminance plane, row-major.
pub fn luminance(img: &Rgb32FImage) -> Vec<f32> {
    img.pixels().map(|p| rgb_to_yiq(p.0)[0]).collect()
}

/// `y` shifted and scaled to the mean and standard deviation of `reference` (so the style's
/// luminance histogram roughly matches the content's, as the paper does).
pub fn match_mean_std(y: &[f32], reference: &[f32]) -> Vec<f32> {
    let stats = |v: &[f32]| {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt().max(1e-6))
    };
    let (m, s) = stats(y);
    let (rm, rs) = stats(reference);
    y.iter()
        .map(|&x| ((x as f64 - m) / s * rs + rm) as f32)
        .collect()
}

/// A grey RGB image (the value repeated in all three channels) from a luminance plane.
pub fn grey_image(y: &[f32], width: u32, height: u32) -> Rgb32FImage {
    Rgb32FImage::from_fn(width, height, |x, yy| {
        let v = y[(yy * width + x) as usize];
        Rgb([v; 3])
    })
}

/// The luminance of `luma` combined with the chroma (I, Q) of `chroma` (same size).
pub fn combine_luminance(luma: &Rgb32FImage, chroma: &Rgb32FImage) -> Rgb32FImage {
    assert_eq!(luma.dimensions(), chroma.dimensions(), "combine_luminance");
    Rgb32FImage::from_fn(luma.width(), luma.height(), |x, y| {
        let l = rgb_to_yiq(luma.get_pixel(x, y).0)[0];
        let [_, i, q] = rgb_to_yiq(chroma.get_pixel(x, y).0);
        Rgb(yiq_to_rgb([l, i, q]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yiq_round_trip() {
        for rgb in [
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0],
            [0.2, 0.7, 0.1],
            [0.9, 0.3, 0.6],
        ] {
            let back = yiq_to_rgb(rgb_to_yiq(rgb));
            for c in 0..3 {
                assert!((back[c] - rgb[c]).abs() < 1e-5, "{rgb:?} -> {back:?}");
            }
        }
        // grey has no chroma
        let [_, i, q] = rgb_to_yiq([0.5; 3]);
        assert!(i.abs() < 1e-6 && q.abs() < 1e-6);
    }

    #[test]
    fn matched_statistics() {
        let y = [0.0, 1.0, 2.0, 3.0];
        let r = [10.0, 10.5, 11.0, 11.5];
        let m = match_mean_std(&y, &r);
        for (a, b) in m.iter().zip(r) {
            assert!((a - b).abs() < 1e-5);
        }
    }
}
