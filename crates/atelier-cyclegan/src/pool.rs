//! The image pool of Shrivastava et al. (2017) as the repository's `util/image_pool.py`: the
//! discriminators see a history of generated images, not only the latest ones.
//!
//! For each image of a batch: while the pool holds fewer than `size` images, the image goes
//! in and is returned; once it is full, with probability 1/2 a random stored image is
//! returned and the new one takes its place, else the new image is returned. Size 0 returns
//! the batch unchanged. Images stay on their device (copies of the batch's slices); the coin
//! flips come from a generator the caller seeds, so a resumed run makes the same choices.

use atelier_tensor::Tensor;
use rand::Rng;

pub struct ImagePool {
    size: usize,
    /// Stored images, each `[1, C, H, W]`.
    images: Vec<Tensor>,
}

impl ImagePool {
    pub fn new(size: usize) -> ImagePool {
        ImagePool {
            size,
            images: Vec::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// The images held now (for checkpoints).
    pub fn images(&self) -> &[Tensor] {
        &self.images
    }

    /// Replaces the stored images (when resuming).
    pub fn restore(&mut self, images: Vec<Tensor>) {
        assert!(
            images.len() <= self.size,
            "ImagePool::restore: {} images for a pool of {}",
            images.len(),
            self.size
        );
        self.images = images;
    }

    /// The batch the discriminator sees in place of `fakes` (`[N, C, H, W]`, detached).
    pub fn query(&mut self, fakes: &Tensor, rng: &mut impl Rng) -> Tensor {
        if self.size == 0 {
            return fakes.clone();
        }
        let n = fakes.shape()[0];
        let out: Vec<Tensor> = (0..n)
            .map(|i| {
                let image = fakes.slice(0, i, i + 1);
                if self.images.len() < self.size {
                    self.images.push(image.clone());
                    image
                } else if rng.random::<f64>() > 0.5 {
                    let k = rng.random_range(0..self.size);
                    std::mem::replace(&mut self.images[k], image)
                } else {
                    image
                }
            })
            .collect();
        if out.len() == 1 {
            return out.into_iter().next().expect("one image");
        }
        Tensor::concat(&out, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atelier_tensor::Device;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn batch(value: f32) -> Tensor {
        Tensor::full(&[2, 1, 2, 2], value, Device::Cpu)
    }

    #[test]
    fn fills_then_swaps_about_half_the_time() {
        let mut pool = ImagePool::new(4);
        let mut rng = StdRng::seed_from_u64(0);
        // filling: the batch comes back unchanged and is stored
        for v in [1.0, 2.0] {
            assert_eq!(pool.query(&batch(v), &mut rng).to_vec(), batch(v).to_vec());
        }
        assert_eq!(pool.images().len(), 4);
        // full: each returned image is either the new one (100) or an older one (1 or 2)
        let mut older = 0;
        for step in 0..50 {
            let out = pool.query(&batch(100.0 + step as f32), &mut rng).to_vec();
            for image in out.chunks(4) {
                assert!(image.iter().all(|&x| x == image[0]));
                if image[0] != 100.0 + step as f32 {
                    older += 1;
                }
            }
            assert_eq!(pool.images().len(), 4);
        }
        assert!(
            (30..70).contains(&older),
            "{older} of 100 came from the pool"
        );
    }

    #[test]
    fn size_zero_passes_the_batch_through() {
        let mut pool = ImagePool::new(0);
        let b = batch(3.0);
        let out = pool.query(&b, &mut StdRng::seed_from_u64(0));
        assert_eq!(out.id(), b.id());
        assert!(pool.images().is_empty());
    }
}
