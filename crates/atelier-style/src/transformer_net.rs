//! The image-transformation network of Johnson, Alahi & Fei-Fei ("Perceptual Losses for
//! Real-Time Style Transfer and Super-Resolution", ECCV 2016), exactly as pytorch/examples'
//! fast_neural_style builds it (instance normalisation instead of batch normalisation,
//! nearest upsampling + convolution instead of transposed convolution):
//!
//! ```text
//! conv1 9×9 3→32, in1, relu      conv2 3×3/2 32→64, in2, relu     conv3 3×3/2 64→128, in3, relu
//! res1 … res5: x + in2(conv2(relu(in1(conv1(x)))))   (3×3, 128 channels)
//! deconv1 ↑2, 3×3 128→64, in4, relu   deconv2 ↑2, 3×3 64→32, in5, relu   deconv3 9×9 32→3
//! ```
//!
//! Every convolution reflection-pads by kernel/2 first. Parameter names are PyTorch's
//! state_dict keys (`conv1.conv2d.weight`, `in1.weight`, `res1.conv1.conv2d.weight`, ...), so a
//! model trained here loads into pytorch/examples' `TransformerNet` and back. As there, the
//! network maps pixels in [0, 255] to pixels in [0, 255]; [`TransformerNet::stylize`] takes and
//! returns [0, 1].

use std::collections::HashMap;
use std::path::Path;

use atelier_tensor::{Conv2dParams, Device, Tensor, no_grad};

use crate::error::{Result, StyleError};
use crate::weights::{WeightsFile, write_tensors};

/// Reflection padding (kernel / 2) then a convolution: pytorch/examples' `ConvLayer`, and with
/// `upsample` its `UpsampleConvLayer` (nearest-neighbour upsampling first).
struct ConvLayer {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    upsample: usize,
}

impl ConvLayer {
    /// PyTorch's default initialisation: weight and bias uniform in ±1/√fan_in.
    fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        seed: u64,
        device: Device,
    ) -> ConvLayer {
        let bound = 1.0 / ((c_in * kernel * kernel) as f32).sqrt();
        ConvLayer {
            weight: Tensor::rand_uniform(
                &[c_out, c_in, kernel, kernel],
                -bound,
                bound,
                seed,
                device,
            ),
            bias: Tensor::rand_uniform(&[c_out], -bound, bound, seed ^ 0x5eed, device),
            stride,
            upsample: 1,
        }
    }

    fn upsampled(mut self, scale: usize) -> ConvLayer {
        self.upsample = scale;
        self
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let x = if self.upsample > 1 {
            x.upsample_nearest2d(self.upsample)
        } else {
            x.clone()
        };
        let pad = self.weight.shape()[2] / 2;
        x.reflection_pad2d([pad; 4]).conv2d(
            &self.weight,
            Some(&self.bias),
            Conv2dParams::new(self.stride, 0),
        )
    }

    fn named(&self, prefix: &str) -> Vec<(String, Tensor)> {
        vec![
            (format!("{prefix}.conv2d.weight"), self.weight.clone()),
            (format!("{prefix}.conv2d.bias"), self.bias.clone()),
        ]
    }
}

/// `InstanceNorm2d(channels, affine=True)`: weight 1, bias 0, eps 1e-5, no running statistics.
struct InstanceNorm {
    weight: Tensor,
    bias: Tensor,
}

impl InstanceNorm {
    fn new(channels: usize, device: Device) -> InstanceNorm {
        InstanceNorm {
            weight: Tensor::ones(&[channels], device),
            bias: Tensor::zeros(&[channels], device),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.instance_norm2d(&self.weight, &self.bias, 1e-5)
    }

    fn named(&self, prefix: &str) -> Vec<(String, Tensor)> {
        vec![
            (format!("{prefix}.weight"), self.weight.clone()),
            (format!("{prefix}.bias"), self.bias.clone()),
        ]
    }
}

struct ResidualBlock {
    conv1: ConvLayer,
    in1: InstanceNorm,
    conv2: ConvLayer,
    in2: InstanceNorm,
}

impl ResidualBlock {
    fn new(channels: usize, seed: u64, device: Device) -> ResidualBlock {
        ResidualBlock {
            conv1: ConvLayer::new(channels, channels, 3, 1, seed, device),
            in1: InstanceNorm::new(channels, device),
            conv2: ConvLayer::new(channels, channels, 3, 1, seed + 1, device),
            in2: InstanceNorm::new(channels, device),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let y = self.in1.forward(&self.conv1.forward(x)).relu();
        self.in2.forward(&self.conv2.forward(&y)).add(x)
    }

    fn named(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut v = self.conv1.named(&format!("{prefix}.conv1"));
        v.extend(self.in1.named(&format!("{prefix}.in1")));
        v.extend(self.conv2.named(&format!("{prefix}.conv2")));
        v.extend(self.in2.named(&format!("{prefix}.in2")));
        v
    }
}

pub struct TransformerNet {
    conv1: ConvLayer,
    in1: InstanceNorm,
    conv2: ConvLayer,
    in2: InstanceNorm,
    conv3: ConvLayer,
    in3: InstanceNorm,
    res: [ResidualBlock; 5],
    deconv1: ConvLayer,
    in4: InstanceNorm,
    deconv2: ConvLayer,
    in5: InstanceNorm,
    deconv3: ConvLayer,
}

/// Safetensors metadata key naming the architecture (checked when loading).
const ARCHITECTURE_KEY: &str = "atelier.architecture";
const ARCHITECTURE: &str = "pytorch/examples fast_neural_style TransformerNet";

impl TransformerNet {
    /// A freshly initialised network (PyTorch's default initialisation, seeded).
    pub fn new(seed: u64, device: Device) -> TransformerNet {
        let s = |i: u64| seed.wrapping_mul(1_000_003).wrapping_add(i * 16);
        TransformerNet {
            conv1: ConvLayer::new(3, 32, 9, 1, s(1), device),
            in1: InstanceNorm::new(32, device),
            conv2: ConvLayer::new(32, 64, 3, 2, s(2), device),
            in2: InstanceNorm::new(64, device),
            conv3: ConvLayer::new(64, 128, 3, 2, s(3), device),
            in3: InstanceNorm::new(128, device),
            res: std::array::from_fn(|i| ResidualBlock::new(128, s(4 + i as u64), device)),
            deconv1: ConvLayer::new(128, 64, 3, 1, s(9), device).upsampled(2),
            in4: InstanceNorm::new(64, device),
            deconv2: ConvLayer::new(64, 32, 3, 1, s(10), device).upsampled(2),
            in5: InstanceNorm::new(32, device),
            deconv3: ConvLayer::new(32, 3, 9, 1, s(11), device),
        }
    }

    /// `[N, 3, H, W]` in [0, 255] → `[N, 3, H', W']` in (roughly) [0, 255], H' = 4·⌈⌈H/2⌉/2⌉
    /// (H itself when it is a multiple of 4).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let y = self.in1.forward(&self.conv1.forward(x)).relu();
        let y = self.in2.forward(&self.conv2.forward(&y)).relu();
        let mut y = self.in3.forward(&self.conv3.forward(&y)).relu();
        for block in &self.res {
            y = block.forward(&y);
        }
        let y = self.in4.forward(&self.deconv1.forward(&y)).relu();
        let y = self.in5.forward(&self.deconv2.forward(&y)).relu();
        self.deconv3.forward(&y)
    }

    /// Images `[N, 3, H, W]` in [0, 1] → stylised images of the same size in [0, 1] (the
    /// output cropped when H or W is not a multiple of 4), without building a graph.
    pub fn stylize(&self, images: &Tensor) -> Tensor {
        let &[_, _, h, w] = images.shape() else {
            panic!("stylize: expects [N, 3, H, W], got {:?}", images.shape());
        };
        no_grad(|| {
            let d = images.device();
            let y = self.forward(&images.mul_scalar(255.0)).div_scalar(255.0);
            y.slice(2, 0, h)
                .slice(3, 0, w)
                .maximum(&Tensor::scalar(0.0, d))
                .minimum(&Tensor::scalar(1.0, d))
        })
    }

    /// The largest activations of a forward pass over `n` images of `h` × `w` (names and
    /// shapes), to check a device holds them before any work: the full-resolution layers.
    pub fn largest_activations(n: usize, h: usize, w: usize) -> Vec<(String, Vec<usize>)> {
        let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
        let (h4, w4) = (h2.div_ceil(2) * 4, w2.div_ceil(2) * 4);
        vec![
            ("conv1's padded input".into(), vec![n, 3, h + 8, w + 8]),
            ("conv1's output".into(), vec![n, 32, h, w]),
            (
                "deconv2's upsampled, padded input".into(),
                vec![n, 64, h4 + 2, w4 + 2],
            ),
            ("deconv3's padded input".into(), vec![n, 32, h4 + 8, w4 + 8]),
        ]
    }

    /// Every parameter with its PyTorch state_dict key, in state_dict order.
    pub fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = self.conv1.named("conv1");
        v.extend(self.in1.named("in1"));
        v.extend(self.conv2.named("conv2"));
        v.extend(self.in2.named("in2"));
        v.extend(self.conv3.named("conv3"));
        v.extend(self.in3.named("in3"));
        for (i, block) in self.res.iter().enumerate() {
            v.extend(block.named(&format!("res{}", i + 1)));
        }
        v.extend(self.deconv1.named("deconv1"));
        v.extend(self.in4.named("in4"));
        v.extend(self.deconv2.named("deconv2"));
        v.extend(self.in5.named("in5"));
        v.extend(self.deconv3.named("deconv3"));
        v
    }

    pub fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Marks every parameter as trainable (or not).
    pub fn set_requires_grad(&self, on: bool) {
        for (_, t) in self.named_parameters() {
            // clones share autograd state: this marks the parameter itself
            let _ = t.requires_grad_(on);
        }
    }

    /// Writes the parameters as a safetensors file (PyTorch's keys, F32) with `metadata`
    /// added to the file's own, via a temporary file and a rename.
    pub fn save(&self, path: &Path, metadata: &HashMap<String, String>) -> Result<()> {
        let mut meta = metadata.clone();
        // "pt": safetensors.torch's convention; what the file is says ARCHITECTURE_KEY
        meta.insert("format".into(), "pt".into());
        meta.insert(ARCHITECTURE_KEY.into(), ARCHITECTURE.into());
        write_tensors(path, &self.named_parameters(), meta)
    }

    /// Writes the parameters as a zip-format .pth state_dict (what pytorch/examples'
    /// `neural_style.py eval --model` and `TransformerNet.load_state_dict` take), via a
    /// temporary file and a rename.
    pub fn save_pth(&self, path: &Path) -> Result<()> {
        let tensors: Vec<(String, atelier_pth::Tensor)> = self
            .named_parameters()
            .into_iter()
            .map(|(k, t)| (k, atelier_pth::Tensor::f32(t.shape().to_vec(), t.to_vec())))
            .collect();
        atelier_pth::save(path, &tensors)?;
        Ok(())
    }

    /// Reads a model saved by [`TransformerNet::save`], or pytorch/examples' own .pth files as
    /// downloaded (`candy.pth`, `mosaic.pth`, ...: torch's legacy format) or saved by its
    /// `neural_style.py train` (zip format): the format is read from the content. Running
    /// statistics that the published models carry (`in1.running_mean`, ...) are ignored, as
    /// pytorch/examples does; any other unknown key is an error.
    pub fn load(path: &Path, device: Device) -> Result<TransformerNet> {
        let file = WeightsFile::read(path)?;
        file.expect_kind(atelier_nn::kind::STYLE_NET)?;
        let net = TransformerNet::new(0, device);
        let named = net.named_parameters();
        let known: Vec<&str> = named.iter().map(|(k, _)| k.as_str()).collect();
        let mut unexpected: Vec<&str> = file
            .keys()
            .filter(|k| {
                !known.contains(k)
                    && !k.contains(".running_")
                    && !k.ends_with("num_batches_tracked")
            })
            .collect();
        if !unexpected.is_empty() {
            unexpected.sort_unstable();
            return Err(StyleError::weights(
                path,
                format!("not a TransformerNet: unexpected keys {unexpected:?}"),
            ));
        }
        for (key, param) in &named {
            param.assign(&file.tensor(key, param.shape(), device)?);
        }
        Ok(net)
    }
}
