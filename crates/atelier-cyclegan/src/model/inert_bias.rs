//! [`InertBias`]: a convolution whose output goes straight into an instance norm without
//! affine parameters. The norm subtracts each (image, channel)'s mean, so a per-channel
//! constant added before it changes nothing after it: the convolution's bias is inert. Its
//! gradient is zero in exact arithmetic, and in floating point it is rounding noise that Adam
//! (dividing by √v) would blow up to full-size steps: PyTorch's float64 moves these biases by
//! about 1e-11 in three steps, float32 by about 1e-3, both without any effect on the output.
//!
//! So the bias stays in the state_dict (the repository's keys, loaded and saved as they are)
//! but is left out of the forward pass: it gets no gradient and never drifts, and the network
//! computes the same function (up to rounding; checked in the tests below).

use atelier_nn::module::downcast;
use atelier_nn::{Conv2d, ConvTranspose2d, Module, Sequential};
use atelier_tensor::Tensor;

use super::generator::ResnetBlock;

pub struct InertBias<C>(pub C);

impl Module for InertBias<Conv2d> {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.conv2d(&self.0.weight, None, self.0.params)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.0.named_parameters()
    }
    fn children(&self) -> Vec<&dyn Module> {
        vec![&self.0]
    }
}

impl Module for InertBias<ConvTranspose2d> {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.conv_transpose2d(&self.0.weight, None, self.0.params)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.0.named_parameters()
    }
    fn children(&self) -> Vec<&dyn Module> {
        vec![&self.0]
    }
}

/// The names (under `prefix`) of the inert biases in `seq` and the residual blocks in it.
pub fn inert_biases(seq: &Sequential, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..seq.len() {
        let layer = seq.layer(i);
        if downcast::<InertBias<Conv2d>>(layer).is_some()
            || downcast::<InertBias<ConvTranspose2d>>(layer).is_some()
        {
            names.push(format!("{prefix}.{i}.bias"));
        } else if let Some(block) = downcast::<ResnetBlock>(layer) {
            names.extend(inert_biases(
                &block.conv_block,
                &format!("{prefix}.{i}.conv_block"),
            ));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use atelier_tensor::{Conv2dParams, ConvTranspose2dParams, Device, Tensor};

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        let (a, b) = (a.to_vec(), b.to_vec());
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// The claim the module rests on: instance norm (no affine) cancels a per-channel bias.
    #[test]
    fn an_instance_norm_cancels_the_bias_before_it() {
        let r = |shape: &[usize], seed| Tensor::rand_uniform(shape, -1.0, 1.0, seed, Device::Cpu);
        let x = r(&[2, 3, 9, 7], 1);
        let b = r(&[4], 3).mul_scalar(5.0);
        let w = r(&[4, 3, 3, 3], 2);
        let p = Conv2dParams::new(2, 1);
        let with = x.conv2d(&w, Some(&b), p).instance_norm2d_no_affine(1e-5);
        let without = x.conv2d(&w, None, p).instance_norm2d_no_affine(1e-5);
        let e = max_abs_diff(&with, &without);
        assert!(e < 1e-5, "{e}");
        let wt = r(&[3, 4, 3, 3], 4);
        let p = ConvTranspose2dParams {
            output_padding: (1, 1),
            ..ConvTranspose2dParams::new(2, 1)
        };
        let with = x
            .conv_transpose2d(&wt, Some(&b), p)
            .instance_norm2d_no_affine(1e-5);
        let without = x
            .conv_transpose2d(&wt, None, p)
            .instance_norm2d_no_affine(1e-5);
        let e = max_abs_diff(&with, &without);
        assert!(e < 1e-5, "{e}");
    }
}
