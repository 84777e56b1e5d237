//! Initialisations that models ask for by name.

use crate::layers::{BatchNorm2d, Conv2d, ConvTranspose2d, Linear};
use crate::module::{Init, Module, downcast, visit};

/// DCGAN's `weights_init` (Radford et al. 2015; pytorch/examples dcgan): every convolution's
/// weight from N(0, 0.02), every BatchNorm's γ from N(1, 0.02) and β = 0. Other layers keep
/// their values. Layers are visited depth first, drawing from one generator seeded by `seed`.
pub fn dcgan(module: &dyn Module, seed: u64) {
    let mut init = Init::new(atelier_tensor::Device::Cpu, seed);
    visit(module, &mut |m| {
        if let Some(c) = downcast::<Conv2d>(m) {
            c.weight
                .write(&init.normal_values(c.weight.shape(), 0.0, 0.02));
        } else if let Some(c) = downcast::<ConvTranspose2d>(m) {
            c.weight
                .write(&init.normal_values(c.weight.shape(), 0.0, 0.02));
        } else if let Some(bn) = downcast::<BatchNorm2d>(m) {
            bn.weight
                .write(&init.normal_values(bn.weight.shape(), 1.0, 0.02));
            bn.bias.write(&vec![0.0; bn.bias.numel()]);
        }
    });
}

/// `init_weights(net, 'normal', gain)` of junyanz/pytorch-CycleGAN-and-pix2pix (its default,
/// gain 0.02): every convolution's and linear layer's weight from N(0, gain) and its bias 0,
/// every BatchNorm's γ from N(1, gain) and β 0. Instance norms (no affine parameters there)
/// and other layers keep their values. Layers are visited depth first, drawing from one
/// generator seeded by `seed`.
pub fn normal(module: &dyn Module, gain: f32, seed: u64) {
    let mut init = Init::new(atelier_tensor::Device::Cpu, seed);
    let mut weight_and_bias = |w: &atelier_tensor::Tensor, b: Option<&atelier_tensor::Tensor>| {
        w.write(&init.normal_values(w.shape(), 0.0, gain));
        if let Some(b) = b {
            b.write(&vec![0.0; b.numel()]);
        }
    };
    visit(module, &mut |m| {
        if let Some(c) = downcast::<Conv2d>(m) {
            weight_and_bias(&c.weight, c.bias.as_ref());
        } else if let Some(c) = downcast::<ConvTranspose2d>(m) {
            weight_and_bias(&c.weight, c.bias.as_ref());
        } else if let Some(l) = downcast::<Linear>(m) {
            weight_and_bias(&l.weight, l.bias.as_ref());
        } else if let Some(bn) = downcast::<BatchNorm2d>(m) {
            // γ ~ N(1, gain): drawn like a weight, then shifted
            weight_and_bias(&bn.weight, Some(&bn.bias));
            let shifted: Vec<f32> = bn.weight.to_vec().iter().map(|v| v + 1.0).collect();
            bn.weight.write(&shifted);
        }
    });
}
