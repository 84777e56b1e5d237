//! The Inception-v3 network that FID and KID are computed from: pytorch-fid's `InceptionV3`
//! (output block 3, the 2048-d final average pool), built from atelier's own kernels.
//!
//! It matches pytorch-fid step by step: the input, in [0, 1], is resized bilinearly to
//! 299×299 (`align_corners=False`), scaled to [-1, 1], and passed through the stem and the
//! eleven mixed blocks of TensorFlow's 2015 Inception as pytorch-fid patches torchvision's
//! (average pools that do not count padding, a max pool in the last block); every BasicConv2d
//! is a bias-free convolution, BatchNorm in evaluation mode with eps 1e-3 (folded into the
//! convolution's weights and a bias when loaded), and ReLU.
//!
//! The weights come from a [`StateDict`] (name → shape and values, PyTorch's names, e.g.
//! `Mixed_5b.branch1x1.conv.weight`): from pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`
//! or a safetensors file ([`StateDict::from_file`]), or from any map.
//! tests/tests/inception_parity.rs checks every block type and the whole network against
//! pytorch-fid's own modules (scripts/make_inception_fixture.py).

mod layers;
pub mod spec;
pub mod synthetic;
mod weights;

use std::collections::HashMap;

use atelier_tensor::{Device, Tensor, no_grad};

pub use layers::{BasicConv, avg_pool3x3_excluding_padding, resize_bilinear};
pub use spec::{BLOCKS, BlockKind, ConvSpec};
pub use weights::{InceptionError, StateDict};

/// The resolution pytorch-fid resizes every image to.
pub const INPUT_SIZE: usize = 299;
/// Length of the pool features.
pub const FEATURES: usize = 2048;

/// pytorch-fid's Inception network up to the final average pool.
pub struct InceptionV3 {
    convs: HashMap<String, BasicConv>,
    device: Device,
}

/// What [`InceptionV3::forward`] returns.
pub struct InceptionOutputs {
    /// pytorch-fid's block 1 (after the second max pool), `[N, 192, h, w]`.
    pub block1: Tensor,
    /// The pool features, `[N, 2048]`.
    pub pool: Tensor,
}

impl InceptionV3 {
    /// The network with `weights` on `device`. Every key of [`spec::expected_keys`] must be
    /// there with its shape (other keys, such as `fc.*`, are ignored).
    pub fn load(weights: &StateDict, device: Device) -> Result<InceptionV3, InceptionError> {
        let mut convs = HashMap::new();
        for s in spec::all_convs() {
            let conv = BasicConv::load(weights, &s, device)?;
            convs.insert(s.name.clone(), conv);
        }
        Ok(InceptionV3 { convs, device })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    fn conv(&self, name: &str) -> &BasicConv {
        self.convs
            .get(name)
            .unwrap_or_else(|| panic!("inception: no layer {name}"))
    }

    fn apply(&self, name: &str, x: &Tensor) -> Tensor {
        self.conv(name).forward(x)
    }

    /// The pool features `[N, 2048]` of images `[N, 3, H, W]` in [0, 1], as pytorch-fid
    /// computes them (resized to 299×299 first).
    pub fn features(&self, images: &Tensor) -> Tensor {
        self.forward(images, true).pool
    }

    /// The network on images `[N, 3, H, W]` in [0, 1]; `resize` to 299×299 first, as
    /// pytorch-fid does by default.
    pub fn forward(&self, images: &Tensor, resize: bool) -> InceptionOutputs {
        assert!(
            images.dims() == 4 && images.shape()[1] == 3,
            "inception: images must be [N, 3, H, W], got {:?}",
            images.shape()
        );
        no_grad(|| {
            let mut x = images.clone();
            if resize {
                x = resize_bilinear(&x, INPUT_SIZE, INPUT_SIZE);
            }
            x = x.mul_scalar(2.0).add_scalar(-1.0);
            for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"] {
                x = self.apply(name, &x);
            }
            x = x.max_pool2d(3, 2, 0);
            for name in ["Conv2d_3b_1x1", "Conv2d_4a_3x3"] {
                x = self.apply(name, &x);
            }
            let block1 = x.max_pool2d(3, 2, 0);
            let mut x = block1.clone();
            for (name, _, kind) in BLOCKS {
                x = self.block(name, kind, &x);
            }
            let pool = x.mean(&[2, 3], false);
            InceptionOutputs { block1, pool }
        })
    }

    /// One mixed block (`name` as in [`BLOCKS`]).
    pub fn block(&self, name: &str, kind: BlockKind, x: &Tensor) -> Tensor {
        let c = |branch: &str, x: &Tensor| self.apply(&format!("{name}.{branch}"), x);
        let chain =
            |branches: &[&str], x: &Tensor| branches.iter().fold(x.clone(), |acc, b| c(b, &acc));
        let parts = match kind {
            BlockKind::A { .. } => vec![
                c("branch1x1", x),
                chain(&["branch5x5_1", "branch5x5_2"], x),
                chain(&["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x),
                c("branch_pool", &avg_pool3x3_excluding_padding(x)),
            ],
            BlockKind::B => vec![
                c("branch3x3", x),
                chain(&["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x),
                x.max_pool2d(3, 2, 0),
            ],
            BlockKind::C { .. } => vec![
                c("branch1x1", x),
                chain(&["branch7x7_1", "branch7x7_2", "branch7x7_3"], x),
                chain(
                    &[
                        "branch7x7dbl_1",
                        "branch7x7dbl_2",
                        "branch7x7dbl_3",
                        "branch7x7dbl_4",
                        "branch7x7dbl_5",
                    ],
                    x,
                ),
                c("branch_pool", &avg_pool3x3_excluding_padding(x)),
            ],
            BlockKind::D => vec![
                chain(&["branch3x3_1", "branch3x3_2"], x),
                chain(
                    &[
                        "branch7x7x3_1",
                        "branch7x7x3_2",
                        "branch7x7x3_3",
                        "branch7x7x3_4",
                    ],
                    x,
                ),
                x.max_pool2d(3, 2, 0),
            ],
            BlockKind::E { max_pool } => {
                let t = c("branch3x3_1", x);
                let d = chain(&["branch3x3dbl_1", "branch3x3dbl_2"], x);
                let pooled = if max_pool {
                    x.max_pool2d(3, 1, 1)
                } else {
                    avg_pool3x3_excluding_padding(x)
                };
                vec![
                    c("branch1x1", x),
                    Tensor::concat(&[c("branch3x3_2a", &t), c("branch3x3_2b", &t)], 1),
                    Tensor::concat(&[c("branch3x3dbl_3a", &d), c("branch3x3dbl_3b", &d)], 1),
                    c("branch_pool", &pooled),
                ]
            }
        };
        no_grad(|| Tensor::concat(&parts, 1))
    }
}
