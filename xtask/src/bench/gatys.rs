//! One step of Gatys style transfer (`atelier_style::gatys::adam_step`: VGG-19 up to relu5_1
//! on the image being optimised, the content loss at conv4_2, the Gram-matrix style losses at
//! relu1_1..relu5_1, total variation, the gradient back to the pixels, Adam, the clamp), timed
//! as the whole training steps are: wall clock (host clock on the CPU) around a synchronised
//! step. VGG's weights are seeded random numbers (the time does not depend on them); the
//! content and style images are random. `scripts/torch_bench.py` builds the same step in
//! PyTorch from the shape label.
//!
//! Sizes: 256×256 (the fast CPU issue's target); 16×16 with `--quick` (VGG's fifth block at
//! 1×1: CI-sized on lavapipe). FLOPs: the convolutions' forward and backward-data (no weight
//! gradients: the weights are fixed), as `2 · 2 · MACs` of VGG-19's convolutions up to
//! conv5_1; bytes are not counted.

use atelier_benches::timing::Clock;
use atelier_kernels::harness::BenchDevice;
use atelier_kernels::harness::networks::vgg19_convs;
use atelier_kernels::harness::work::{Work, conv2d_macs};
use atelier_style::Vgg19;
use atelier_style::gatys::{TransferConfig, adam_step, pixel_adam};
use atelier_style::loss::PerceptualLoss;
use atelier_tensor::{Device, Tensor};

use super::{Suite, own_row};

pub const KERNEL: &str = "style.gatys_step";
const SIDE: usize = 256;
const QUICK_SIDE: usize = 16;
/// The deepest layer the losses use (relu5_1).
const DEEPEST: &str = "relu5_1";
/// How many of each of `vgg19_convs`' distinct shapes run up to conv5_1 (conv1_1, conv1_2,
/// conv2_1, conv2_2, conv3_1, conv3_2-4, conv4_1, conv4_2-4, conv5_1 of conv5_1-4): 13 in all.
const CONVS_USED: [usize; 9] = [1, 1, 1, 1, 1, 3, 1, 3, 1];

/// The shape label `scripts/torch_bench.py` parses: `256x256 N1 vgg19 to relu5_1`.
pub fn label(side: usize) -> String {
    format!("{side}x{side} N1 vgg19 to {DEEPEST}")
}

/// Forward and backward-data FLOPs of the convolutions the step runs.
pub fn step_flops(side: usize) -> f64 {
    let macs: f64 = vgg19_convs(side)
        .iter()
        .zip(CONVS_USED)
        .map(|(l, count)| count as f64 * conv2d_macs(&l.spec))
        .sum();
    2.0 * 2.0 * macs
}

pub fn run(suite: &mut Suite) {
    let side = if suite.quick { QUICK_SIDE } else { SIDE };
    let shape = label(side);
    let on_gpu = suite.device == BenchDevice::Gpu;
    let variant = if on_gpu { "adam" } else { "cpu" };
    if !suite.wants(KERNEL, variant, &shape) {
        return;
    }
    let (device, clock) = if on_gpu {
        atelier_kernels::gpu().disable_profiling();
        (Device::Gpu, Clock::WallClock)
    } else {
        (Device::Cpu, Clock::Host)
    };
    let vgg = match Vgg19::random(0, DEEPEST, device) {
        Ok(vgg) => vgg,
        Err(e) => {
            println!("{KERNEL}: skipped ({e})");
            return;
        }
    };
    let image = |seed| Tensor::rand_uniform(&[1, 3, side, side], 0.0, 1.0, seed, device);
    let (content, style) = (image(1), image(2));
    let config = TransferConfig::default();
    let loss = PerceptualLoss::new(&vgg, &style, config.weights);
    let target = loss.content_target(&content);
    let x = content.deep_clone().requires_grad_(true);
    let mut adam = pixel_adam(&x, config.lr);
    let work = Work {
        flops: step_flops(side),
        bytes: 0.0,
    };
    let row = own_row("style", KERNEL, variant, &shape, work);
    suite.measure_with(clock, row, 1, &mut |_| {
        adam_step(&loss, &target, &x, &mut adam);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_counts_the_13_convolutions_up_to_conv5_1() {
        assert_eq!(CONVS_USED.iter().sum::<usize>(), 13);
        assert_eq!(vgg19_convs(SIDE).len(), CONVS_USED.len());
        // by hand at 16×16: MACs = 9 · Σ count · C · K · (16 / down)²
        let by_hand = 9.0
            * (3.0 * 64.0 * 256.0
                + 64.0 * 64.0 * 256.0
                + 64.0 * 128.0 * 64.0
                + 128.0 * 128.0 * 64.0
                + 128.0 * 256.0 * 16.0
                + 3.0 * 256.0 * 256.0 * 16.0
                + 256.0 * 512.0 * 4.0
                + 3.0 * 512.0 * 512.0 * 4.0
                + 512.0 * 512.0 * 1.0);
        assert_eq!(step_flops(16), 4.0 * by_hand);
    }
}
