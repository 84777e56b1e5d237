//! The memory estimates that `gan train` and the `style` commands check before any work bound
//! what a step really holds on a GPU: the buffer pool's footprint (every buffer in use and its
//! free list) after warm steps, at sizes other than those the estimates' factors were measured
//! at (see `atelier_gan::plan` and `atelier_style::memory`).

use std::sync::Mutex;

use atelier_gan::{Dcgan, DcganConfig, latent};
use atelier_kernels::{context::gpu_for_tests, gpu};
use atelier_nn::{Adam, AdamConfig, Optimizer};
use atelier_style::gatys::{TransferConfig, transfer};
use atelier_style::loss::{DEEPEST_LAYER, PerceptualLoss};
use atelier_style::{TransformerNet, Vgg19, memory};
use atelier_tensor::{Device, Tensor};

/// The tests of this binary take turns: the pool is the process's.
static TURNS: Mutex<()> = Mutex::new(());

/// The pool's footprint after `work`, starting from an empty free list.
fn held_by(work: impl FnOnce()) -> u64 {
    let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    let g = gpu();
    g.synchronize();
    g.release_free_buffers();
    let before = g.bytes_held();
    work();
    g.synchronize();
    g.bytes_held() - before
}

fn check(what: &str, held: u64, estimate: u128) {
    println!(
        "{what}: held {held} bytes, estimate {estimate} ({:.2}×)",
        estimate as f64 / held as f64
    );
    assert!(
        held as u128 <= estimate,
        "{what} held {held} bytes, more than its estimate of {estimate}"
    );
}

#[test]
fn a_dcgan_step_holds_no_more_than_its_estimate() {
    if !gpu_for_tests() {
        return;
    }
    for (image_size, width, batch) in [(32, 12, 24), (64, 3, 6), (32, 24, 3)] {
        let config = DcganConfig {
            nz: 20,
            ngf: width,
            ndf: width,
            channels: 3,
            image_size,
        };
        let held = held_by(|| {
            let mut gan = Dcgan::new(config, Device::Gpu, 0, 2e-4);
            let shape = [batch, 3, image_size, image_size];
            let real = Tensor::rand_uniform(&shape, -1.0, 1.0, 1, Device::Gpu);
            let z = latent::noise(batch, config.nz, 2, Device::Gpu);
            for _ in 0..2 {
                gan.step(&real, &z);
            }
        });
        let what = format!("DCGAN step at {image_size} px, width {width}, batch {batch}");
        check(&what, held, config.training_bytes(batch));
    }
}

/// A test picture: a few gradients, not a flat image.
fn picture(side: u32, seed: u32) -> image::Rgb32FImage {
    image::Rgb32FImage::from_fn(side, side, |x, y| {
        let v = ((x * 7 + y * 13 + seed * 31) % 97) as f32 / 97.0;
        image::Rgb([v, 1.0 - v, (v * 3.0).fract()])
    })
}

/// Gatys transfer (its multi-scale sum is `memory`'s unit test: two scales cost lavapipe
/// half a minute here).
#[test]
fn a_gatys_transfer_holds_no_more_than_its_estimate() {
    if !gpu_for_tests() {
        return;
    }
    let (side, scales) = (16, 1);
    let config = TransferConfig {
        size: side,
        steps: 2,
        scales,
        ..TransferConfig::default()
    };
    let held = held_by(|| {
        let vgg = Vgg19::random(0, DEEPEST_LAYER, Device::Gpu).unwrap();
        let (content, style) = (picture(side, 1), picture(side, 2));
        transfer(&vgg, &content, &style, &config, &mut |_| {}).unwrap();
    });
    let pixels = (side * side) as usize;
    let what = format!("Gatys transfer at {side} px");
    check(&what, held, memory::transfer_bytes(pixels, pixels, scales));
}

/// The feed-forward network's training step, as `atelier_style::train` runs it.
#[test]
fn a_style_network_training_step_holds_no_more_than_its_estimate() {
    if !gpu_for_tests() {
        return;
    }
    let (batch, side) = (2, 16);
    let held = held_by(|| {
        let vgg = Vgg19::random(0, DEEPEST_LAYER, Device::Gpu).unwrap();
        let net = TransformerNet::new(0, Device::Gpu);
        let style = Tensor::rand_uniform(&[1, 3, side, side], 0.0, 1.0, 3, Device::Gpu);
        let loss = PerceptualLoss::new(&vgg, &style, TransferConfig::default().weights);
        net.set_requires_grad(true);
        let mut adam = Adam::new(net.parameters(), AdamConfig::default());
        for seed in 0..2 {
            let x = Tensor::rand_uniform(&[batch, 3, side, side], 0.0, 1.0, seed, Device::Gpu);
            let target = loss.content_target(&x);
            adam.zero_grad();
            let y = net.forward(&x.mul_scalar(255.0)).div_scalar(255.0);
            loss.losses(&y, &target).total().backward();
            adam.step();
        }
    });
    let what = format!("style network training at batch {batch} of {side} px");
    check(&what, held, memory::training_bytes(batch, side));
}

#[test]
fn stylising_an_image_holds_no_more_than_its_estimate() {
    if !gpu_for_tests() {
        return;
    }
    let side = 32;
    let held = held_by(|| {
        let net = TransformerNet::new(0, Device::Gpu);
        let x = Tensor::rand_uniform(&[1, 3, side, side], 0.0, 1.0, 3, Device::Gpu);
        net.stylize(&x).to_vec();
    });
    let what = format!("stylising a {side} px image");
    check(&what, held, memory::stylize_bytes(side * side));
}

#[test]
fn a_cyclegan_step_holds_no_more_than_its_estimate() {
    use atelier_cyclegan::step::cyclegan_adam;
    use atelier_cyclegan::{CycleGan, CycleGanConfig, LossConfig};
    use rand::SeedableRng;
    if !gpu_for_tests() {
        return;
    }
    for (ngf, n_blocks, side, batch, pool_size) in [(4, 2, 32, 2, 1), (8, 1, 24, 1, 0)] {
        let config = CycleGanConfig {
            nc_a: 3,
            nc_b: 3,
            ngf,
            ndf: ngf,
            n_blocks,
            n_layers_d: 2,
        };
        let losses = LossConfig {
            pool_size,
            ..LossConfig::default()
        };
        let held = held_by(|| {
            let mut gan = CycleGan::new(config, losses, Device::Gpu, 0, cyclegan_adam(2e-4, 0.5));
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            let shape = [batch, 3, side, side];
            for seed in 0..(pool_size as u64 + 2) {
                let a = Tensor::rand_uniform(&shape, -1.0, 1.0, 2 * seed, Device::Gpu);
                let b = Tensor::rand_uniform(&shape, -1.0, 1.0, 2 * seed + 1, Device::Gpu);
                gan.step(&a, &b, &mut rng);
            }
        });
        let what = format!(
            "CycleGAN step at {side} px, ngf {ngf}, {n_blocks} blocks, batch {batch}, pool {pool_size}"
        );
        check(
            &what,
            held,
            config.training_bytes(batch, side, pool_size, true),
        );
    }
}
