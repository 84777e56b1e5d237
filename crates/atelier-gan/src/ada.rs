//! Adaptive augmentation probability, ADA's idea (Karras et al., "Training Generative
//! Adversarial Networks with Limited Data", NeurIPS 2020): an overfitting discriminator grows
//! confident on the training images, so the fraction of real images it scores positive,
//! `r_t = E[sign(D(x))]`, rises. Every `interval` steps `p` moves by `± interval · batch /
//! (kimg · 1000)` toward keeping `r_t` at the target (0.6): up when `r_t` is above it, down
//! when below, clamped to [0, 1]; `p` goes from 0 to 1 in `kimg` thousand images at the
//! fastest.
//!
//! Everything stays on the device: the signs are summed by tensor ops after each step, and
//! `p` is updated from them by tensor ops, so the loop reads nothing back; `p` and the last
//! `r_t` are read with the losses when the trainer logs.

use atelier_tensor::{Device, Tensor, no_grad};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaConfig {
    /// The `r_t` to hold (ADA: 0.6).
    pub target: f64,
    /// Steps between adjustments (ADA: 4).
    pub interval: u64,
    /// Thousands of images for `p` to go from 0 to 1 (ADA: 500; runs on a few hundred images
    /// are short, so the default here is 100).
    pub kimg: f64,
}

impl Default for AdaConfig {
    fn default() -> Self {
        AdaConfig {
            target: 0.6,
            interval: 4,
            kimg: 100.0,
        }
    }
}

impl AdaConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.target) {
            return Err(format!("--ada-target {} must be in [0, 1]", self.target));
        }
        if self.interval == 0 {
            return Err("--ada-interval must be at least 1".into());
        }
        if !(self.kimg > 0.0 && self.kimg.is_finite()) {
            return Err(format!("--ada-kimg {} must be positive", self.kimg));
        }
        Ok(())
    }

    /// How far `p` moves in one adjustment for a batch of `batch` images.
    pub fn step_size(&self, batch: usize) -> f64 {
        (self.interval * batch as u64) as f64 / (self.kimg * 1000.0)
    }
}

/// The adaptive probability and the sign sum since the last adjustment, on the device.
pub struct Ada {
    pub config: AdaConfig,
    /// `[1]`: the current probability.
    pub p: Tensor,
    /// `[1]`: the sum of sign(D(x)) over the real images since the last adjustment.
    pub signs: Tensor,
    /// `[1]`: the `r_t` of the last adjustment (0 before the first).
    pub last_rt: Tensor,
    /// Real images counted in `signs`.
    pub seen: u64,
}

impl Ada {
    /// Starts at `p` = 0 (ADA's start).
    pub fn new(config: AdaConfig, device: Device) -> Ada {
        Ada {
            config,
            p: Tensor::zeros(&[1], device),
            signs: Tensor::zeros(&[1], device),
            last_rt: Tensor::zeros(&[1], device),
            seen: 0,
        }
    }

    /// Adds the signs of D's logits on a real batch.
    pub fn observe(&mut self, logits_real: &Tensor) {
        no_grad(|| {
            let zero = self.signs.zeros_like();
            let signs = logits_real
                .gt_mask(&zero)
                .sub(&zero.gt_mask(logits_real))
                .sum_all()
                .reshape(&[1]);
            self.signs = self.signs.add(&signs);
        });
        self.seen += logits_real.numel() as u64;
    }

    /// The adjustment after `interval` steps: `p += sign(r_t − target) · step`, clamped to
    /// [0, 1]; the sign sum restarts.
    pub fn adjust(&mut self, batch: usize) {
        if self.seen == 0 {
            return;
        }
        no_grad(|| {
            let rt = self.signs.div_scalar(self.seen as f32);
            let target = rt.full_like(self.config.target as f32);
            let direction = rt.gt_mask(&target).sub(&target.gt_mask(&rt));
            let step = self.config.step_size(batch) as f32;
            let p = self.p.add(&direction.mul_scalar(step));
            self.p = p.maximum(&p.zeros_like()).minimum(&p.ones_like());
            self.last_rt = rt;
            self.signs = self.signs.zeros_like();
        });
        self.seen = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_rises_while_d_is_sure_of_the_reals_and_falls_back_when_not() {
        let config = AdaConfig {
            target: 0.6,
            interval: 2,
            kimg: 0.016, // a step of 2 · 4 / 16 = 0.5
        };
        let mut ada = Ada::new(config, Device::Cpu);
        let sure = Tensor::from_vec(vec![3.0, 2.0, 1.0, -1.0], &[4], Device::Cpu); // r_t = 0.5
        let very_sure = Tensor::from_vec(vec![3.0, 2.0, 1.0, 1.0], &[4], Device::Cpu); // 1.0
        ada.observe(&very_sure);
        ada.observe(&very_sure);
        ada.adjust(4);
        assert_eq!(ada.p.to_vec(), [0.5]);
        assert_eq!(ada.last_rt.to_vec(), [1.0]);
        ada.observe(&very_sure);
        ada.observe(&sure); // r_t = 0.75
        ada.adjust(4);
        assert_eq!(ada.p.to_vec(), [1.0]);
        ada.observe(&very_sure);
        ada.adjust(4);
        assert_eq!(ada.p.to_vec(), [1.0], "clamped at 1");
        ada.observe(&sure);
        ada.observe(&sure); // r_t = 0.5 < 0.6
        ada.adjust(4);
        assert_eq!(ada.p.to_vec(), [0.5]);
        assert_eq!(ada.last_rt.to_vec(), [0.5]);
    }
}
