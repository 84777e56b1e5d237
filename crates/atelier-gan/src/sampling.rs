//! Generating many images in batches that fit the device: `gan sample --n 10000` and long
//! interpolations run as a series of batches (each at most what the device holds in one
//! tensor, see [`DcganConfig::generation_batch`](crate::DcganConfig::generation_batch)), with
//! the images collected on the host. With BatchNorm's running statistics (the default) the
//! images do not depend on how they are batched.

use atelier_tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

use crate::model::Generator;
use crate::step::generate;

/// The noise of [`latent::truncated`](crate::latent::truncated)`(n, nz, seed, truncation)`,
/// drawn a batch at a time: the concatenation of the batches equals the whole.
pub struct NoiseStream {
    rng: StdRng,
    nz: usize,
    truncation: Option<f32>,
}

impl NoiseStream {
    pub fn new(nz: usize, seed: u64, truncation: Option<f32>) -> NoiseStream {
        assert!(
            truncation.is_none_or(|t| t > 0.0),
            "truncation must be positive, got {truncation:?}"
        );
        NoiseStream {
            rng: StdRng::seed_from_u64(seed),
            nz,
            truncation,
        }
    }

    /// The next `n` vectors.
    pub fn next(&mut self, n: usize) -> Vec<f32> {
        (0..n * self.nz)
            .map(|_| {
                loop {
                    let z: f32 = StandardNormal.sample(&mut self.rng);
                    // values outside [-t, t] are redrawn, as latent::truncated does
                    if self.truncation.is_none_or(|t| z.abs() <= t) {
                        break z;
                    }
                }
            })
            .collect()
    }
}

/// `g`'s images (NCHW floats in [-1, 1]) for `n` latent vectors, `batch` at a time; `z(count)`
/// gives the next `count` vectors, `done(images so far)` follows progress.
pub fn generate_in_batches(
    g: &Generator,
    n: usize,
    batch: usize,
    batch_stats: bool,
    device: Device,
    z: &mut dyn FnMut(usize) -> Vec<f32>,
    done: &mut dyn FnMut(usize),
) -> Vec<f32> {
    let c = g.config;
    let image_len = c.channels * c.image_size * c.image_size;
    let mut images = Vec::with_capacity(n * image_len);
    let mut start = 0;
    while start < n {
        let mut count = batch.max(1).min(n - start);
        // BatchNorm with the batch's own statistics needs two images: fold a last single
        // image into the batch before it
        if batch_stats && n - start - count == 1 {
            count = (count + 1).min(n - start);
        }
        let zs = Tensor::from_vec(z(count), &[count, c.nz, 1, 1], device);
        images.extend(generate(g, &zs, batch_stats).to_vec());
        start += count;
        done(start);
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DcganConfig;
    use atelier_nn::Init;

    #[test]
    fn batches_give_the_images_of_one_batch() {
        let config = DcganConfig {
            nz: 4,
            ngf: 2,
            ndf: 2,
            channels: 1,
            image_size: 32,
        };
        let g = Generator::new(&mut Init::new(Device::Cpu, 3), config);
        let mut s = NoiseStream::new(4, 9, None);
        assert_eq!(
            [s.next(2), s.next(3)].concat(),
            crate::latent::normal(5, 4, 9)
        );
        let mut s = NoiseStream::new(4, 9, Some(0.5));
        assert_eq!(
            [s.next(3), s.next(2)].concat(),
            crate::latent::truncated(5, 4, 9, Some(0.5))
        );
        let whole = generate(&g, &crate::latent::noise(5, 4, 9, Device::Cpu), false).to_vec();
        let mut stream = NoiseStream::new(4, 9, None);
        let mut seen = Vec::new();
        let parts = generate_in_batches(
            &g,
            5,
            2,
            false,
            Device::Cpu,
            &mut |k| stream.next(k),
            &mut |d| seen.push(d),
        );
        assert_eq!(seen, [2, 4, 5]);
        let err = whole
            .iter()
            .zip(&parts)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-5, "{err}");
    }
}
