//! What a CycleGAN training step holds on a device, computed from its shape before anything is
//! built, so that `cyclegan train` refuses a run the device's (or, on the CPU, the host's)
//! memory cannot hold, with both figures, instead of failing part-way.
//!
//! The count is structural: every layer's output for one image (the networks' `Sequential`s,
//! layer by layer), times the forward passes a step keeps for its backward, with their
//! gradients; weights with their gradients and Adam's moments; the image pools. It is an
//! upper bound with room to spare: fused kernels skip some of those outputs and the buffer
//! pool reuses a pass's buffers for the next (on lavapipe the pool's footprint after warm
//! steps measured 0.6–0.7 of it; `tests/tests/memory_estimate.rs` checks the bound).

use super::{CycleGanConfig, DiscriminatorConfig, GeneratorConfig};

impl GeneratorConfig {
    /// Weights and biases.
    pub fn parameters(&self) -> u128 {
        let f = self.ngf as u128;
        let conv = |c: u128, k: u128, r: u128| c * k * r * r + k;
        let mut p = conv(self.input_nc as u128, f, 7);
        p += conv(f, 2 * f, 3) + conv(2 * f, 4 * f, 3);
        p += 2 * self.n_blocks as u128 * conv(4 * f, 4 * f, 3);
        p += conv(4 * f, 2 * f, 3) + conv(2 * f, f, 3);
        p + conv(f, self.output_nc as u128, 7)
    }

    /// Floats of every layer's output for one `height` × `width` image.
    pub fn activation_floats(&self, height: usize, width: usize) -> u128 {
        let f = self.ngf as u128;
        // sides after each stride-2 convolution, and back up
        let down = |s: usize| s.div_ceil(2) as u128;
        let (h1, w1) = (down(height), down(width));
        let (h2, w2) = (down(h1 as usize), down(w1 as usize));
        let (h, w) = (height as u128, width as u128);
        let mut a = self.input_nc as u128 * (h + 6) * (w + 6) + 3 * f * h * w;
        a += 3 * 2 * f * h1 * w1 + 3 * 4 * f * h2 * w2;
        // each block: pad, conv, norm, ReLU, pad, conv, norm, the sum
        a += self.n_blocks as u128 * 4 * f * (2 * (h2 + 2) * (w2 + 2) + 6 * h2 * w2);
        let (h4, w4) = (4 * h2, 4 * w2);
        a += 3 * 2 * f * (h4 / 2) * (w4 / 2) + 3 * f * h4 * w4;
        a + f * (h4 + 6) * (w4 + 6) + 2 * self.output_nc as u128 * h4 * w4
    }

    /// Bytes translating one `height` × `width` image holds: the weights and every layer's
    /// output (no gradients).
    pub fn translation_bytes(&self, height: usize, width: usize) -> u128 {
        4 * (self.parameters() + self.activation_floats(height, width))
    }

    /// The largest tensors of a translation (names and NCHW shapes), for the device's
    /// binding and buffer limits.
    pub fn largest_activations(&self, height: usize, width: usize) -> Vec<(String, Vec<usize>)> {
        let (h4, w4) = (4 * height.div_ceil(4), 4 * width.div_ceil(4));
        vec![
            (
                "the padded input".into(),
                vec![1, self.input_nc, height + 6, width + 6],
            ),
            (
                "the first convolution's output".into(),
                vec![1, self.ngf, height, width],
            ),
            (
                "the last convolution's padded input".into(),
                vec![1, self.ngf, h4 + 6, w4 + 6],
            ),
        ]
    }
}

impl DiscriminatorConfig {
    fn width(&self, k: usize) -> u128 {
        (self.ndf as u128) << k.min(3)
    }

    /// Weights and biases.
    pub fn parameters(&self) -> u128 {
        let conv = |c: u128, k: u128| c * k * 16 + k;
        let mut p = conv(self.input_nc as u128, self.width(0));
        for k in 1..=self.n_layers {
            p += conv(self.width(k - 1), self.width(k));
        }
        p + conv(self.width(self.n_layers), 1)
    }

    /// Floats of every layer's output for one `side`² image.
    pub fn activation_floats(&self, side: usize) -> u128 {
        let mut s = side as u128 / 2;
        let mut a = 2 * self.width(0) * s * s;
        for k in 1..=self.n_layers {
            s = if k < self.n_layers {
                s / 2
            } else {
                s.saturating_sub(1)
            };
            a += 3 * self.width(k) * s * s;
        }
        let s = s.saturating_sub(1);
        a + s * s
    }
}

impl CycleGanConfig {
    /// Weights and biases of the four networks.
    pub fn parameters(&self) -> u128 {
        self.g_a().parameters()
            + self.g_b().parameters()
            + self.d_a().parameters()
            + self.d_b().parameters()
    }

    /// Bytes a training step holds at `batch` crops of `side`², with image pools of
    /// `pool_size` and the identity loss on or off: six copies of the weights (gradients,
    /// Adam's moments, the gradients' accumulation), and per image every activation of the
    /// passes a step keeps for its backward (four generator passes, two more for the identity
    /// loss; six discriminator passes) with their gradients.
    pub fn training_bytes(
        &self,
        batch: usize,
        side: usize,
        pool_size: usize,
        identity: bool,
    ) -> u128 {
        let g = self.g_a().activation_floats(side, side) + self.g_b().activation_floats(side, side);
        let d = self.d_a().activation_floats(side) + self.d_b().activation_floats(side);
        let g_passes = if identity { 3 } else { 2 };
        let per_image = 2 * (g_passes * g + 3 * d);
        let acts = batch as u128 * per_image;
        let pools = pool_size as u128 * (self.nc_a + self.nc_b) as u128 * (side * side) as u128;
        4 * (6 * self.parameters() + acts + pools)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{CycleGanConfig, NLayerDiscriminator, ResnetGenerator};
    use atelier_nn::{Init, Module};
    use atelier_tensor::{Device, Tensor};

    fn numel(m: &dyn Module) -> u128 {
        m.parameters().iter().map(|p| p.numel() as u128).sum()
    }

    #[test]
    fn the_counts_match_the_networks() {
        let config = CycleGanConfig {
            nc_a: 1,
            nc_b: 3,
            ngf: 3,
            ndf: 2,
            n_blocks: 2,
            n_layers_d: 2,
        };
        let mut init = Init::new(Device::Cpu, 0);
        let g = ResnetGenerator::new(&mut init, config.g_a());
        let d = NLayerDiscriminator::new(&mut init, config.d_a());
        assert_eq!(config.g_a().parameters(), numel(&g));
        assert_eq!(config.d_a().parameters(), numel(&d));
        let side = 20;
        // the last layer's output is counted: the generator's image, the discriminator's map
        let x = Tensor::zeros(&[1, 1, side, side], Device::Cpu);
        assert_eq!(g.forward(&x).shape(), &[1, 3, side, side]);
        let y = d.forward(&Tensor::zeros(&[1, 3, side, side], Device::Cpu));
        assert!(config.d_a().activation_floats(side) > y.numel() as u128);
        let more = config.training_bytes(2, side, 0, true);
        assert!(more > config.training_bytes(1, side, 0, true));
        assert!(more > config.training_bytes(2, side, 0, false));
        assert!(config.training_bytes(2, side, 50, true) > more);
    }
}
