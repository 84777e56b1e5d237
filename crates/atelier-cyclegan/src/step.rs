//! One CycleGAN training step, exactly as the repository's `CycleGANModel.optimize_parameters`
//! (see tests/tests/cyclegan_step.rs, which checks it against PyTorch):
//!
//! 1. forward: `fake_B = G_A(real_A)`, `rec_A = G_B(fake_B)`, `fake_A = G_B(real_B)`,
//!    `rec_B = G_A(fake_A)`;
//! 2. G step, D_A and D_B frozen, one Adam over both generators:
//!    `loss_G = G_A + G_B + cycle_A + cycle_B + idt_A + idt_B` with
//!    `G_A = GAN(D_A(fake_B), real)`, `G_B = GAN(D_B(fake_A), real)`,
//!    `cycle_A = λ_A·L1(rec_A, real_A)`, `cycle_B = λ_B·L1(rec_B, real_B)`,
//!    `idt_A = λ_B·λ_idt·L1(G_A(real_B), real_B)`, `idt_B = λ_A·λ_idt·L1(G_B(real_A), real_A)`;
//! 3. D step, one Adam over both discriminators:
//!    `D_A = (GAN(D_A(real_B), real) + GAN(D_A(pool_B(fake_B)), fake)) / 2` and `D_B` likewise
//!    with `real_A` and the pool of `fake_A`, the fakes detached.
//!
//! D_A judges domain B, D_B domain A. A step reads nothing back: the eight losses stay on the
//! device in [`StepOutputs`] until [`StepOutputs::read`] (one read-back for all).

use std::collections::HashMap;

use atelier_nn::{Adam, AdamConfig, Init, Module, Optimizer};
use atelier_tensor::{Device, Tensor, no_grad};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::loss::GanMode;
use crate::model::{CycleGanConfig, NLayerDiscriminator, ResnetGenerator};
use crate::pool::ImagePool;

/// The loss weights and choices of the repository's CycleGAN options.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossConfig {
    /// Weight of the cycle loss A → B → A (`--lambda_A`).
    pub lambda_a: f32,
    /// Weight of the cycle loss B → A → B (`--lambda_B`).
    pub lambda_b: f32,
    /// Identity loss weight, relative to the cycle weights (`--lambda_identity`; 0 skips the
    /// identity passes).
    pub lambda_identity: f32,
    pub gan_mode: GanMode,
    /// Past fakes kept for the discriminators (`--pool_size`; 0: none).
    pub pool_size: usize,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            lambda_a: 10.0,
            lambda_b: 10.0,
            lambda_identity: 0.5,
            gan_mode: GanMode::Lsgan,
            pool_size: 50,
        }
    }
}

/// Adam as the repository sets it up: betas (`beta1`, 0.999), eps 1e-8.
pub fn cyclegan_adam(lr: f64, beta1: f64) -> AdamConfig {
    AdamConfig {
        lr,
        beta1,
        beta2: 0.999,
        ..AdamConfig::default()
    }
}

/// The eight losses in the repository's order of `loss_names`.
pub const LOSS_NAMES: [&str; 8] = [
    "D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B",
];

/// The read values of a step's losses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Losses {
    pub d_a: f32,
    pub g_a: f32,
    pub cycle_a: f32,
    pub idt_a: f32,
    pub d_b: f32,
    pub g_b: f32,
    pub cycle_b: f32,
    pub idt_b: f32,
}

impl Losses {
    /// In [`LOSS_NAMES`]' order.
    pub fn values(&self) -> [f32; 8] {
        [
            self.d_a,
            self.g_a,
            self.cycle_a,
            self.idt_a,
            self.d_b,
            self.g_b,
            self.cycle_b,
            self.idt_b,
        ]
    }

    pub fn from_values(v: [f32; 8]) -> Losses {
        Losses {
            d_a: v[0],
            g_a: v[1],
            cycle_a: v[2],
            idt_a: v[3],
            d_b: v[4],
            g_b: v[5],
            cycle_b: v[6],
            idt_b: v[7],
        }
    }

    /// The losses by name, as the repository's `get_current_losses`.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, f32)> {
        LOSS_NAMES.into_iter().zip(self.values())
    }

    pub fn is_finite(&self) -> bool {
        self.values().iter().all(|v| v.is_finite())
    }
}

/// What a step leaves on the device: the eight losses (in [`LOSS_NAMES`]' order) and
/// `fake_B = G_A(real_A)` of this step (before its update), detached.
pub struct StepOutputs {
    pub losses: [Tensor; 8],
    pub fake_b: Tensor,
}

impl StepOutputs {
    /// All eight losses with one read-back.
    pub fn read(&self) -> Losses {
        let v = no_grad(|| {
            let scalars: Vec<Tensor> = self.losses.iter().map(|l| l.reshape(&[1])).collect();
            Tensor::concat(&scalars, 0).to_vec()
        });
        Losses::from_values(v.try_into().expect("eight losses"))
    }
}

/// The four networks, the two optimizers and the two image pools.
pub struct CycleGan {
    pub config: CycleGanConfig,
    pub losses: LossConfig,
    pub device: Device,
    pub g_a: ResnetGenerator,
    pub g_b: ResnetGenerator,
    pub d_a: NLayerDiscriminator,
    pub d_b: NLayerDiscriminator,
    /// Both generators' parameters, G_A's then G_B's.
    pub opt_g: Adam,
    /// Both discriminators' parameters, D_A's then D_B's.
    pub opt_d: Adam,
    /// Past `fake_A` images, for D_B.
    pub pool_a: ImagePool,
    /// Past `fake_B` images, for D_A.
    pub pool_b: ImagePool,
    /// GAN targets (ones, zeros) by the shape of D's output, made once.
    targets: HashMap<Vec<usize>, (Tensor, Tensor)>,
}

/// The networks' names in checkpoints, the repository's (`netG_A`, ...).
pub const NET_NAMES: [&str; 4] = ["netG_A", "netG_B", "netD_A", "netD_B"];

impl CycleGan {
    /// The four networks with the repository's initialisation (normal, gain 0.02, biases 0)
    /// from `seed`, on `device`, with `adam` for both optimizers (the repository's:
    /// [`cyclegan_adam`]).
    pub fn new(
        config: CycleGanConfig,
        losses: LossConfig,
        device: Device,
        seed: u64,
        adam: AdamConfig,
    ) -> CycleGan {
        let mut init = Init::new(device, seed);
        let g_a = ResnetGenerator::new(&mut init, config.g_a());
        let g_b = ResnetGenerator::new(&mut init, config.g_b());
        let d_a = NLayerDiscriminator::new(&mut init, config.d_a());
        let d_b = NLayerDiscriminator::new(&mut init, config.d_b());
        let nets: [&dyn Module; 4] = [&g_a, &g_b, &d_a, &d_b];
        for (i, net) in nets.into_iter().enumerate() {
            atelier_nn::init::normal(net, 0.02, seed.wrapping_add(1 + i as u64));
        }
        let opt_g = Adam::new([g_a.parameters(), g_b.parameters()].concat(), adam);
        let opt_d = Adam::new([d_a.parameters(), d_b.parameters()].concat(), adam);
        CycleGan {
            config,
            losses,
            device,
            g_a,
            g_b,
            d_a,
            d_b,
            opt_g,
            opt_d,
            pool_a: ImagePool::new(losses.pool_size),
            pool_b: ImagePool::new(losses.pool_size),
            targets: HashMap::new(),
        }
    }

    /// The networks with their checkpoint names, in [`NET_NAMES`]' order.
    pub fn nets(&self) -> [(&'static str, &dyn Module); 4] {
        [
            (NET_NAMES[0], &self.g_a),
            (NET_NAMES[1], &self.g_b),
            (NET_NAMES[2], &self.d_a),
            (NET_NAMES[3], &self.d_b),
        ]
    }

    /// The parameters (`netG_A.model.1.bias`, ...) that cannot change any output: biases
    /// feeding an instance norm ([`InertBias`](crate::model::InertBias)), never trained.
    pub fn inert_parameters(&self) -> Vec<String> {
        let named = |net: &str, names: Vec<String>| -> Vec<String> {
            names.into_iter().map(|n| format!("{net}.{n}")).collect()
        };
        [
            named(NET_NAMES[0], self.g_a.inert_parameters()),
            named(NET_NAMES[1], self.g_b.inert_parameters()),
            named(NET_NAMES[2], self.d_a.inert_parameters()),
            named(NET_NAMES[3], self.d_b.inert_parameters()),
        ]
        .concat()
    }

    /// Completed steps (the D optimizer counts them).
    pub fn steps(&self) -> u64 {
        self.opt_d.steps()
    }

    /// Sets both optimizers' learning rate (the schedule changes it per epoch).
    pub fn set_lr(&mut self, lr: f64) {
        self.opt_g.config.lr = lr;
        self.opt_d.config.lr = lr;
    }

    fn gan_loss(&mut self, pred: &Tensor, real: bool) -> Tensor {
        let device = self.device;
        let (ones, zeros) = self
            .targets
            .entry(pred.shape().to_vec())
            .or_insert_with(|| {
                (
                    Tensor::ones(pred.shape(), device),
                    Tensor::zeros(pred.shape(), device),
                )
            });
        let target = if real { ones.clone() } else { zeros.clone() };
        self.losses.gan_mode.loss(pred, &target)
    }

    /// One training step on batches `real_a` `[N, nc_a, H, W]` and `real_b` `[N, nc_b, H, W]`
    /// (values in [-1, 1], on this model's device). `rng` flips the image pools' coins.
    pub fn step(&mut self, real_a: &Tensor, real_b: &Tensor, rng: &mut impl Rng) -> StepOutputs {
        let LossConfig {
            lambda_a,
            lambda_b,
            lambda_identity,
            ..
        } = self.losses;

        // (1) forward. D's gradients of the previous step are zeroed before D's phase anyway,
        // and D is frozen until then: dropping them now lets this phase reuse their buffers,
        // so every step needs the same buffers as the first
        self.opt_g.zero_grad();
        self.opt_d.zero_grad();
        let fake_b = self.g_a.forward(real_a);
        let rec_a = self.g_b.forward(&fake_b);
        let fake_a = self.g_b.forward(real_b);
        let rec_b = self.g_a.forward(&fake_a);

        // (2) G_A and G_B, with D_A and D_B frozen
        let d_params = [self.d_a.parameters(), self.d_b.parameters()].concat();
        set_requires_grad(&d_params, false);
        let (loss_idt_a, loss_idt_b) = if lambda_identity > 0.0 {
            // G_A should be the identity on B, G_B on A
            let idt_a = self.g_a.forward(real_b);
            let idt_b = self.g_b.forward(real_a);
            (
                idt_a.l1(real_b).mul_scalar(lambda_b * lambda_identity),
                idt_b.l1(real_a).mul_scalar(lambda_a * lambda_identity),
            )
        } else {
            let zero = || Tensor::scalar(0.0, self.device);
            (zero(), zero())
        };
        let pred = self.d_a.forward(&fake_b);
        let loss_g_a = self.gan_loss(&pred, true);
        let pred = self.d_b.forward(&fake_a);
        let loss_g_b = self.gan_loss(&pred, true);
        let loss_cycle_a = rec_a.l1(real_a).mul_scalar(lambda_a);
        let loss_cycle_b = rec_b.l1(real_b).mul_scalar(lambda_b);
        let loss_g = loss_g_a
            .add(&loss_g_b)
            .add(&loss_cycle_a)
            .add(&loss_cycle_b)
            .add(&loss_idt_a)
            .add(&loss_idt_b);
        loss_g.backward();
        set_requires_grad(&d_params, true);
        self.opt_g.step();

        // (3) D_A and D_B, on the fakes (or past fakes from the pools), detached
        self.opt_d.zero_grad();
        let pooled_b = self.pool_b.query(&fake_b.detach(), rng);
        let loss_d_a = self.d_loss(Which::A, real_b, &pooled_b);
        let pooled_a = self.pool_a.query(&fake_a.detach(), rng);
        let loss_d_b = self.d_loss(Which::B, real_a, &pooled_a);
        // D_A's and D_B's parameters are disjoint: one backward of the sum gives each its own
        loss_d_a.add(&loss_d_b).backward();
        self.opt_d.step();

        let d = |t: &Tensor| t.detach();
        StepOutputs {
            losses: [
                d(&loss_d_a),
                d(&loss_g_a),
                d(&loss_cycle_a),
                d(&loss_idt_a),
                d(&loss_d_b),
                d(&loss_g_b),
                d(&loss_cycle_b),
                d(&loss_idt_b),
            ],
            fake_b: fake_b.detach(),
        }
    }

    /// `(GAN(D(real), real) + GAN(D(fake), fake)) / 2` for D_A (`Which::A`) or D_B.
    fn d_loss(&mut self, which: Which, real: &Tensor, fake: &Tensor) -> Tensor {
        let net = match which {
            Which::A => &self.d_a,
            Which::B => &self.d_b,
        };
        let (pred_real, pred_fake) = (net.forward(real), net.forward(fake));
        let loss_real = self.gan_loss(&pred_real, true);
        let loss_fake = self.gan_loss(&pred_fake, false);
        loss_real.add(&loss_fake).mul_scalar(0.5)
    }

    /// The repository's visuals for a pair of batches, without gradients: `[real_A, fake_B,
    /// rec_A, real_B, fake_A, rec_B]`.
    pub fn visuals(&self, real_a: &Tensor, real_b: &Tensor) -> [Tensor; 6] {
        no_grad(|| {
            let fake_b = self.g_a.forward(real_a);
            let rec_a = self.g_b.forward(&fake_b);
            let fake_a = self.g_b.forward(real_b);
            let rec_b = self.g_a.forward(&fake_a);
            [real_a.clone(), fake_b, rec_a, real_b.clone(), fake_a, rec_b]
        })
    }
}

#[derive(Clone, Copy)]
enum Which {
    A,
    B,
}

fn set_requires_grad(params: &[Tensor], on: bool) {
    for p in params {
        let _ = p.clone().requires_grad_(on);
    }
}
