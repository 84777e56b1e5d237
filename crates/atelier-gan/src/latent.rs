//! Latent noise: seeded, so a seed names a point of the latent space (for `sample`,
//! `interpolate` and the trainer's per-step noise), and spherical interpolation between points.

use atelier_tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Mixes a seed and an index into a new seed (SplitMix64's finaliser), so nearby indices give
/// unrelated streams.
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` standard normal vectors of length `nz`, from `seed`.
pub fn normal(n: usize, nz: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n * nz)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

/// Noise `[n, nz, 1, 1]` on `device` from `seed`.
pub fn noise(n: usize, nz: usize, seed: u64, device: Device) -> Tensor {
    Tensor::from_vec(normal(n, nz, seed), &[n, nz, 1, 1], device)
}

/// `n` vectors of length `nz` from a standard normal truncated to [-t, t] (BigGAN's
/// truncation trick, Brock et al. 2019: values outside are redrawn), from `seed`; `None` is
/// [`normal`]. A smaller `t` gives more typical, less varied images.
pub fn truncated(n: usize, nz: usize, seed: u64, t: Option<f32>) -> Vec<f32> {
    let Some(t) = t else {
        return normal(n, nz, seed);
    };
    assert!(t > 0.0, "truncation must be positive, got {t}");
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n * nz)
        .map(|_| {
            loop {
                let z: f32 = StandardNormal.sample(&mut rng);
                if z.abs() <= t {
                    break z;
                }
            }
        })
        .collect()
}

/// [`truncated`] noise `[n, nz, 1, 1]` on `device`.
pub fn noise_truncated(n: usize, nz: usize, seed: u64, t: Option<f32>, device: Device) -> Tensor {
    Tensor::from_vec(truncated(n, nz, seed, t), &[n, nz, 1, 1], device)
}

/// The latent point that `seed` names (what `atelier gan sample --seed` and `interpolate
/// --from/--to` use): one standard normal vector.
pub fn point(nz: usize, seed: u64) -> Vec<f32> {
    normal(1, nz, seed)
}

/// Spherical interpolation from `a` (t = 0) to `b` (t = 1): `sin((1−t)Ω)/sin Ω · a +
/// sin(tΩ)/sin Ω · b`, Ω the angle between them; linear for (anti)parallel points. Gaussian
/// latents concentrate near a sphere, so this stays where G was trained while a
/// straight line would pass through the low-norm middle (White, "Sampling generative
/// networks", 2016).
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    assert_eq!(a.len(), b.len(), "slerp: points of different sizes");
    let dot = |x: &[f32], y: &[f32]| -> f64 {
        x.iter()
            .zip(y)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum()
    };
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    let t = f64::from(t);
    let lerp = || {
        a.iter()
            .zip(b)
            .map(|(p, q)| ((1.0 - t) * f64::from(*p) + t * f64::from(*q)) as f32)
            .collect()
    };
    if na == 0.0 || nb == 0.0 {
        return lerp();
    }
    let cos = (dot(a, b) / (na * nb)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    let sin = omega.sin();
    if sin.abs() < 1e-6 {
        return lerp();
    }
    let (wa, wb) = (((1.0 - t) * omega).sin() / sin, (t * omega).sin() / sin);
    a.iter()
        .zip(b)
        .map(|(p, q)| (wa * f64::from(*p) + wb * f64::from(*q)) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slerp_ends_at_its_points_and_keeps_the_norm_of_equal_norm_points() {
        let a = [1.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0];
        assert_eq!(slerp(&a, &b, 0.0), a.to_vec());
        let end = slerp(&a, &b, 1.0);
        assert!((end[0]).abs() < 1e-6 && (end[1] - 1.0).abs() < 1e-6);
        let mid = slerp(&a, &b, 0.5);
        let norm: f32 = mid.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "norm {norm}");
        assert!((mid[0] - mid[1]).abs() < 1e-6);
    }

    #[test]
    fn truncation_keeps_every_value_inside_and_none_is_the_plain_normal() {
        let z = truncated(50, 20, 7, Some(0.7));
        assert!(z.iter().all(|v| v.abs() <= 0.7));
        // a truncated N(0, 1) at 0.7 has variance about 0.15, far below 1
        let var = z.iter().map(|v| v * v).sum::<f32>() / z.len() as f32;
        assert!((0.1..0.2).contains(&var), "{var}");
        assert_eq!(truncated(3, 4, 9, None), normal(3, 4, 9));
        assert_eq!(truncated(3, 4, 9, Some(0.5)), truncated(3, 4, 9, Some(0.5)));
    }

    #[test]
    fn seeds_name_points() {
        assert_eq!(point(8, 3), point(8, 3));
        assert_ne!(point(8, 3), point(8, 4));
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
    }
}
