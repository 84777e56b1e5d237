//! CycleGAN's ResnetGenerator as pytorch-CycleGAN-and-pix2pix builds it (reflection padding,
//! instance normalisation without affine parameters, convolutions with biases, no dropout),
//! with its state_dict names (`model.1.weight`, `model.10.conv_block.1.weight`, ...): images
//! `[N, C_in, H, W]` in [-1, 1] → translated images `[N, C_out, H', W']` in [-1, 1], batch,
//! height and width dynamic. The two stride-2 convolutions and the two upsamplings make
//! `H' = 4·⌈H/4⌉`: H itself for the multiples of 4 (`atelier cyclegan apply` pads other sizes
//! by reflection first and crops the result back).

use atelier_cyclegan::GeneratorConfig;

use crate::{Dim, Layer, Model};

fn instance_norm() -> Layer {
    Layer::InstanceNorm {
        affine: None,
        eps: 1e-5,
    }
}

/// The generator `c` describes (its channels and block count; the width comes with the
/// weights).
pub fn resnet_generator(c: &GeneratorConfig) -> Model {
    let blocks = c.n_blocks;
    let mut layers = vec![
        Layer::ReflectionPad(3),
        Layer::conv("model.1", 1, 0, true),
        instance_norm(),
        Layer::Relu,
    ];
    for i in [4, 7] {
        layers.extend([
            Layer::conv(format!("model.{i}"), 2, 1, true),
            instance_norm(),
            Layer::Relu,
        ]);
    }
    for b in 0..blocks {
        let at = |k: usize| format!("model.{}.conv_block.{k}", 10 + b);
        layers.push(Layer::Residual(vec![
            Layer::ReflectionPad(1),
            Layer::conv(at(1), 1, 0, true),
            instance_norm(),
            Layer::Relu,
            Layer::ReflectionPad(1),
            Layer::conv(at(5), 1, 0, true),
            instance_norm(),
        ]));
    }
    let up = 10 + blocks;
    for i in [up, up + 3] {
        layers.extend([
            Layer::conv_transpose(format!("model.{i}"), 2, 1, 1, true),
            instance_norm(),
            Layer::Relu,
        ]);
    }
    layers.extend([
        Layer::ReflectionPad(3),
        Layer::conv(format!("model.{}", up + 7), 1, 0, true),
        Layer::Tanh,
    ]);
    Model {
        name: "cyclegan_resnet_generator".into(),
        doc: format!(
            "CycleGAN ResnetGenerator (pytorch-CycleGAN-and-pix2pix; ngf {}, {blocks} blocks), \
             exported by atelier: images [N, {}, H, W] in [-1, 1] -> translated images [N, {}, \
             H', W'] in [-1, 1] (H' = H when H is a multiple of 4, else the next one)",
            c.ngf, c.input_nc, c.output_nc
        ),
        input: (
            "input".into(),
            [
                Dim::batch(),
                Dim::Fixed(c.input_nc),
                Dim::param("height"),
                Dim::param("width"),
            ],
        ),
        output: (
            "output".into(),
            [
                Dim::batch(),
                Dim::Fixed(c.output_nc),
                Dim::param("out_height"),
                Dim::param("out_width"),
            ],
        ),
        layers,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{ExportError, Result, Weights, export};

    /// pytorch-CycleGAN-and-pix2pix's parameter shapes at ngf 4, 2 blocks.
    struct Shapes(HashMap<String, Vec<usize>>);

    impl Weights for Shapes {
        fn get(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
            let shape = self
                .0
                .get(name)
                .ok_or_else(|| ExportError::Description(format!("no {name}")))?;
            Ok((shape.clone(), vec![0.5; shape.iter().product()]))
        }
    }

    #[test]
    fn resnet_generator_builds_a_wired_graph_from_its_state_dict_names() {
        let ngf = 4;
        let mut s = HashMap::new();
        let mut conv = |name: String, o: usize, i: usize, k: usize| {
            s.insert(format!("{name}.weight"), vec![o, i, k, k]);
            s.insert(format!("{name}.bias"), vec![o]);
        };
        conv("model.1".into(), ngf, 3, 7);
        conv("model.4".into(), 2 * ngf, ngf, 3);
        conv("model.7".into(), 4 * ngf, 2 * ngf, 3);
        for b in [10, 11] {
            conv(format!("model.{b}.conv_block.1"), 4 * ngf, 4 * ngf, 3);
            conv(format!("model.{b}.conv_block.5"), 4 * ngf, 4 * ngf, 3);
        }
        // transposed: [C_in, C_out, k, k]
        conv("model.12".into(), 4 * ngf, 2 * ngf, 3);
        conv("model.15".into(), 2 * ngf, ngf, 3);
        conv("model.19".into(), 3, ngf, 7);
        let config = GeneratorConfig {
            input_nc: 3,
            output_nc: 3,
            ngf,
            n_blocks: 2,
        };
        let m = export(&resnet_generator(&config), &Shapes(s), &[]).unwrap();
        let g = m.graph.unwrap();
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        let count = |op: &str| ops.iter().filter(|o| **o == op).count();
        // convolutions: 1 in, 2 down, 2 per block, 1 out
        assert_eq!(
            (count("Conv"), count("ConvTranspose"), count("Add")),
            (8, 2, 2)
        );
        assert_eq!((count("InstanceNormalization"), count("Pad")), (9, 6));
        assert_eq!(ops.last(), Some(&"Tanh"));
        // non-affine instance norms get ones and zeros of the right width
        let ones = g
            .initializer
            .iter()
            .find(|t| t.name.ends_with("instance_norm.ones"))
            .unwrap();
        assert_eq!(ones.dims, [ngf as i64]);
        let convt = g
            .node
            .iter()
            .find(|n| n.op_type == "ConvTranspose")
            .unwrap();
        let op = convt
            .attribute
            .iter()
            .find(|a| a.name == "output_padding")
            .unwrap();
        assert_eq!(op.ints, [1, 1]);
    }
}
