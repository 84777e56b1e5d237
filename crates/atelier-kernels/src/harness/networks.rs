//! The shapes the benchmarks run at.
//!
//! DCGAN (pytorch/examples/dcgan, 64×64 RGB images, nz = 100, ngf = ndf = 64), every kernel
//! 4×4. The generator is five transposed convolutions, the discriminator five convolutions:
//!
//! | layer | op               | in → out channels | spatial | stride, pad |
//! |-------|------------------|-------------------|---------|-------------|
//! | G1    | conv_transpose2d | 100 → 512         | 1 → 4   | 1, 0        |
//! | G2    | conv_transpose2d | 512 → 256         | 4 → 8   | 2, 1        |
//! | G3    | conv_transpose2d | 256 → 128         | 8 → 16  | 2, 1        |
//! | G4    | conv_transpose2d | 128 → 64          | 16 → 32 | 2, 1        |
//! | G5    | conv_transpose2d | 64 → 3            | 32 → 64 | 2, 1        |
//! | D1    | conv2d           | 3 → 64            | 64 → 32 | 2, 1        |
//! | D2    | conv2d           | 64 → 128          | 32 → 16 | 2, 1        |
//! | D3    | conv2d           | 128 → 256         | 16 → 8  | 2, 1        |
//! | D4    | conv2d           | 256 → 512         | 8 → 4   | 2, 1        |
//! | D5    | conv2d           | 512 → 1           | 4 → 1   | 1, 0        |
//!
//! Batch normalisation follows G1–G4 and D2–D4. VGG-19's sixteen 3×3 convolutions (stride 1,
//! pad 1, batch 1 as in style transfer) have nine distinct shapes, listed once each.

use crate::batchnorm::BatchNormConfig;
use crate::conv2d::{Conv2dSpec, ConvTranspose2dSpec};

/// Latent size, generator and discriminator widths, image channels and side.
pub const NZ: usize = 100;
pub const NGF: usize = 64;
pub const NDF: usize = 64;
pub const NC: usize = 3;
pub const IMAGE: usize = 64;

/// The DCGAN batch sizes the full suite runs (pytorch/examples trains at 64; 128 is PyTorch's usual benchmark batch).
pub const DCGAN_BATCHES: [usize; 2] = [64, 128];
/// VGG-19 input sides.
pub const VGG_SIDES: [usize; 2] = [256, 512];
/// Square matmul sizes.
pub const MATMUL_SIZES: [usize; 5] = [256, 512, 1024, 2048, 4096];

/// A convolution layer: its name in the network and its shape.
#[derive(Clone, Debug)]
pub struct ConvLayer {
    pub name: String,
    pub spec: Conv2dSpec,
}

impl ConvLayer {
    /// `D2 N64 64x32x32>128x16x16 4x4/s2/p1`.
    pub fn label(&self) -> String {
        let s = &self.spec;
        format!(
            "{} N{} {}x{}x{}>{}x{}x{} {}x{}/s{}/p{}",
            self.name,
            s.n,
            s.c,
            s.h,
            s.w,
            s.k,
            s.p(),
            s.q(),
            s.r,
            s.s,
            s.stride.0,
            s.pad.0
        )
    }
}

/// A transposed convolution layer.
#[derive(Clone, Debug)]
pub struct ConvTransposeLayer {
    pub name: String,
    pub spec: ConvTranspose2dSpec,
}

impl ConvTransposeLayer {
    /// `G2 N64 512x4x4>256x8x8 4x4/s2/p1`.
    pub fn label(&self) -> String {
        let s = &self.spec;
        format!(
            "{} N{} {}x{}x{}>{}x{}x{} {}x{}/s{}/p{}",
            self.name,
            s.n,
            s.c_in,
            s.h_in,
            s.w_in,
            s.c_out,
            s.h_out(),
            s.w_out(),
            s.r,
            s.s,
            s.stride.0,
            s.pad.0
        )
    }
}

/// A batch normalisation layer.
#[derive(Clone, Debug)]
pub struct NormLayer {
    pub name: String,
    pub cfg: BatchNormConfig,
    pub side: usize,
}

impl NormLayer {
    /// `G1 N64 512x4x4`.
    pub fn label(&self) -> String {
        format!(
            "{} N{} {}x{}x{}",
            self.name, self.cfg.n, self.cfg.c, self.side, self.side
        )
    }
}

fn conv(
    n: usize,
    c: usize,
    side: usize,
    k: usize,
    ksize: usize,
    stride: usize,
    pad: usize,
) -> Conv2dSpec {
    Conv2dSpec {
        n,
        c,
        h: side,
        w: side,
        k,
        r: ksize,
        s: ksize,
        stride: (stride, stride),
        pad: (pad, pad),
        dilation: (1, 1),
    }
}

/// The discriminator's convolutions D1–D5 at `batch`.
pub fn dcgan_discriminator(batch: usize) -> Vec<ConvLayer> {
    let widths = [NC, NDF, NDF * 2, NDF * 4, NDF * 8];
    let mut layers: Vec<ConvLayer> = (0..4)
        .map(|i| ConvLayer {
            name: format!("D{}", i + 1),
            spec: conv(batch, widths[i], IMAGE >> i, widths[i + 1], 4, 2, 1),
        })
        .collect();
    layers.push(ConvLayer {
        name: "D5".into(),
        spec: conv(batch, NDF * 8, 4, 1, 4, 1, 0),
    });
    layers
}

/// The generator's transposed convolutions G1–G5 at `batch`.
pub fn dcgan_generator(batch: usize) -> Vec<ConvTransposeLayer> {
    let widths = [NZ, NGF * 8, NGF * 4, NGF * 2, NGF, NC];
    (0..5)
        .map(|i| {
            let (side, stride, pad) = if i == 0 {
                (1, 1, 0)
            } else {
                (4 << (i - 1), 2, 1)
            };
            ConvTransposeLayer {
                name: format!("G{}", i + 1),
                spec: ConvTranspose2dSpec {
                    n: batch,
                    c_in: widths[i],
                    h_in: side,
                    w_in: side,
                    c_out: widths[i + 1],
                    r: 4,
                    s: 4,
                    stride: (stride, stride),
                    pad: (pad, pad),
                    output_padding: (0, 0),
                    dilation: (1, 1),
                },
            }
        })
        .collect()
}

/// The batch normalisations after G1–G4 and D2–D4 at `batch`.
pub fn dcgan_batchnorms(batch: usize) -> Vec<NormLayer> {
    let g = dcgan_generator(batch);
    let d = dcgan_discriminator(batch);
    let after_g = g[..4]
        .iter()
        .map(|l| (l.name.clone(), l.spec.c_out, l.spec.h_out()));
    let after_d = d[1..4]
        .iter()
        .map(|l| (l.name.clone(), l.spec.k, l.spec.p()));
    after_g
        .chain(after_d)
        .map(|(name, c, side)| NormLayer {
            name,
            cfg: BatchNormConfig::new(batch, c, side, side),
            side,
        })
        .collect()
}

/// VGG-19's distinct 3×3 convolution shapes for a `side`×`side` image, batch 1. Layers that
/// share a shape are named together (`conv3_2-4`).
pub fn vgg19_convs(side: usize) -> Vec<ConvLayer> {
    // (name, in channels, out channels, downsampling before the block)
    let layers: [(&str, usize, usize, usize); 9] = [
        ("conv1_1", 3, 64, 1),
        ("conv1_2", 64, 64, 1),
        ("conv2_1", 64, 128, 2),
        ("conv2_2", 128, 128, 2),
        ("conv3_1", 128, 256, 4),
        ("conv3_2-4", 256, 256, 4),
        ("conv4_1", 256, 512, 8),
        ("conv4_2-4", 512, 512, 8),
        ("conv5_1-4", 512, 512, 16),
    ];
    layers
        .iter()
        .map(|&(name, c, k, down)| ConvLayer {
            name: format!("vgg.{name}"),
            spec: conv(1, c, side / down, k, 3, 1, 1),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcgan_layers_chain() {
        let g = dcgan_generator(2);
        let sides: Vec<usize> = g.iter().map(|l| l.spec.h_out()).collect();
        assert_eq!(sides, [4, 8, 16, 32, 64]);
        let d = dcgan_discriminator(2);
        let sides: Vec<usize> = d.iter().map(|l| l.spec.p()).collect();
        assert_eq!(sides, [32, 16, 8, 4, 1]);
        assert_eq!(d[0].spec.c, g[4].spec.c_out);
        assert_eq!(dcgan_batchnorms(2).len(), 7);
    }

    #[test]
    fn vgg_sides_halve() {
        let v = vgg19_convs(256);
        assert_eq!(v[0].spec.p(), 256);
        assert_eq!(v[8].spec.p(), 16);
        assert_eq!(v.iter().filter(|l| l.spec.k == 512).count(), 3);
    }
}
