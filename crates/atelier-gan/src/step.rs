//! One DCGAN training step, in pytorch/examples' order (see tests/data/pytorch/README.md and
//! tests/tests/dcgan_step.rs, which checks it against PyTorch):
//!
//! 1. D's gradients are zeroed; `fake = G(z)`;
//!    `loss_D = BCE(D(real), 1) + BCE(D(fake.detach()), 0)`, two separate D calls (two
//!    BatchNorm batches); backward; D's Adam step.
//! 2. G's gradients are zeroed; `loss_G = BCE(D(fake), 1)` through a third D call (training
//!    mode: it updates D's running statistics too); backward; G's Adam step.
//!
//! BCE takes D's logits. PyTorch's step 2 also accumulates gradients into D's weights, which
//! step 1 of the next iteration zeroes unused; here D's parameters are frozen for that call so
//! those weight gradients are never computed. The results are the same.
//!
//! A step reads nothing back: losses and D's outputs stay on the device in [`StepOutputs`]
//! until the caller asks for them ([`StepOutputs::read`], one read-back for all five).

use atelier_nn::{Adam, AdamConfig, Init, Module, Optimizer};
use atelier_tensor::{Device, Tensor, no_grad};

use crate::model::{DcganConfig, Discriminator, Generator};

/// Adam as DCGAN uses it: lr 2e-4, betas (0.5, 0.999).
pub fn dcgan_adam(lr: f64) -> AdamConfig {
    AdamConfig {
        lr,
        beta1: 0.5,
        beta2: 0.999,
        ..AdamConfig::default()
    }
}

/// The generator, the discriminator and their optimizers.
pub struct Dcgan {
    pub config: DcganConfig,
    pub device: Device,
    pub g: Generator,
    pub d: Discriminator,
    pub opt_g: Adam,
    pub opt_d: Adam,
    /// BCE targets of the current batch size (made once, reused every step).
    targets: Option<(Tensor, Tensor)>,
}

/// What one step leaves on the device: the two losses and D's logits for the real batch, the
/// detached fake batch (before D's update) and the fake batch in G's step (after it).
pub struct StepOutputs {
    pub loss_d: Tensor,
    pub loss_g: Tensor,
    pub logits_real: Tensor,
    pub logits_fake_d: Tensor,
    pub logits_fake_g: Tensor,
}

/// The read values of a step, as pytorch/examples prints them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepValues {
    pub loss_d: f32,
    pub loss_g: f32,
    /// Mean of sigmoid(D(x)) on the real batch.
    pub d_x: f32,
    /// Mean of sigmoid(D(G(z))) before D's update.
    pub d_g_z1: f32,
    /// Mean of sigmoid(D(G(z))) in G's step, after D's update.
    pub d_g_z2: f32,
}

impl StepValues {
    pub fn is_finite(&self) -> bool {
        [self.loss_d, self.loss_g, self.d_x, self.d_g_z1, self.d_g_z2]
            .iter()
            .all(|v| v.is_finite())
    }
}

impl StepOutputs {
    /// Computes the D(·) means and reads all five values with one read-back.
    pub fn read(&self) -> StepValues {
        let v = no_grad(|| {
            let d_mean = |l: &Tensor| l.sigmoid().mean_all().reshape(&[1]);
            Tensor::concat(
                &[
                    self.loss_d.reshape(&[1]),
                    self.loss_g.reshape(&[1]),
                    d_mean(&self.logits_real),
                    d_mean(&self.logits_fake_d),
                    d_mean(&self.logits_fake_g),
                ],
                0,
            )
            .to_vec()
        });
        StepValues {
            loss_d: v[0],
            loss_g: v[1],
            d_x: v[2],
            d_g_z1: v[3],
            d_g_z2: v[4],
        }
    }
}

impl Dcgan {
    /// G and D with DCGAN's initialisation from `seed`, on `device`, with Adam at `lr`.
    pub fn new(config: DcganConfig, device: Device, seed: u64, lr: f64) -> Dcgan {
        let mut init = Init::new(device, seed);
        let g = Generator::new(&mut init, config);
        let d = Discriminator::new(&mut init, config);
        atelier_nn::init::dcgan(&g, seed.wrapping_add(1));
        atelier_nn::init::dcgan(&d, seed.wrapping_add(2));
        let opt_g = Adam::new(g.parameters(), dcgan_adam(lr));
        let opt_d = Adam::new(d.parameters(), dcgan_adam(lr));
        Dcgan {
            config,
            device,
            g,
            d,
            opt_g,
            opt_d,
            targets: None,
        }
    }

    /// Completed steps (D's optimizer counts them).
    pub fn steps(&self) -> u64 {
        self.opt_d.steps()
    }

    fn targets(&mut self, batch: usize) -> (Tensor, Tensor) {
        match &self.targets {
            Some((ones, zeros)) if ones.shape()[0] == batch => (ones.clone(), zeros.clone()),
            _ => {
                let t = (
                    Tensor::ones(&[batch], self.device),
                    Tensor::zeros(&[batch], self.device),
                );
                self.targets = Some(t.clone());
                t
            }
        }
    }

    /// One training step on a real batch `[N, C, H, W]` and noise `[N, nz, 1, 1]`, both on
    /// this model's device.
    pub fn step(&mut self, real: &Tensor, z: &Tensor) -> StepOutputs {
        let (ones, zeros) = self.targets(real.shape()[0]);
        self.g.set_training(true);
        self.d.set_training(true);

        // (1) D: maximise log D(x) + log(1 − D(G(z)))
        self.opt_d.zero_grad();
        // G's gradients of the previous step are zeroed below anyway, and nothing in D's
        // phase reaches G (it sees fake.detach()); dropping them now lets D's phase reuse
        // their buffers, so every step needs the same buffers as the first
        self.opt_g.zero_grad();
        let fake = self.g.forward(z);
        let logits_real = self.d.forward(real);
        let logits_fake_d = self.d.forward(&fake.detach());
        let loss_d = logits_real
            .bce_with_logits(&ones)
            .add(&logits_fake_d.bce_with_logits(&zeros));
        loss_d.backward();
        self.opt_d.step();

        // (2) G: maximise log D(G(z)), through the updated D
        self.opt_g.zero_grad();
        let d_params = self.d.parameters();
        set_requires_grad(&d_params, false);
        let logits_fake_g = self.d.forward(&fake);
        let loss_g = logits_fake_g.bce_with_logits(&ones);
        loss_g.backward();
        set_requires_grad(&d_params, true);
        self.opt_g.step();

        StepOutputs {
            loss_d: loss_d.detach(),
            loss_g: loss_g.detach(),
            logits_real: logits_real.detach(),
            logits_fake_d: logits_fake_d.detach(),
            logits_fake_g: logits_fake_g.detach(),
        }
    }

    /// G's images for noise `z`, without gradients, in evaluation mode (BatchNorm uses its
    /// running statistics) unless `batch_stats`.
    pub fn generate(&self, z: &Tensor, batch_stats: bool) -> Tensor {
        generate(&self.g, z, batch_stats)
    }
}

/// `g`'s images for `z` without gradients. In evaluation mode BatchNorm uses its running
/// statistics; with `batch_stats` it normalises with the batch's own, as pytorch/examples'
/// sample grids do, without touching the running statistics.
pub fn generate(g: &Generator, z: &Tensor, batch_stats: bool) -> Tensor {
    no_grad(|| {
        if batch_stats {
            // train-mode BatchNorm updates running stats and counters: keep them
            let saved: Vec<(Tensor, Tensor)> = g
                .named_buffers()
                .into_iter()
                .map(|(_, t)| (t.clone(), t.deep_clone()))
                .collect();
            g.set_training(true);
            let x = g.forward(z);
            for (t, copy) in saved {
                t.assign(&copy);
            }
            x
        } else {
            g.set_training(false);
            let x = g.forward(z);
            g.set_training(true);
            x
        }
    })
}

fn set_requires_grad(params: &[Tensor], on: bool) {
    for p in params {
        let _ = p.clone().requires_grad_(on);
    }
}
