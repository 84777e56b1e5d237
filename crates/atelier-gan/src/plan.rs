//! What a DCGAN asks of a device, computed from its shape before anything is built: every
//! weight and activation tensor at a batch size, so that a command refuses what cannot fit
//! (naming the tensor, its size and the device's limit, `atelier_tensor::limits`) before any
//! work, and splits generation into batches that fit.

use atelier_tensor::Device;
use atelier_tensor::limits::{
    TooLarge, check_all_batches_fit, check_all_fit, items_per_batch, tensor_bytes,
};

use crate::model::DcganConfig;

/// Backward-weight of a convolution sums its reduction (batch × output plane) in slices of
/// at most this many elements, one partial weight gradient per slice (atelier-kernels'
/// conv2d MAX_SPLIT_LEN): the scratch tensor is `slices × weight`.
const SPLIT_LEN: usize = 16_384;

/// Named tensor shapes.
pub type Shapes = Vec<(String, Vec<usize>)>;

impl DcganConfig {
    /// Channels and side of G's stage outputs, from 4×4 up (before its last layer).
    fn generator_stages(&self) -> Vec<(usize, usize)> {
        let s = self.stages();
        (0..s)
            .map(|i| (self.ngf.saturating_mul(1 << (s - 1 - i)), 4 << i))
            .collect()
    }

    /// Channels and side of D's convolution outputs (before its last layer).
    fn discriminator_stages(&self) -> Vec<(usize, usize)> {
        (0..self.stages())
            .map(|i| (self.ndf.saturating_mul(1 << i), self.image_size >> (i + 1)))
            .collect()
    }

    /// G's and D's weights (convolutions; BatchNorm's are small), with the input side and
    /// output side of each layer (for the weight-gradient scratch).
    fn weights(&self) -> Vec<(String, Vec<usize>, usize)> {
        let mut w = Vec::new();
        let g = self.generator_stages();
        let mut c_in = self.nz;
        let mut side_in = 1;
        for (i, &(c, side)) in g.iter().enumerate() {
            let name = format!("generator layer {} weight", i + 1);
            w.push((name, vec![c_in, c, 4, 4], side_in.max(side)));
            (c_in, side_in) = (c, side);
        }
        let last = format!("generator layer {} weight", g.len() + 1);
        w.push((last, vec![c_in, self.channels, 4, 4], self.image_size));
        let mut c_in = self.channels;
        let d = self.discriminator_stages();
        for (i, &(c, side)) in d.iter().enumerate() {
            let name = format!("discriminator layer {} weight", i + 1);
            w.push((name, vec![c, c_in, 4, 4], (side * 2).max(side)));
            c_in = c;
        }
        let last = format!("discriminator layer {} weight", d.len() + 1);
        w.push((last, vec![1, c_in, 4, 4], 4));
        w
    }

    /// G's activations at `batch` (each stage's output and the images).
    pub fn generator_activations(&self, batch: usize) -> Shapes {
        let mut a: Shapes = self
            .generator_stages()
            .into_iter()
            .enumerate()
            .map(|(i, (c, side))| {
                let name = format!("generator layer {} output", i + 1);
                (name, vec![batch, c, side, side])
            })
            .collect();
        let s = self.image_size;
        a.push(("generated images".into(), vec![batch, self.channels, s, s]));
        a
    }

    /// Every tensor of a training step at `batch` that grows with the model or the batch:
    /// weights, activations, and the weight-gradient scratch of each convolution.
    pub fn training_tensors(&self, batch: usize) -> Shapes {
        let mut t: Shapes = self
            .weights()
            .iter()
            .map(|(n, shape, _)| (n.clone(), shape.clone()))
            .collect();
        t.extend(self.generator_activations(batch));
        for (i, (c, side)) in self.discriminator_stages().into_iter().enumerate() {
            let name = format!("discriminator layer {} output", i + 1);
            t.push((name, vec![batch, c, side, side]));
        }
        for (name, shape, side) in self.weights() {
            let slices = batch.saturating_mul(side * side).div_ceil(SPLIT_LEN);
            if slices > 1 {
                let mut scratch = vec![slices];
                scratch.extend(&shape);
                t.push((format!("{name} gradient, partial sums"), scratch));
            }
        }
        t
    }

    /// An error naming the first tensor of a training step at `batch` that `device` cannot
    /// hold: weights and gradient scratch are bound whole; activations are batches, which the
    /// kernels split into chunks that fit a binding (one image's must).
    pub fn check_training_fits(&self, batch: usize, device: Device) -> Result<(), TooLarge> {
        let (batched, whole): (Shapes, Shapes) = self
            .training_tensors(batch)
            .into_iter()
            .partition(|(n, _)| n.ends_with("output") || n == "generated images");
        check_all_fit(&whole, device)?;
        check_all_batches_fit(&batched, device)
    }

    /// An error naming the first tensor of generating one image that `device` cannot hold
    /// (the weights, or one image's activations).
    pub fn check_generation_fits(&self, device: Device) -> Result<(), TooLarge> {
        let weights: Shapes = self
            .weights()
            .into_iter()
            .take(self.stages() + 1)
            .map(|(n, s, _)| (n, s))
            .collect();
        check_all_fit(&weights, device)?;
        check_all_fit(&self.generator_activations(1), device)
    }

    /// How many images G can generate in one batch on `device` (at most `cap`).
    pub fn generation_batch(&self, device: Device, cap: usize) -> usize {
        let per_image = self
            .generator_activations(1)
            .iter()
            .map(|(_, s)| tensor_bytes(s))
            .max()
            .unwrap_or(1);
        items_per_batch(per_image, device, cap)
    }

    /// Bytes a training step holds at `batch`, for the memory checks before work: six copies
    /// of the weights (the weights, Adam's two moments, and gradients: D's accumulate over
    /// its real and generated batches and G's step), the weight-gradient scratch, and five
    /// copies of every activation (each stage keeps its convolution's output and its
    /// normalised, activated one, with both gradients; D runs on two batches). The buffer
    /// pool's footprint after warm steps on lavapipe measured about four copies of the
    /// activations; the fifth is margin for its free list and other variants' scratch
    /// (`tests/tests/memory_estimate.rs` checks the bound at other sizes).
    pub fn training_bytes(&self, batch: usize) -> u128 {
        let tensors = self.training_tensors(batch);
        let bytes = |keep: &dyn Fn(&str) -> bool| -> u128 {
            tensors
                .iter()
                .filter(|(n, _)| keep(n))
                .map(|(_, s)| tensor_bytes(s))
                .sum()
        };
        let weights = bytes(&|n| n.ends_with("weight"));
        let scratch = bytes(&|n| n.ends_with("partial sums"));
        let acts = bytes(&|n| n.ends_with("output") || n == "generated images");
        weights * 6 + scratch + acts * 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Discriminator, Generator};
    use atelier_nn::{Init, Module};

    #[test]
    fn the_plan_has_the_shapes_the_models_make() {
        for size in [32, 64] {
            let config = DcganConfig {
                nz: 5,
                ngf: 3,
                ndf: 2,
                channels: 3,
                image_size: size,
            };
            let mut init = Init::new(Device::Cpu, 0);
            let g = Generator::new(&mut init, config);
            let d = Discriminator::new(&mut init, config);
            let weights: Vec<Vec<usize>> = config.weights().into_iter().map(|w| w.1).collect();
            let model: Vec<Vec<usize>> = g
                .named_parameters()
                .into_iter()
                .chain(d.named_parameters())
                .map(|(_, t)| t.shape().to_vec())
                .filter(|s| s.len() == 4)
                .collect();
            assert_eq!(weights, model, "{size}");
            let x = g.forward(&crate::latent::noise(2, 5, 1, Device::Cpu));
            let acts = config.generator_activations(2);
            assert_eq!(acts.last().unwrap().1, x.shape());
        }
    }

    #[test]
    fn a_batch_or_width_too_large_for_the_cpu_is_refused_with_its_tensor() {
        let wide = DcganConfig {
            ngf: usize::MAX / 8,
            ..DcganConfig::default()
        };
        let err = wide.check_generation_fits(Device::Cpu).unwrap_err();
        assert!(
            err.to_string().contains("generator layer 1 weight"),
            "{err}"
        );
        assert!(
            DcganConfig::default()
                .check_training_fits(128, Device::Cpu)
                .is_ok()
        );
        assert_eq!(
            DcganConfig::default().generation_batch(Device::Cpu, 256),
            256
        );
    }
}
