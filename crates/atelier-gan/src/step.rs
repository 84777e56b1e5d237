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
//! until the caller asks for them ([`StepOutputs::read`], one read-back for all of them).
//!
//! Options for small data sets, each off by default (so the step above is PyTorch's):
//! DiffAugment ([`crate::augment`]) on every image D sees, in both phases, with a fixed or
//! adaptive ([`crate::ada`]) probability, and an exponential moving average of G
//! ([`crate::ema`]) updated after G's step.

use atelier_nn::{Adam, AdamConfig, Init, Module, Optimizer};
use atelier_tensor::{Device, Tensor, no_grad};

use crate::ada::{Ada, AdaConfig};
use crate::augment::{DiffAugment, Draws, Policy};
use crate::ema::Ema;
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
    /// DiffAugment on D's inputs, when on.
    pub augment: Option<DiffAugment>,
    /// The augmentation probability: adaptive (ADA) when on, else a constant 1.
    pub ada: Option<Ada>,
    /// The moving average of G, when on.
    pub ema: Option<Ema>,
    /// BCE targets of the current batch size (made once, reused every step).
    targets: Option<(Tensor, Tensor)>,
    /// `[1]` holding 1: the probability when ADA is off.
    always: Tensor,
}

/// The random numbers of one step's three augmentations (D on the real batch, D on the
/// detached fakes, D on the fakes in G's step), each `[augment::row::COUNT, N]` on the device.
pub struct StepDraws(pub [Tensor; 3]);

impl StepDraws {
    /// Draws for a batch of `n` images of `h`×`w` from `seed` (one seed per step).
    pub fn draw(n: usize, h: usize, w: usize, seed: u64, device: Device) -> StepDraws {
        let one = |k: u64| {
            Draws::draw(n, h, w, crate::latent::derive_seed(seed, k))
                .tensor(device, atelier_tensor::DType::F32)
        };
        StepDraws([one(0), one(1), one(2)])
    }
}

/// What one step leaves on the device: the two losses and D's logits for the real batch, the
/// detached fake batch (before D's update) and the fake batch in G's step (after it).
pub struct StepOutputs {
    pub loss_d: Tensor,
    pub loss_g: Tensor,
    pub logits_real: Tensor,
    pub logits_fake_d: Tensor,
    pub logits_fake_g: Tensor,
    /// `[1]`: the augmentation probability used by this step, when augmenting.
    pub aug_p: Option<Tensor>,
    /// `[1]`: ADA's last r_t = E[sign(D(x))], when ADA is on.
    pub rt: Option<Tensor>,
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
    /// The augmentation probability (NaN without DiffAugment).
    pub aug_p: f32,
    /// ADA's last r_t (NaN without ADA).
    pub rt: f32,
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
            let mut all = vec![
                self.loss_d.reshape(&[1]),
                self.loss_g.reshape(&[1]),
                d_mean(&self.logits_real),
                d_mean(&self.logits_fake_d),
                d_mean(&self.logits_fake_g),
            ];
            all.extend(self.aug_p.iter().chain(&self.rt).cloned());
            Tensor::concat(&all, 0).to_vec()
        });
        let mut extra = v[5..].iter().copied();
        StepValues {
            loss_d: v[0],
            loss_g: v[1],
            d_x: v[2],
            d_g_z1: v[3],
            d_g_z2: v[4],
            aug_p: if self.aug_p.is_some() {
                extra.next().unwrap_or(f32::NAN)
            } else {
                f32::NAN
            },
            rt: if self.rt.is_some() {
                extra.next().unwrap_or(f32::NAN)
            } else {
                f32::NAN
            },
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
            augment: None,
            ada: None,
            ema: None,
            targets: None,
            always: Tensor::ones(&[1], device),
        }
    }

    /// Turns on DiffAugment with `policy` (nothing for an empty policy), with ADA's adaptive
    /// probability when `ada` is given (else every transform applies to every image).
    pub fn with_augment(mut self, policy: Policy, ada: Option<AdaConfig>) -> Dcgan {
        if !policy.is_empty() {
            self.augment = Some(DiffAugment::new(policy));
            self.ada = ada.map(|c| Ada::new(c, self.device));
        }
        self
    }

    /// Turns on the moving average of G with decay `beta` (starting as a copy of G).
    pub fn with_ema(mut self, beta: Option<f64>) -> Dcgan {
        self.ema = beta.map(|b| Ema::new(b, &self.g));
        self
    }

    /// The generator to sample from: the moving average when there is one, else G.
    pub fn sampling_generator(&self) -> &Generator {
        self.ema.as_ref().map_or(&self.g, |e| &e.g)
    }

    /// The augmentation probability tensor (`[1]`).
    fn aug_p(&self) -> Tensor {
        self.ada
            .as_ref()
            .map_or(self.always.clone(), |a| a.p.clone())
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
    /// this model's device (without augmentation).
    pub fn step(&mut self, real: &Tensor, z: &Tensor) -> StepOutputs {
        self.step_with(real, z, None)
    }

    /// One training step; `draws` are the augmentations' random numbers, required when
    /// DiffAugment is on.
    pub fn step_with(
        &mut self,
        real: &Tensor,
        z: &Tensor,
        draws: Option<&StepDraws>,
    ) -> StepOutputs {
        let batch = real.shape()[0];
        let (ones, zeros) = self.targets(batch);
        let p = self.aug_p();
        let augment = |x: &Tensor, k: usize| -> Tensor {
            match (&self.augment, draws) {
                (Some(a), Some(d)) => a.apply(x, &d.0[k], &p),
                (Some(_), None) => panic!("Dcgan::step_with: DiffAugment is on but no draws given"),
                (None, _) => x.clone(),
            }
        };
        self.g.set_training(true);
        self.d.set_training(true);

        // (1) D: maximise log D(x) + log(1 − D(G(z)))
        self.opt_d.zero_grad();
        // G's gradients of the previous step are zeroed below anyway, and nothing in D's
        // phase reaches G (it sees fake.detach()); dropping them now lets D's phase reuse
        // their buffers, so every step needs the same buffers as the first
        self.opt_g.zero_grad();
        let fake = self.g.forward(z);
        let logits_real = self.d.forward(&augment(real, 0));
        let logits_fake_d = self.d.forward(&augment(&fake.detach(), 1));
        let loss_d = logits_real
            .bce_with_logits(&ones)
            .add(&logits_fake_d.bce_with_logits(&zeros));
        loss_d.backward();
        self.opt_d.step();

        // (2) G: maximise log D(G(z)), through the updated D
        self.opt_g.zero_grad();
        let d_params = self.d.parameters();
        set_requires_grad(&d_params, false);
        let logits_fake_g = self.d.forward(&augment(&fake, 2));
        let loss_g = logits_fake_g.bce_with_logits(&ones);
        loss_g.backward();
        set_requires_grad(&d_params, true);
        self.opt_g.step();

        if let Some(ema) = &mut self.ema {
            ema.update(&self.g);
        }
        let aug_p = self.augment.as_ref().map(|_| p.detach());
        let steps = self.steps();
        let rt = self.ada.as_mut().map(|ada| {
            ada.observe(&logits_real.detach());
            if steps.is_multiple_of(ada.config.interval) {
                ada.adjust(batch);
            }
            ada.last_rt.clone()
        });
        StepOutputs {
            loss_d: loss_d.detach(),
            loss_g: loss_g.detach(),
            logits_real: logits_real.detach(),
            logits_fake_d: logits_fake_d.detach(),
            logits_fake_g: logits_fake_g.detach(),
            aug_p,
            rt,
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
