//! pytorch/examples fast_neural_style's TransformerNet (atelier-style's `TransformerNet`):
//! images `[N, 3, H, W]` with pixels in [0, 255] → stylised images in (about) [0, 255], as
//! its `--export_onnx` exports it. Fully convolutional: batch, height and width are all
//! dynamic (the output is 4·⌈⌈H/2⌉/2⌉ high, H itself when H is a multiple of 4).

use crate::{Dim, Layer, Model};

/// Reflection padding by kernel/2, then the convolution (its `ConvLayer`).
fn conv(name: &str, kernel: usize, stride: usize) -> [Layer; 2] {
    [
        Layer::ReflectionPad(kernel / 2),
        Layer::conv(format!("{name}.conv2d"), stride, 0, true),
    ]
}

pub fn transformer_net() -> Model {
    let mut layers = Vec::new();
    for (conv_name, norm, k, s) in [
        ("conv1", "in1", 9, 1),
        ("conv2", "in2", 3, 2),
        ("conv3", "in3", 3, 2),
    ] {
        layers.extend(conv(conv_name, k, s));
        layers.push(Layer::instance_norm(norm));
        layers.push(Layer::Relu);
    }
    for r in 1..=5 {
        let mut block = Vec::new();
        block.extend(conv(&format!("res{r}.conv1"), 3, 1));
        block.push(Layer::instance_norm(format!("res{r}.in1")));
        block.push(Layer::Relu);
        block.extend(conv(&format!("res{r}.conv2"), 3, 1));
        block.push(Layer::instance_norm(format!("res{r}.in2")));
        layers.push(Layer::Residual(block));
    }
    for (conv_name, norm) in [("deconv1", "in4"), ("deconv2", "in5")] {
        layers.push(Layer::UpsampleNearest(2));
        layers.extend(conv(conv_name, 3, 1));
        layers.push(Layer::instance_norm(norm));
        layers.push(Layer::Relu);
    }
    layers.extend(conv("deconv3", 9, 1));
    Model {
        name: "transformer_net".into(),
        doc: "pytorch/examples fast_neural_style TransformerNet, exported by atelier: images \
              [N, 3, H, W] with pixels in [0, 255] -> stylised images [N, 3, H', W'] in about \
              [0, 255] (H' = H when H is a multiple of 4)"
            .into(),
        input: (
            "input".into(),
            [
                Dim::batch(),
                Dim::Fixed(3),
                Dim::param("height"),
                Dim::param("width"),
            ],
        ),
        output: (
            "output".into(),
            [
                Dim::batch(),
                Dim::Fixed(3),
                Dim::param("out_height"),
                Dim::param("out_width"),
            ],
        ),
        layers,
    }
}
