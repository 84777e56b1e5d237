//! The whole CycleGAN training step (`atelier_cyclegan::CycleGan::step`: four generator
//! passes and two identity passes, G_A and G_B through the frozen discriminators, the G
//! step; then D_A and D_B on real and fake images, the D step), timed as `dcgan.step` is: wall
//! clock around a synchronised step, the timestamp profiler off.
//!
//! The full suite runs the repository's network at its training size (256×256 crops,
//! ngf = ndf = 64, 9 residual blocks, the 70×70 PatchGAN, batch 1); `--quick` a small one (32×32,
//! ngf = ndf = 8, 2 blocks, 2 discriminator layers). The image pool is on (50) as in training.
//! The convolution variants are chosen as `ATELIER_KERNELS` says for conv2d (`auto` unless
//! set; variant `conv=<mode>`). With `--device cpu` the step runs on CPU tensors (the fast CPU
//! device; variant `cpu`, host clock). FLOPs: the step's convolutions (`step_flops`); bytes are not counted, so
//! the row stays off the roofline. `images/s` is batch / median time.

use atelier_benches::timing::Clock;
use atelier_cyclegan::step::cyclegan_adam;
use atelier_cyclegan::{CycleGan, CycleGanConfig, LossConfig};
use atelier_kernels::conv2d::Conv2dSpec;
use atelier_kernels::gpu;
use atelier_kernels::harness::BenchDevice;
use atelier_kernels::harness::work::{Work, conv2d_macs};
use atelier_kernels::variant::{env_settings, with_kernels};
use atelier_tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{Suite, own_row};

pub const KERNEL: &str = "cyclegan.step";

/// The network of the full suite, its crop size and batch: the repository's defaults.
fn full() -> (CycleGanConfig, usize, usize) {
    (CycleGanConfig::default(), 256, 1)
}

/// The `--quick` network.
fn quick() -> (CycleGanConfig, usize, usize) {
    let config = CycleGanConfig {
        ngf: 8,
        ndf: 8,
        n_blocks: 2,
        n_layers_d: 2,
        ..CycleGanConfig::default()
    };
    (config, 32, 1)
}

/// The row's shape label: `256x256 ngf64 ndf64 blocks9 layers3 N1`.
pub fn label(config: &CycleGanConfig, size: usize, batch: usize) -> String {
    format!(
        "{size}x{size} ngf{} ndf{} blocks{} layers{} N{batch}",
        config.ngf, config.ndf, config.n_blocks, config.n_layers_d
    )
}

fn conv(
    n: usize,
    c: usize,
    side: usize,
    k: usize,
    r: usize,
    stride: usize,
    pad: usize,
) -> Conv2dSpec {
    Conv2dSpec {
        n,
        c,
        h: side,
        w: side,
        k,
        r,
        s: r,
        stride: (stride, stride),
        pad: (pad, pad),
        dilation: (1, 1),
    }
}

/// Multiply-adds of one ResnetGenerator forward pass at `size` and of its first layer. A
/// transposed convolution does the multiply-adds of the convolution it is the backward of.
fn generator_macs(config: &CycleGanConfig, size: usize, n: usize) -> (f64, f64) {
    let (f, nc) = (config.ngf, config.nc_a);
    let first = conv2d_macs(&conv(n, nc, size + 6, f, 7, 1, 0));
    let mut macs = first
        + conv2d_macs(&conv(n, f, size, 2 * f, 3, 2, 1))
        + conv2d_macs(&conv(n, 2 * f, size / 2, 4 * f, 3, 2, 1));
    let block = conv2d_macs(&conv(n, 4 * f, size / 4 + 2, 4 * f, 3, 1, 0));
    macs += 2.0 * config.n_blocks as f64 * block;
    // the two upsamplings are the transposes of the two downsamplings
    macs += conv2d_macs(&conv(n, 2 * f, size / 2, 4 * f, 3, 2, 1))
        + conv2d_macs(&conv(n, f, size, 2 * f, 3, 2, 1));
    macs += conv2d_macs(&conv(n, f, size + 6, nc, 7, 1, 0));
    (macs, first)
}

/// Multiply-adds of one NLayerDiscriminator forward pass at `size`.
fn discriminator_macs(config: &CycleGanConfig, size: usize, n: usize) -> f64 {
    let width = |k: usize| config.ndf * (1 << k.min(3));
    let mut specs = vec![conv(n, config.nc_b, size, config.ndf, 4, 2, 1)];
    for k in 1..=config.n_layers_d {
        let stride = if k < config.n_layers_d { 2 } else { 1 };
        let side = specs.last().unwrap().p();
        specs.push(conv(n, width(k - 1), side, width(k), 4, stride, 1));
    }
    let side = specs.last().unwrap().p();
    specs.push(conv(n, width(config.n_layers_d), side, 1, 4, 1, 1));
    specs.iter().map(conv2d_macs).sum()
}

/// FLOPs of the convolutions in one `CycleGan::step`. Generators: six forward passes
/// (fake_B, rec_A, fake_A, rec_B, idt_A, idt_B), each with weight gradients, and input
/// gradients everywhere except the first layer of the four passes whose input is a real
/// image. Discriminators: two forward passes in G's phase with input gradients only (frozen),
/// four in D's phase with weight gradients only (their inputs are real or detached).
pub fn step_flops(config: &CycleGanConfig, size: usize, batch: usize) -> f64 {
    let (g, g_first) = generator_macs(config, size, batch);
    let d = discriminator_macs(config, size, batch);
    2.0 * (18.0 * g - 4.0 * g_first + 12.0 * d)
}

pub fn run(suite: &mut Suite) {
    let (config, size, batch) = if suite.quick { quick() } else { full() };
    let shape = label(&config, size, batch);
    let on_gpu = suite.device == BenchDevice::Gpu;
    let mode = on_gpu.then(|| {
        env_settings()
            .ok()
            .and_then(|s| s.get("conv2d").map(str::to_string))
            .unwrap_or_else(|| "auto".into())
    });
    let variant = mode
        .as_ref()
        .map_or("cpu".to_string(), |m| format!("conv={m}"));
    if !suite.wants(KERNEL, &variant, &shape) {
        return;
    }
    let (device, clock) = if on_gpu {
        gpu().disable_profiling();
        (Device::Gpu, Clock::WallClock)
    } else {
        (Device::Cpu, Clock::Host)
    };
    let mut gan = CycleGan::new(
        config,
        LossConfig::default(),
        device,
        0,
        cyclegan_adam(2e-4, 0.5),
    );
    let image = |seed| Tensor::rand_uniform(&[batch, 3, size, size], -1.0, 1.0, seed, device);
    let (real_a, real_b) = (image(1), image(2));
    let mut rng = StdRng::seed_from_u64(3);
    let work = Work {
        flops: step_flops(&config, size, batch),
        bytes: 0.0,
    };
    let row = own_row("cyclegan", KERNEL, &variant, &shape, work);
    let body = || {
        suite.measure_with(clock, row, 1, &mut |_| {
            gan.step(&real_a, &real_b, &mut rng);
        });
    };
    match &mode {
        Some(m) => {
            with_kernels(&format!("conv2d={m}"), body).expect("conv2d's selections are checked")
        }
        None => body(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generator of width 1 with no blocks on one-channel 8×8 images, by hand: 7×7 1→1 at
    /// 8×8 (49·64), 3×3/2 1→2 at 4×4 (9·2·16), 3×3/2 2→4 at 2×2 (9·2·4·4), the two
    /// transposes (the same two), 7×7 1→1 (49·64).
    #[test]
    fn generator_macs_by_hand() {
        let config = CycleGanConfig {
            nc_a: 1,
            nc_b: 1,
            ngf: 1,
            ndf: 1,
            n_blocks: 0,
            n_layers_d: 1,
        };
        let (g, first) = generator_macs(&config, 8, 1);
        let down = 9.0 * 2.0 * 16.0 + 9.0 * 2.0 * 4.0 * 4.0;
        assert_eq!(first, 49.0 * 64.0);
        assert_eq!(g, 2.0 * 49.0 * 64.0 + 2.0 * down);
        // a block adds two 3×3 4→4 convolutions at 2×2
        let (g1, _) = generator_macs(
            &CycleGanConfig {
                n_blocks: 1,
                ..config
            },
            8,
            1,
        );
        assert_eq!(g1 - g, 2.0 * 9.0 * 16.0 * 4.0);
        // D with one layer on 8×8: 4×4/2 1→1 (16·16), 4×4/1 1→2 at 4×4 → 3×3 (16·2·9), 2→1 → 2×2
        assert_eq!(
            discriminator_macs(&config, 8, 1),
            16.0 * 16.0 + 16.0 * 2.0 * 9.0 + 16.0 * 2.0 * 4.0
        );
        // linear in the batch
        let c = CycleGanConfig::default();
        assert_eq!(step_flops(&c, 256, 2), 2.0 * step_flops(&c, 256, 1));
    }

    #[test]
    fn labels_name_the_network() {
        let (c, s, b) = full();
        assert_eq!(label(&c, s, b), "256x256 ngf64 ndf64 blocks9 layers3 N1");
    }
}
