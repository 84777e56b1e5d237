//! The GAN losses of the repository's `GANLoss`: least squares (`lsgan`, its default and
//! CycleGAN's: MSE against 1 for real and 0 for fake) or `vanilla` (binary cross-entropy
//! with logits). Both average over every patch of the discriminator's output map.

use std::fmt;

use atelier_tensor::Tensor;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GanMode {
    Lsgan,
    Vanilla,
}

impl GanMode {
    pub const ALL: [GanMode; 2] = [GanMode::Lsgan, GanMode::Vanilla];

    pub fn name(self) -> &'static str {
        match self {
            GanMode::Lsgan => "lsgan",
            GanMode::Vanilla => "vanilla",
        }
    }

    pub fn from_name(name: &str) -> Result<GanMode, String> {
        GanMode::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| format!("unknown GAN loss {name:?}: use lsgan or vanilla"))
    }

    /// The loss of discriminator outputs `pred` against `target` (all ones for "real", all
    /// zeros for "fake", of `pred`'s shape).
    pub fn loss(self, pred: &Tensor, target: &Tensor) -> Tensor {
        match self {
            GanMode::Lsgan => pred.mse(target),
            GanMode::Vanilla => pred.bce_with_logits(target),
        }
    }
}

impl fmt::Display for GanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
