//! The sliced Wasserstein distance between two sets of images (Karras et al., "Progressive
//! Growing of GANs", 2018, §5; their `metrics/sliced_wasserstein.py`), on the CPU.
//!
//! 1. Each image becomes a Laplacian pyramid: levels at full size, half, ... down to 16×16
//!    (the last level is the Gaussian residual). Blurring is the 5×5 binomial filter with
//!    mirrored borders, as `cv2.pyrDown` / `pyrUp`.
//! 2. From each level of each image, `nhoods_per_image` random 7×7 neighbourhoods become
//!    descriptors (C·7·7 values).
//! 3. Each set's descriptors are normalised per channel (mean 0, std 1 over the set).
//! 4. For `dir_repeats` × `dirs_per_repeat` random unit directions, both sets are projected,
//!    the projections sorted, and the mean |difference| of the sorted values is the 1-D
//!    Wasserstein distance; their mean is the SWD of that level, reported × 1000.
//!
//! Lower is closer. Two samples of the same distribution do not give 0: compare with the
//! real-vs-real value for the same number of images.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// Karras et al.'s settings.
#[derive(Clone, Copy, Debug)]
pub struct SwdConfig {
    pub nhood_size: usize,
    pub nhoods_per_image: usize,
    pub dir_repeats: usize,
    pub dirs_per_repeat: usize,
    /// The pyramid stops at this resolution.
    pub min_resolution: usize,
}

impl Default for SwdConfig {
    fn default() -> Self {
        SwdConfig {
            nhood_size: 7,
            nhoods_per_image: 128,
            dir_repeats: 4,
            dirs_per_repeat: 128,
            min_resolution: 16,
        }
    }
}

/// A set of `n` images `C × size × size` (NCHW floats, any range).
#[derive(Clone, Copy)]
pub struct Images<'a> {
    pub data: &'a [f32],
    pub n: usize,
    pub channels: usize,
    pub size: usize,
}

/// The SWD of one pyramid level.
#[derive(Clone, Copy, Debug)]
pub struct LevelDistance {
    pub resolution: usize,
    /// × 1000, as reported by Karras et al.
    pub swd: f64,
}

/// SWD (×1000) per pyramid level, finest first. Deterministic for a seed.
pub fn sliced_wasserstein(
    a: Images<'_>,
    b: Images<'_>,
    cfg: &SwdConfig,
    seed: u64,
) -> Vec<LevelDistance> {
    assert!(
        a.channels == b.channels && a.size == b.size,
        "swd: image sets differ in shape ({}×{}² vs {}×{}²)",
        a.channels,
        a.size,
        b.channels,
        b.size
    );
    let levels = pyramid_levels(a.size, cfg.min_resolution);
    let mut rng = StdRng::seed_from_u64(seed);
    let desc_a = descriptors(a, levels, cfg, &mut rng);
    let desc_b = descriptors(b, levels, cfg, &mut rng);
    let dim = a.channels * cfg.nhood_size * cfg.nhood_size;
    (0..levels)
        .map(|l| {
            let mut da = desc_a[l].clone();
            let mut db = desc_b[l].clone();
            normalise_per_channel(&mut da, a.channels, cfg.nhood_size);
            normalise_per_channel(&mut db, a.channels, cfg.nhood_size);
            let d = sliced_distance(&da, &db, dim, cfg, &mut rng);
            LevelDistance {
                resolution: a.size >> l,
                swd: d * 1e3,
            }
        })
        .collect()
}

/// The mean of the levels' distances.
pub fn average(levels: &[LevelDistance]) -> f64 {
    levels.iter().map(|l| l.swd).sum::<f64>() / levels.len().max(1) as f64
}

/// Levels from `size` down to `min_resolution` (at least one).
pub fn pyramid_levels(size: usize, min_resolution: usize) -> usize {
    let mut levels = 1;
    let mut s = size;
    while s / 2 >= min_resolution && s % 2 == 0 {
        s /= 2;
        levels += 1;
    }
    levels
}

/// Each level's descriptors for a set, `[n · nhoods, C · k · k]` row-major.
fn descriptors(set: Images<'_>, levels: usize, cfg: &SwdConfig, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let (c, k) = (set.channels, cfg.nhood_size);
    let plane = set.size * set.size;
    let mut out = vec![Vec::with_capacity(set.n * cfg.nhoods_per_image * c * k * k); levels];
    for i in 0..set.n {
        let image = &set.data[i * c * plane..(i + 1) * c * plane];
        let pyramid = laplacian_pyramid(image, c, set.size, levels);
        for (l, level) in pyramid.iter().enumerate() {
            let s = set.size >> l;
            assert!(
                s >= k,
                "swd: level of {s}×{s} is smaller than a {k}×{k} neighbourhood"
            );
            for _ in 0..cfg.nhoods_per_image {
                let y = rng.random_range(0..=s - k);
                let x = rng.random_range(0..=s - k);
                for ch in 0..c {
                    for dy in 0..k {
                        let row = ch * s * s + (y + dy) * s + x;
                        out[l].extend_from_slice(&level[row..row + k]);
                    }
                }
            }
        }
    }
    out
}

/// Laplacian pyramid of one image (C planes): level l is `size >> l` square; every level but
/// the last holds the detail lost by blurring and halving, the last the blurred residual.
fn laplacian_pyramid(image: &[f32], c: usize, size: usize, levels: usize) -> Vec<Vec<f32>> {
    let mut gaussian = vec![image.to_vec()];
    for l in 1..levels {
        let s = size >> (l - 1);
        gaussian.push(pyr_down(&gaussian[l - 1], c, s));
    }
    let mut pyramid = Vec::with_capacity(levels);
    for l in 0..levels {
        if l + 1 == levels {
            pyramid.push(gaussian[l].clone());
        } else {
            let up = pyr_up(&gaussian[l + 1], c, size >> (l + 1));
            pyramid.push(gaussian[l].iter().zip(&up).map(|(g, u)| g - u).collect());
        }
    }
    pyramid
}

/// The 5-tap binomial filter; its outer product /256 is Karras's `gaussian_filter`.
const BINOMIAL: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];

/// Index `i` reflected into 0..n without repeating the edge (scipy's `mirror` mode).
fn mirror(i: isize, n: usize) -> usize {
    let n = n as isize;
    let mut i = i;
    if i < 0 {
        i = -i;
    }
    if i >= n {
        i = 2 * (n - 1) - i;
    }
    i.clamp(0, n - 1) as usize
}

/// Separable 5×5 binomial blur of C planes `s × s`, mirrored borders, times `gain`.
fn blur(planes: &[f32], c: usize, s: usize, gain: f32) -> Vec<f32> {
    let mut tmp = vec![0.0; planes.len()];
    let mut out = vec![0.0; planes.len()];
    for ch in 0..c {
        let p = &planes[ch * s * s..(ch + 1) * s * s];
        let t = &mut tmp[ch * s * s..(ch + 1) * s * s];
        for y in 0..s {
            for x in 0..s {
                t[y * s + x] = (0..5)
                    .map(|j| BINOMIAL[j] * p[y * s + mirror(x as isize + j as isize - 2, s)])
                    .sum();
            }
        }
        let o = &mut out[ch * s * s..(ch + 1) * s * s];
        for y in 0..s {
            for x in 0..s {
                o[y * s + x] = gain
                    * (0..5)
                        .map(|j| BINOMIAL[j] * t[mirror(y as isize + j as isize - 2, s) * s + x])
                        .sum::<f32>();
            }
        }
    }
    out
}

/// Blur, then keep every second pixel: `s` → `s / 2`.
fn pyr_down(planes: &[f32], c: usize, s: usize) -> Vec<f32> {
    let b = blur(planes, c, s, 1.0);
    let h = s / 2;
    let mut out = vec![0.0; c * h * h];
    for ch in 0..c {
        for y in 0..h {
            for x in 0..h {
                out[ch * h * h + y * h + x] = b[ch * s * s + 2 * y * s + 2 * x];
            }
        }
    }
    out
}

/// Zero-insert to `2s`, then blur with gain 4: `s` → `2s`.
fn pyr_up(planes: &[f32], c: usize, s: usize) -> Vec<f32> {
    let d = 2 * s;
    let mut up = vec![0.0; c * d * d];
    for ch in 0..c {
        for y in 0..s {
            for x in 0..s {
                up[ch * d * d + 2 * y * d + 2 * x] = planes[ch * s * s + y * s + x];
            }
        }
    }
    blur(&up, c, d, 4.0)
}

/// Subtracts each channel's mean and divides by its standard deviation, over every
/// descriptor of the set (descriptors are C × k × k, channel-major).
fn normalise_per_channel(desc: &mut [f32], c: usize, k: usize) {
    let per = k * k;
    let dim = c * per;
    let rows = desc.len() / dim;
    for ch in 0..c {
        let (mut sum, mut sq) = (0f64, 0f64);
        for r in 0..rows {
            for &v in &desc[r * dim + ch * per..r * dim + (ch + 1) * per] {
                sum += f64::from(v);
                sq += f64::from(v) * f64::from(v);
            }
        }
        let count = (rows * per) as f64;
        let mean = sum / count;
        let std = (sq / count - mean * mean).max(0.0).sqrt().max(1e-8);
        for r in 0..rows {
            for v in &mut desc[r * dim + ch * per..r * dim + (ch + 1) * per] {
                *v = ((f64::from(*v) - mean) / std) as f32;
            }
        }
    }
}

/// Mean over random directions of the 1-D Wasserstein distance between the projections of
/// `a` and `b` (`[rows, dim]` each, the same number of rows).
fn sliced_distance(a: &[f32], b: &[f32], dim: usize, cfg: &SwdConfig, rng: &mut StdRng) -> f64 {
    let rows = a.len() / dim;
    assert_eq!(
        rows,
        b.len() / dim,
        "swd: both sets need as many descriptors"
    );
    let k = cfg.dirs_per_repeat;
    let mut total = 0.0;
    for _ in 0..cfg.dir_repeats {
        // directions [dim, k], each column of unit length
        let mut dirs: Vec<f32> = (0..dim * k).map(|_| StandardNormal.sample(rng)).collect();
        for j in 0..k {
            let norm = (0..dim)
                .map(|d| dirs[d * k + j] * dirs[d * k + j])
                .sum::<f32>()
                .sqrt();
            for d in 0..dim {
                dirs[d * k + j] /= norm;
            }
        }
        let pa = project_sorted(a, &dirs, dim, k);
        let pb = project_sorted(b, &dirs, dim, k);
        let diff: f64 = pa
            .iter()
            .zip(&pb)
            .map(|(x, y)| f64::from((x - y).abs()))
            .sum();
        total += diff / (rows * k) as f64;
    }
    total / cfg.dir_repeats as f64
}

/// `desc [rows, dim] · dirs [dim, k]`, as k columns of `rows` values, each sorted. Rows are
/// split over the cores for the projection, columns for the sorting.
fn project_sorted(desc: &[f32], dirs: &[f32], dim: usize, k: usize) -> Vec<f32> {
    let rows = desc.len() / dim;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // row-major projections [rows, k]
    let mut proj = vec![0f32; rows * k];
    let chunk = rows.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (part, out) in desc.chunks(chunk * dim).zip(proj.chunks_mut(chunk * k)) {
            scope.spawn(move || {
                for (row, acc) in part.chunks_exact(dim).zip(out.chunks_exact_mut(k)) {
                    for (d, &v) in row.iter().enumerate() {
                        for (o, w) in acc.iter_mut().zip(&dirs[d * k..(d + 1) * k]) {
                            *o += v * w;
                        }
                    }
                }
            });
        }
    });
    // column-major, then sort each column
    let mut cols = vec![0f32; rows * k];
    for r in 0..rows {
        for j in 0..k {
            cols[j * rows + r] = proj[r * k + j];
        }
    }
    let per = k.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in cols.chunks_mut(per * rows) {
            scope.spawn(move || {
                for col in part.chunks_exact_mut(rows) {
                    col.sort_unstable_by(f32::total_cmp);
                }
            });
        }
    });
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_images(n: usize, c: usize, s: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n * c * s * s)
            .map(|_| scale * rng.random::<f32>())
            .collect()
    }

    #[test]
    fn levels_reach_sixteen() {
        assert_eq!(pyramid_levels(32, 16), 2);
        assert_eq!(pyramid_levels(64, 16), 3);
        assert_eq!(pyramid_levels(128, 16), 4);
        assert_eq!(pyramid_levels(16, 16), 1);
    }

    #[test]
    fn pyramid_of_a_constant_image_has_no_detail() {
        let image = vec![0.5; 3 * 32 * 32];
        let p = laplacian_pyramid(&image, 3, 32, 2);
        assert!(
            p[0].iter().all(|v| v.abs() < 1e-6),
            "detail of a flat image"
        );
        assert!(p[1].iter().all(|v| (v - 0.5).abs() < 1e-6));
    }

    #[test]
    fn same_distribution_is_closer_than_a_different_one() {
        let cfg = SwdConfig {
            nhoods_per_image: 16,
            dir_repeats: 2,
            dirs_per_repeat: 16,
            ..SwdConfig::default()
        };
        let set = |seed, scale| random_images(24, 3, 32, seed, scale);
        let (a, b) = (set(1, 1.0), set(2, 1.0));
        // smooth images: a different distribution of 7×7 patches
        let smooth: Vec<f32> = {
            let mut v = set(3, 1.0);
            for _ in 0..3 {
                v = (0..24)
                    .flat_map(|i| blur(&v[i * 3072..(i + 1) * 3072], 3, 32, 1.0))
                    .collect();
            }
            v
        };
        let img = |d: &[f32]| Images {
            data: d,
            n: 24,
            channels: 3,
            size: 32,
        };
        let same = average(&sliced_wasserstein(img(&a), img(&b), &cfg, 7));
        let other = average(&sliced_wasserstein(img(&a), img(&smooth), &cfg, 7));
        assert!(same < other, "same {same} vs other {other}");
    }
}
