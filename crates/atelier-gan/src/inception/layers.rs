//! The Inception network's layers from tensor ops: BasicConv2d with its BatchNorm folded in,
//! pytorch-fid's bilinear resize, and the average pool that does not count padding.

use atelier_tensor::{Conv2dParams, DType, Device, Tensor};

use super::spec::ConvSpec;
use super::weights::{InceptionError, StateDict};

/// BatchNorm's eps in the Inception network (TensorFlow's 1e-3; PyTorch's default is 1e-5).
pub const BN_EPS: f64 = 1e-3;

/// `relu(bn(conv(x)))` with BatchNorm in evaluation mode folded into the convolution:
/// `weight · γ/√(var + eps)` and the bias `β − mean · γ/√(var + eps)`.
pub struct BasicConv {
    pub weight: Tensor,
    pub bias: Tensor,
    pub params: Conv2dParams,
}

impl BasicConv {
    pub fn load(sd: &StateDict, s: &ConvSpec, device: Device) -> Result<BasicConv, InceptionError> {
        let keys = s.keys();
        let get = |i: usize| sd.get(&keys[i].0, &keys[i].1);
        let (w, gamma, beta, mean, var) = (get(0)?, get(1)?, get(2)?, get(3)?, get(4)?);
        let per_out = w.len() / s.cout;
        let mut weight = Vec::with_capacity(w.len());
        let mut bias = Vec::with_capacity(s.cout);
        for k in 0..s.cout {
            let scale = f64::from(gamma[k]) / (f64::from(var[k]) + BN_EPS).sqrt();
            weight.extend(
                w[k * per_out..(k + 1) * per_out]
                    .iter()
                    .map(|&v| (f64::from(v) * scale) as f32),
            );
            bias.push((f64::from(beta[k]) - f64::from(mean[k]) * scale) as f32);
        }
        Ok(BasicConv {
            weight: Tensor::from_vec(weight, &keys[0].1, device),
            bias: Tensor::from_vec(bias, &[s.cout], device),
            params: Conv2dParams {
                stride: (s.stride, s.stride),
                padding: s.padding,
                dilation: (1, 1),
            },
        })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let (w, b) = match x.dtype() {
            DType::F64 => (self.weight.to_f64(), self.bias.to_f64()),
            DType::F32 => (self.weight.clone(), self.bias.clone()),
        };
        x.conv2d(&w, Some(&b), self.params).relu()
    }
}

/// `[out, size]`: row `i` holds the bilinear weights of output `i` over the inputs, as
/// PyTorch's `upsample_bilinear2d` with `align_corners=False` computes them (source
/// coordinate `(i + 0.5) · size/out − 0.5`, clamped at 0; the two neighbours, the upper one
/// clamped to the last input).
pub fn bilinear_matrix(size: usize, out: usize) -> Vec<f64> {
    let scale = size as f64 / out as f64;
    let mut m = vec![0.0; out * size];
    for i in 0..out {
        let src = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(size - 1);
        let i1 = (i0 + 1).min(size - 1);
        let l1 = src - i0 as f64;
        m[i * size + i0] += 1.0 - l1;
        m[i * size + i1] += l1;
    }
    m
}

fn matrix(values: Vec<f64>, shape: &[usize], like: &Tensor) -> Tensor {
    match (like.device(), like.dtype()) {
        (Device::Cpu, DType::F64) => Tensor::from_f64(values, shape),
        (device, _) => Tensor::from_vec(values.iter().map(|&v| v as f32).collect(), shape, device),
    }
}

/// pytorch-fid's resize: `F.interpolate(x, size=(oh, ow), mode="bilinear",
/// align_corners=False)` of `[N, C, H, W]`, as two matrix products with the interpolation
/// matrices (`x · Rwᵀ`, then `Rh ·`), so it runs on the matmul kernel, with its gradient.
pub fn resize_bilinear(x: &Tensor, oh: usize, ow: usize) -> Tensor {
    let &[n, c, h, w] = x.shape() else {
        panic!(
            "resize_bilinear: input must be [N, C, H, W], got {:?}",
            x.shape()
        );
    };
    let mut y = x.clone();
    if ow != w {
        // [W, OW]: the transpose of the [OW, W] interpolation matrix
        let m = bilinear_matrix(w, ow);
        let mut t = vec![0.0; w * ow];
        for i in 0..ow {
            for j in 0..w {
                t[j * ow + i] = m[i * w + j];
            }
        }
        y = y
            .reshape(&[n * c * h, w])
            .matmul(&matrix(t, &[w, ow], x))
            .reshape(&[n, c, h, ow]);
    }
    if oh != h {
        let rh = matrix(bilinear_matrix(h, oh), &[1, oh, h], x);
        y = rh
            .matmul(&y.reshape(&[n * c, h, ow]))
            .reshape(&[n, c, oh, ow]);
    }
    y
}

/// `F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)`: each window's mean
/// over the inputs it covers. Computed as the padded-count pool divided by the pool of a plane
/// of ones (the fraction of each window inside the image), which is exact in real arithmetic.
pub fn avg_pool3x3_excluding_padding(x: &Tensor) -> Tensor {
    let &[_, _, h, w] = x.shape() else {
        panic!(
            "avg_pool3x3: input must be [N, C, H, W], got {:?}",
            x.shape()
        );
    };
    let count = |i: usize, n: usize| (i.min(1) + 1 + usize::from(i + 1 < n)) as f64;
    let mut inside = Vec::with_capacity(h * w);
    for i in 0..h {
        for j in 0..w {
            inside.push(count(i, h) * count(j, w) / 9.0);
        }
    }
    x.avg_pool2d(3, 1, 1).div(&matrix(inside, &[1, 1, h, w], x))
}
