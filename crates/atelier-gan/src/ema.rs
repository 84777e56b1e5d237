//! An exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et
//! al., "The unusual effectiveness of averaging in GAN training", ICLR 2019): after each of
//! G's updates, `θ_ema ← β_t · θ_ema + (1 − β_t) · θ`, with the warm-up
//! `β_t = min(β, (1 + t) / (10 + t))` at update t (TensorFlow's `ExponentialMovingAverage`
//! with `num_updates`), so early averages are not dominated by the random initial weights.
//! BatchNorm's running statistics are averaged the same way (as BigGAN's EMA does); its batch
//! counter is copied. The update is tensor ops on the device, nothing is read back.

use atelier_nn::{Init, Module, module::is_integer_buffer};
use atelier_tensor::no_grad;

use crate::model::Generator;

pub struct Ema {
    /// β, the decay once warmed up (e.g. 0.999).
    pub beta: f64,
    /// The averaged generator (evaluation copy; never trained).
    pub g: Generator,
    /// Updates so far.
    pub updates: u64,
}

/// The decay of update `t` (counting from 0): `min(β, (1 + t) / (10 + t))`.
pub fn decay(beta: f64, t: u64) -> f64 {
    beta.min((1.0 + t as f64) / (10.0 + t as f64))
}

impl Ema {
    /// An average that starts as a copy of `g`.
    pub fn new(beta: f64, g: &Generator) -> Ema {
        let copy = Generator::new(&mut Init::new(device_of(g), 0), g.config);
        copy_state(g, &copy);
        Ema {
            beta,
            g: copy,
            updates: 0,
        }
    }

    /// One update from the current `g`.
    pub fn update(&mut self, g: &Generator) {
        let b = decay(self.beta, self.updates) as f32;
        no_grad(|| {
            for ((name, avg), (_, cur)) in self.g.named_tensors().into_iter().zip(g.named_tensors())
            {
                if is_integer_buffer(&name) {
                    avg.assign(&cur);
                } else {
                    // avg + (1 − b)(cur − avg)
                    avg.assign(&avg.add(&cur.sub(&avg).mul_scalar(1.0 - b)));
                }
            }
        });
        self.updates += 1;
    }
}

fn device_of(g: &Generator) -> atelier_tensor::Device {
    g.parameters()[0].device()
}

/// Copies every state tensor of `from` into `to` (same architecture).
pub fn copy_state(from: &dyn Module, to: &dyn Module) {
    for ((_, src), (_, dst)) in from.named_tensors().into_iter().zip(to.named_tensors()) {
        dst.assign(&src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DcganConfig;
    use atelier_tensor::Device;

    #[test]
    fn the_warm_up_starts_low_and_settles_at_beta() {
        assert!((decay(0.999, 0) - 0.1).abs() < 1e-12);
        assert!((decay(0.999, 10) - 11.0 / 20.0).abs() < 1e-12);
        assert_eq!(decay(0.999, 1_000_000), 0.999);
        assert_eq!(decay(0.5, 100), 0.5);
    }

    #[test]
    fn each_update_moves_the_average_toward_g_by_one_minus_the_decay() {
        let config = DcganConfig {
            nz: 3,
            ngf: 2,
            ndf: 2,
            channels: 1,
            image_size: 32,
        };
        let g = Generator::new(&mut Init::new(Device::Cpu, 1), config);
        let mut ema = Ema::new(0.9, &g);
        let start = ema.g.named_tensors();
        assert_eq!(
            start[0].1.to_vec(),
            g.named_tensors()[0].1.to_vec(),
            "a copy"
        );
        let mut expected: Vec<Vec<f64>> = start
            .iter()
            .map(|(_, t)| t.to_vec().iter().map(|&v| v as f64).collect())
            .collect();
        for step in 0..3u64 {
            // G moves: new weights from another seed
            let moved = Generator::new(&mut Init::new(Device::Cpu, 10 + step), config);
            copy_state(&moved, &g);
            ema.update(&g);
            let b = decay(0.9, step);
            for (e, (name, cur)) in expected.iter_mut().zip(g.named_tensors()) {
                for (ev, cv) in e.iter_mut().zip(cur.to_vec()) {
                    *ev = if is_integer_buffer(&name) {
                        cv as f64
                    } else {
                        b * *ev + (1.0 - b) * cv as f64
                    };
                }
            }
        }
        assert_eq!(ema.updates, 3);
        for (e, (name, avg)) in expected.iter().zip(ema.g.named_tensors()) {
            for (ev, av) in e.iter().zip(avg.to_vec()) {
                assert!((ev - av as f64).abs() < 1e-6, "{name}: {ev} vs {av}");
            }
        }
    }
}
