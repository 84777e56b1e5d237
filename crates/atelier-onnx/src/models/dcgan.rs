//! pytorch/examples' DCGAN generator (atelier-gan's `Generator`): `z [N, nz, 1, 1]` → images
//! `[N, C, S, S]` in [-1, 1], BatchNorm with its running statistics (inference).

use atelier_gan::model::DcganConfig;

use crate::{Dim, Layer, Model};

pub fn generator(c: &DcganConfig) -> Model {
    let s = c.stages();
    let mut layers = vec![
        Layer::conv_transpose("main.0", 1, 0, 0, false),
        Layer::batch_norm("main.1"),
        Layer::Relu,
    ];
    for stage in 1..s {
        let i = 3 * stage;
        layers.push(Layer::conv_transpose(format!("main.{i}"), 2, 1, 0, false));
        layers.push(Layer::batch_norm(format!("main.{}", i + 1)));
        layers.push(Layer::Relu);
    }
    layers.push(Layer::conv_transpose(
        format!("main.{}", 3 * s),
        2,
        1,
        0,
        false,
    ));
    layers.push(Layer::Tanh);
    let fixed = |n: usize| Dim::Fixed(n);
    Model {
        name: "dcgan_generator".into(),
        doc: format!(
            "pytorch/examples DCGAN generator, exported by atelier: z [N, {nz}, 1, 1] (standard \
             normal) -> images [N, {ch}, {sz}, {sz}] in [-1, 1]",
            nz = c.nz,
            ch = c.channels,
            sz = c.image_size
        ),
        input: ("z".into(), [Dim::batch(), fixed(c.nz), fixed(1), fixed(1)]),
        output: (
            "image".into(),
            [
                Dim::batch(),
                fixed(c.channels),
                fixed(c.image_size),
                fixed(c.image_size),
            ],
        ),
        layers,
    }
}
