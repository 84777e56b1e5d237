//! The device memory the style commands hold, estimated from their shapes before any work, so
//! that `style transfer`, `style train` and `style apply` refuse a run the device cannot hold
//! (with both figures) instead of failing part-way.
//!
//! Each estimate has a fixed part (the networks' weights) and parts per image and per pixel.
//! The factors come from the buffer pool's footprint after warm steps on lavapipe (every
//! buffer in use and its free list), rounded up by about a quarter for the pool's free list
//! and other kernel variants' scratch; `tests/tests/memory_estimate.rs` checks that each
//! estimate bounds the footprint at other sizes.

use crate::loss::{DEEPEST_LAYER, STYLE_LAYERS};
use crate::vgg::{VggOp, vgg19_layers};

/// Bytes of VGG-19's weights and biases up to [`DEEPEST_LAYER`].
pub fn vgg_weight_bytes() -> u128 {
    let mut params = 0;
    for layer in vgg19_layers() {
        if let VggOp::Conv {
            in_channels: c,
            out_channels: k,
        } = layer.op
        {
            params += k * c * 9 + k;
        }
        if layer.name == DEEPEST_LAYER {
            break;
        }
    }
    4 * params as u128
}

/// Bytes of the Gram matrices of one image's style layers (channels² each).
fn gram_bytes() -> u128 {
    let mut channels = 0;
    let mut bytes = 0;
    for layer in vgg19_layers() {
        if let VggOp::Conv { out_channels, .. } = layer.op {
            channels = out_channels as u128;
        }
        if STYLE_LAYERS.contains(&layer.name.as_str()) {
            bytes += 4 * channels * channels;
        }
    }
    bytes
}

/// Bytes of the feed-forward network's parameters: its convolutions (3×3, 9×9 at the ends)
/// and instance norms' affine terms.
pub fn net_weight_bytes() -> u128 {
    // (in, out, kernel side) of TransformerNet's 15 convolutions
    let mut convs = vec![(3, 32, 9), (32, 64, 3), (64, 128, 3)];
    convs.extend([(128, 128, 3); 10]);
    convs.extend([(128, 64, 3), (64, 32, 3), (32, 3, 9)]);
    let weights: u128 = convs
        .iter()
        .map(|&(c, k, r)| (c * k * r * r + k) as u128)
        .sum();
    let norms: u128 = 2 * (32 + 64 + 128 + 10 * 128 + 64 + 32);
    4 * (weights + norms)
}

/// Gatys transfer onto a `content_pixels` image with a `style_pixels` style image, at
/// `scales` scales (each half the side of the next; the pool keeps every scale's buffers):
/// VGG's weights twice (measured: 1.3×, with the layers' scratch), its activations with their
/// gradients at about 2,400 bytes a pixel (measured: 2,000) and the style targets.
pub fn transfer_bytes(content_pixels: usize, style_pixels: usize, scales: usize) -> u128 {
    let pixels: u128 = (0..scales.clamp(1, 32))
        .map(|i| ((content_pixels + style_pixels) >> (2 * i)) as u128)
        .sum();
    2 * vgg_weight_bytes() + 2 * gram_bytes() + 2400 * pixels
}

/// A training step of the feed-forward network at `batch` crops of `side`²: VGG's weights
/// twice, the network's four times (with gradients and Adam's moments), nine Gram matrices'
/// worth per image (measured: 7) and 11,500 bytes a pixel (measured: 9,050) for both networks'
/// activations with their gradients.
pub fn training_bytes(batch: usize, side: usize) -> u128 {
    let per_image = 9 * gram_bytes() + 11_500 * (side * side) as u128;
    2 * vgg_weight_bytes() + 4 * net_weight_bytes() + batch as u128 * per_image
}

/// Stylising one `pixels` image: the network's weights twice (measured: 1×) and 2,600 bytes a
/// pixel (measured: 2,070) for its activations.
pub fn stylize_bytes(pixels: usize) -> u128 {
    2 * net_weight_bytes() + 2600 * pixels as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransformerNet;
    use atelier_tensor::Device;

    #[test]
    fn the_weight_counts_match_the_networks() {
        let net = TransformerNet::new(0, Device::Cpu);
        let params: usize = net.parameters().iter().map(|p| p.numel()).sum();
        assert_eq!(net_weight_bytes(), 4 * params as u128);
        let vgg = crate::Vgg19::random(0, DEEPEST_LAYER, Device::Cpu).unwrap();
        assert_eq!(vgg_weight_bytes(), 4 * vgg.parameter_count() as u128);
        // relu1_1 … relu5_1: 64², 128², 256², 512², 512² floats
        assert_eq!(
            gram_bytes(),
            4 * (64 * 64 + 128 * 128 + 256 * 256 + 2 * 512 * 512)
        );
    }

    #[test]
    fn every_scale_of_a_transfer_is_counted() {
        let one = transfer_bytes(64 * 64, 32 * 32, 1);
        let fixed = transfer_bytes(0, 0, 1);
        // a second scale adds a quarter of the pixels, a third a sixteenth
        assert_eq!(transfer_bytes(64 * 64, 32 * 32, 2) - one, (one - fixed) / 4);
        assert_eq!(
            transfer_bytes(64 * 64, 32 * 32, 3) - transfer_bytes(64 * 64, 32 * 32, 2),
            (one - fixed) / 16
        );
        assert!(training_bytes(2, 64) > training_bytes(1, 64));
        assert!(stylize_bytes(64 * 64) > stylize_bytes(32 * 32));
    }
}
