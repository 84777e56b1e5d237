//! Initialisations that models ask for by name.

use crate::layers::{BatchNorm2d, Conv2d, ConvTranspose2d};
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
