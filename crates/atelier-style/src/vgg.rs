//! VGG-19's convolutional part (Simonyan & Zisserman, configuration E) as torchvision builds it:
//! 3×3 convolutions with padding 1, each followed by a ReLU, and 2×2 max pooling between the
//! five blocks. Layers carry the names the style-transfer literature uses (conv1_1, relu1_1,
//! ..., pool1, conv2_1, ...); weights come from torchvision's own file
//! (`vgg19-dcbb9e9d.pth`, read as downloaded) or any safetensors/.pth file with its keys
//! (`features.0.weight`, `features.0.bias`, ...), or are seeded random numbers.
//!
//! Only the layers up to the deepest one a caller needs are built and run.

use std::path::{Path, PathBuf};

use atelier_tensor::{Conv2dParams, Device, Tensor};

use crate::error::{Result, StyleError};
use crate::weights::WeightsFile;

/// Printed (by the CLI) and documented wherever random features are used.
pub const RANDOM_FEATURES_NOTE: &str = "features: VGG-19 with seeded random weights; results are \
     weaker than with trained weights (download torchvision's \
     https://download.pytorch.org/models/vgg19-dcbb9e9d.pth and pass --features vgg19-dcbb9e9d.pth)";

/// ImageNet statistics torchvision's VGG was trained with (inputs in [0, 1]).
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Output channels of each convolution, `None` for a max pool: torchvision's `cfgs["E"]`.
const CONFIG_E: [Option<usize>; 21] = [
    Some(64),
    Some(64),
    None,
    Some(128),
    Some(128),
    None,
    Some(256),
    Some(256),
    Some(256),
    Some(256),
    None,
    Some(512),
    Some(512),
    Some(512),
    Some(512),
    None,
    Some(512),
    Some(512),
    Some(512),
    Some(512),
    None,
];

/// What one entry of torchvision's `features` list does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VggOp {
    Conv {
        in_channels: usize,
        out_channels: usize,
    },
    Relu,
    MaxPool,
}

/// One entry of `features`: its index there (the key prefix), its name, what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VggLayer {
    pub index: usize,
    pub name: String,
    pub op: VggOp,
}

/// All 37 entries of VGG-19's `features`, conv1_1 (index 0) to pool5 (index 36).
pub fn vgg19_layers() -> Vec<VggLayer> {
    let mut layers = Vec::new();
    let (mut block, mut conv, mut channels) = (1, 1, 3);
    let mut push = |name: String, op: VggOp| {
        let index = layers.len();
        layers.push(VggLayer { index, name, op });
    };
    for entry in CONFIG_E {
        match entry {
            Some(out) => {
                let op = VggOp::Conv {
                    in_channels: channels,
                    out_channels: out,
                };
                push(format!("conv{block}_{conv}"), op);
                push(format!("relu{block}_{conv}"), VggOp::Relu);
                channels = out;
                conv += 1;
            }
            None => {
                push(format!("pool{block}"), VggOp::MaxPool);
                block += 1;
                conv = 1;
            }
        }
    }
    layers
}

/// The `features` index of a layer name (`relu4_2` → 22).
pub fn layer_index(name: &str) -> Option<usize> {
    vgg19_layers().iter().position(|l| l.name == name)
}

/// Where the weights come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Features {
    /// He-initialised normal weights (std √(2 / fan_in)), zero biases, from a seed.
    Random { seed: u64 },
    /// A weights file with torchvision's keys: its `vgg19-dcbb9e9d.pth` as downloaded, or a
    /// safetensors or .pth file holding the same `features.N.weight/bias`.
    File(PathBuf),
}

/// The largest activation VGG-19 makes for `n` images of `h` × `w`: the first block's outputs
/// (64 channels at full resolution); deeper blocks halve the plane and at most double the
/// channels. For checking a device holds it before any work.
pub fn largest_activation(n: usize, h: usize, w: usize) -> (String, Vec<usize>) {
    ("VGG-19's conv1_1 output".into(), vec![n, 64, h, w])
}

impl Features {
    /// `random`, `random:SEED`, or a path to a weights file; an error for `random:` followed by
    /// something that is not a seed (rather than looking for a file of that name).
    pub fn from_arg(s: &str) -> std::result::Result<Features, String> {
        if let Some(seed) = s.strip_prefix("random:") {
            return seed
                .parse()
                .map(|seed| Features::Random { seed })
                .map_err(|_| format!("{s:?}: the seed after random: must be a whole number"));
        }
        Ok(Features::parse(s))
    }

    /// `random`, `random:SEED`, or a path to a weights file.
    pub fn parse(s: &str) -> Features {
        match s.strip_prefix("random") {
            Some("") => Features::Random { seed: 0 },
            Some(rest) => match rest.strip_prefix(':').and_then(|n| n.parse().ok()) {
                Some(seed) => Features::Random { seed },
                None => Features::File(PathBuf::from(s)),
            },
            None => Features::File(PathBuf::from(s)),
        }
    }

    pub fn is_random(&self) -> bool {
        matches!(self, Features::Random { .. })
    }

    /// A short description, for logs and checkpoint metadata.
    pub fn describe(&self) -> String {
        match self {
            Features::Random { seed } => format!("random:{seed}"),
            Features::File(p) => p.display().to_string(),
        }
    }
}

/// VGG-19 up to one layer, ready to extract features of images in [0, 1].
pub struct Vgg19 {
    layers: Vec<VggLayer>,
    /// Weight `[K, C, 3, 3]` and bias `[K]` of each convolution, by `features` index.
    convs: Vec<Option<(Tensor, Tensor)>>,
    mean: Tensor,
    std: Tensor,
    pub features: Features,
}

impl Vgg19 {
    /// How many weights and biases the network holds.
    pub fn parameter_count(&self) -> usize {
        self.convs
            .iter()
            .flatten()
            .map(|(w, b)| w.numel() + b.numel())
            .sum()
    }

    /// The network up to and including layer `deepest`, weights from `features`.
    pub fn new(features: &Features, deepest: &str, device: Device) -> Result<Vgg19> {
        match features {
            Features::Random { seed } => Vgg19::random(*seed, deepest, device),
            Features::File(path) => Vgg19::load(path, deepest, device),
        }
    }

    /// Seeded He-initialised weights: the shape of VGG-19 without its training.
    pub fn random(seed: u64, deepest: &str, device: Device) -> Result<Vgg19> {
        let layers = layers_up_to(deepest)?;
        let convs = layers
            .iter()
            .map(|l| match l.op {
                VggOp::Conv {
                    in_channels: c,
                    out_channels: k,
                } => {
                    let std = (2.0 / (c * 9) as f32).sqrt();
                    let layer_seed = seed.wrapping_mul(1_000_003).wrapping_add(l.index as u64);
                    let w = Tensor::randn(&[k, c, 3, 3], 0.0, std, layer_seed, device);
                    Some((w, Tensor::zeros(&[k], device)))
                }
                _ => None,
            })
            .collect();
        Ok(Vgg19::with(
            layers,
            convs,
            Features::Random { seed },
            device,
        ))
    }

    /// Weights from a file with torchvision's keys (safetensors or .pth, by content). Keys
    /// beyond `deepest` are ignored and the classifier's (500 MB of torchvision's 548) are not
    /// even read; a missing key or a wrong shape is an error naming both.
    pub fn load(path: &Path, deepest: &str, device: Device) -> Result<Vgg19> {
        let layers = layers_up_to(deepest)?;
        let file = WeightsFile::read_filtered(path, &|k| k.starts_with("features."))?;
        file.expect_kind(atelier_nn::kind::VGG19)?;
        let mut convs = Vec::with_capacity(layers.len());
        for l in &layers {
            convs.push(match l.op {
                VggOp::Conv {
                    in_channels: c,
                    out_channels: k,
                } => {
                    let w = file.tensor(
                        &format!("features.{}.weight", l.index),
                        &[k, c, 3, 3],
                        device,
                    )?;
                    let b = file.tensor(&format!("features.{}.bias", l.index), &[k], device)?;
                    Some((w, b))
                }
                _ => None,
            });
        }
        Ok(Vgg19::with(
            layers,
            convs,
            Features::File(path.to_path_buf()),
            device,
        ))
    }

    fn with(
        layers: Vec<VggLayer>,
        convs: Vec<Option<(Tensor, Tensor)>>,
        features: Features,
        device: Device,
    ) -> Vgg19 {
        Vgg19 {
            layers,
            convs,
            mean: Tensor::from_vec(IMAGENET_MEAN.to_vec(), &[1, 3, 1, 1], device),
            std: Tensor::from_vec(IMAGENET_STD.to_vec(), &[1, 3, 1, 1], device),
            features,
        }
    }

    /// The deepest layer this network computes.
    pub fn deepest(&self) -> &str {
        &self.layers.last().expect("at least one layer").name
    }

    pub fn device(&self) -> Device {
        self.mean.device()
    }

    /// The activations at `names` (in that order) for `images` `[N, 3, H, W]` in [0, 1]:
    /// ImageNet-normalised, then run up to the deepest layer asked for, no further.
    /// Gradients flow back to `images` when it requires them.
    pub fn extract(&self, images: &Tensor, names: &[&str]) -> Vec<Tensor> {
        let wanted: Vec<usize> = names
            .iter()
            .map(|n| {
                self.layers
                    .iter()
                    .position(|l| l.name == *n)
                    .unwrap_or_else(|| {
                        panic!(
                            "Vgg19::extract: no layer {n} (built up to {})",
                            self.deepest()
                        )
                    })
            })
            .collect();
        let last = wanted.iter().copied().max().unwrap_or(0);
        let mut outputs: Vec<Option<Tensor>> = vec![None; names.len()];
        let mut x = images.sub(&self.mean).div(&self.std);
        for (i, layer) in self.layers[..=last].iter().enumerate() {
            x = match layer.op {
                VggOp::Conv { .. } => {
                    let (w, b) = self.convs[i].as_ref().expect("conv weights");
                    x.conv2d(w, Some(b), Conv2dParams::new(1, 1))
                }
                VggOp::Relu => x.relu(),
                VggOp::MaxPool => x.max_pool2d(2, 2, 0),
            };
            for (slot, &w) in outputs.iter_mut().zip(&wanted) {
                if w == i {
                    *slot = Some(x.clone());
                }
            }
        }
        outputs.into_iter().map(|o| o.expect("computed")).collect()
    }
}

fn layers_up_to(deepest: &str) -> Result<Vec<VggLayer>> {
    let mut layers = vgg19_layers();
    let Some(i) = layers.iter().position(|l| l.name == deepest) else {
        return Err(StyleError::Invalid(format!(
            "VGG-19 has no layer {deepest:?} (names: conv1_1, relu1_1, ..., pool5)"
        )));
    };
    layers.truncate(i + 1);
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_torchvision_indices() {
        let layers = vgg19_layers();
        assert_eq!(layers.len(), 37);
        let at = |i: usize| layers[i].name.as_str();
        assert_eq!(
            [
                at(0),
                at(1),
                at(4),
                at(5),
                at(10),
                at(18),
                at(19),
                at(21),
                at(28),
                at(29),
                at(36)
            ],
            [
                "conv1_1", "relu1_1", "pool1", "conv2_1", "conv3_1", "pool3", "conv4_1", "conv4_2",
                "conv5_1", "relu5_1", "pool5"
            ]
        );
        assert_eq!(layer_index("relu4_2"), Some(22));
        let convs = layers
            .iter()
            .filter(|l| matches!(l.op, VggOp::Conv { .. }))
            .count();
        assert_eq!(convs, 16);
    }

    #[test]
    fn parses_feature_sources() {
        assert_eq!(Features::parse("random"), Features::Random { seed: 0 });
        assert_eq!(Features::parse("random:7"), Features::Random { seed: 7 });
        assert_eq!(
            Features::parse("w/vgg19.safetensors"),
            Features::File("w/vgg19.safetensors".into())
        );
    }
}
