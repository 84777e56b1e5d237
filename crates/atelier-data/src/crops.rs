//! [`RandomCrops`]: random `crop × crop` squares of another set's images, flipped left-right
//! half the time, as pytorch-CycleGAN-and-pix2pix's default preprocessing
//! (`resize_and_crop`, then `RandomHorizontalFlip`) after the images were loaded at its
//! `--load_size`.
//!
//! What is random comes from the draw the [`Batcher`](crate::Batcher) hands each place of an
//! epoch ([`ImageSet::get_drawn`]): the crop's corner (uniform), the flip (probability 1/2)
//! and, for [`Pick::Random`], the image. Without a draw ([`ImageSet::get_into`]) the crop is
//! the centre and nothing is flipped: fixed images for sample grids.
//!
//! An unpaired dataset as the repository's `UnalignedDataset` is two of these of the same
//! length `max(|A|, |B|)`: A with [`Pick::Cycle`] (item `i` is image `i mod |A|`, shuffled by
//! the batcher) and B with [`Pick::Random`] (a uniformly random image at every draw).

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::image_set::ImageSet;

/// Which source image item `i` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// Image `i mod n`.
    Cycle,
    /// A uniformly random image at each draw (image `i mod n` without one).
    Random,
}

pub struct RandomCrops {
    source: Arc<dyn ImageSet>,
    crop: usize,
    flip: bool,
    len: usize,
    pick: Pick,
}

impl RandomCrops {
    /// `len` items, each a `crop × crop` square of an image of `source` (`crop` at most the
    /// source's size), flipped at random when `flip`.
    pub fn new(
        source: Arc<dyn ImageSet>,
        crop: usize,
        flip: bool,
        len: usize,
        pick: Pick,
    ) -> Result<RandomCrops> {
        if crop == 0 || crop > source.size() {
            return Err(Error::Invalid(format!(
                "crop size {crop} must be between 1 and the image size {} ({})",
                source.size(),
                source.describe()
            )));
        }
        if len == 0 {
            return Err(Error::Invalid(
                "a set of random crops needs a length".into(),
            ));
        }
        Ok(RandomCrops {
            source,
            crop,
            flip,
            len,
            pick,
        })
    }

    pub fn source(&self) -> &dyn ImageSet {
        &*self.source
    }

    /// Copies the `crop × crop` square at (`x`, `y`) of `image` into `out`, mirrored when
    /// `flip`.
    fn cut(&self, image: &[f32], x: usize, y: usize, flip: bool, out: &mut [f32]) {
        let (s, k) = (self.source.size(), self.crop);
        for c in 0..self.source.channels() {
            for r in 0..k {
                let row = &image[c * s * s + (y + r) * s + x..][..k];
                let dst = &mut out[c * k * k + r * k..][..k];
                if flip {
                    dst.iter_mut()
                        .zip(row.iter().rev())
                        .for_each(|(d, v)| *d = *v);
                } else {
                    dst.copy_from_slice(row);
                }
            }
        }
    }
}

impl ImageSet for RandomCrops {
    fn len(&self) -> usize {
        self.len
    }

    fn channels(&self) -> usize {
        self.source.channels()
    }

    fn size(&self) -> usize {
        self.crop
    }

    /// The centre crop of image `i mod n`, unflipped.
    fn get_into(&self, i: usize, out: &mut [f32]) {
        let image = self.source.get(i % self.source.len());
        let margin = (self.source.size() - self.crop) / 2;
        self.cut(&image, margin, margin, false, out);
    }

    fn get_drawn(&self, i: usize, draw: u64, out: &mut [f32]) {
        let mut rng = StdRng::seed_from_u64(draw);
        let n = self.source.len();
        let id = match self.pick {
            Pick::Cycle => i % n,
            Pick::Random => rng.random_range(0..n),
        };
        let room = self.source.size() - self.crop;
        let (x, y) = (rng.random_range(0..=room), rng.random_range(0..=room));
        let flip = self.flip && rng.random::<f64>() < 0.5;
        self.cut(&self.source.get(id), x, y, flip, out);
    }

    fn describe(&self) -> String {
        format!(
            "{}, random {k}×{k} crops{}",
            self.source.describe(),
            if self.flip { " and flips" } else { "" },
            k = self.crop
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Images whose pixel (c, y, x) of image i is `i·1000 + c·100 + y·10 + x` (scaled), so
    /// every value says where it came from.
    struct Coded {
        n: usize,
        size: usize,
    }

    fn code(i: usize, c: usize, y: usize, x: usize) -> f32 {
        (i * 1000 + c * 100 + y * 10 + x) as f32
    }

    impl ImageSet for Coded {
        fn len(&self) -> usize {
            self.n
        }
        fn channels(&self) -> usize {
            3
        }
        fn size(&self) -> usize {
            self.size
        }
        fn get_into(&self, i: usize, out: &mut [f32]) {
            let s = self.size;
            for c in 0..3 {
                for y in 0..s {
                    for x in 0..s {
                        out[c * s * s + y * s + x] = code(i, c, y, x);
                    }
                }
            }
        }
        fn describe(&self) -> String {
            "coded".into()
        }
    }

    #[test]
    fn crops_are_squares_of_one_image_flipped_half_the_time() {
        let crops =
            RandomCrops::new(Arc::new(Coded { n: 3, size: 8 }), 5, true, 7, Pick::Cycle).unwrap();
        assert_eq!((crops.len(), crops.size(), crops.channels()), (7, 5, 3));
        let mut out = vec![0.0; 75];
        let (mut flips, mut corners) = (0, std::collections::HashSet::new());
        for draw in 0..200u64 {
            crops.get_drawn(4, draw, &mut out);
            let (i, y0, x) = (
                (out[0] / 1000.0) as usize,
                ((out[0] % 100.0) / 10.0) as usize,
                out[0] as usize % 10,
            );
            assert_eq!(i, 4 % 3, "Pick::Cycle takes image i mod n");
            let flipped = out[1] < out[0];
            flips += flipped as usize;
            let x0 = if flipped { x - 4 } else { x };
            corners.insert((x0, y0));
            for c in 0..3 {
                for r in 0..5 {
                    for k in 0..5 {
                        let col = if flipped { x0 + 4 - k } else { x0 + k };
                        assert_eq!(out[c * 25 + r * 5 + k], code(i, c, y0 + r, col));
                    }
                }
            }
        }
        assert!((60..140).contains(&flips), "{flips} flips in 200");
        assert_eq!(
            corners.len(),
            16,
            "every corner of the 4×4 choices is drawn"
        );

        // without a draw: the centre, unflipped
        crops.get_into(1, &mut out);
        assert_eq!(out[0], code(1, 0, 1, 1));
        assert_eq!(out[74], code(1, 2, 5, 5));
    }

    #[test]
    fn random_pick_visits_every_image_and_bad_crops_are_refused() {
        let source = Arc::new(Coded { n: 4, size: 6 });
        let crops = RandomCrops::new(source.clone(), 6, false, 10, Pick::Random).unwrap();
        let mut out = vec![0.0; 108];
        let seen: std::collections::HashSet<usize> = (0..100u64)
            .map(|d| {
                crops.get_drawn(0, d, &mut out);
                (out[0] / 1000.0) as usize
            })
            .collect();
        assert_eq!(seen.len(), 4);
        let e = RandomCrops::new(source, 7, true, 1, Pick::Cycle)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("crop size 7") && e.contains('6'), "{e}");
    }
}
