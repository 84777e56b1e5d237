//! The learning rate over a run: the repository's `linear` policy. Constant for `n_epochs`
//! epochs, then linearly decayed over `n_epochs_decay` more: 0-based epoch `e` trains at
//! `lr · (1 − max(0, e + 1 − n_epochs) / (n_epochs_decay + 1))` (its `lambda_rule` with
//! `epoch_count = 1`), so the last epoch runs at `lr / (n_epochs_decay + 1)` and the next
//! would run at zero.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub lr: f64,
    pub n_epochs: u64,
    pub n_epochs_decay: u64,
}

impl Schedule {
    /// Epochs in all.
    pub fn epochs(&self) -> u64 {
        self.n_epochs + self.n_epochs_decay
    }

    /// The learning rate of 0-based epoch `epoch`.
    pub fn lr_at(&self, epoch: u64) -> f64 {
        let past = (epoch + 1).saturating_sub(self.n_epochs) as f64;
        let factor = 1.0 - past / (self.n_epochs_decay + 1) as f64;
        self.lr * factor.max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_then_linear_to_zero() {
        let s = Schedule {
            lr: 2e-4,
            n_epochs: 3,
            n_epochs_decay: 4,
        };
        let lrs: Vec<f64> = (0..s.epochs() + 1).map(|e| s.lr_at(e) / 2e-4).collect();
        let want = [1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0];
        for (got, want) in lrs.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{lrs:?}");
        }
    }
}
