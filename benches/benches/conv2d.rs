//! conv2d forward, backward-data and backward-weight, `direct` and `implicit_gemm`, at the
//! DCGAN discriminator's layers (batch 64) and VGG-19's 3×3 layers (256 px, batch 1).
//! Throughput: FLOPs as elements (2·N·K·P·Q·C·R·S), compulsory bytes.
//!
//! `cargo bench -p atelier-benches --bench conv2d -- forward/implicit_gemm/D2`

mod common;

use atelier_benches::inputs::Inputs;
use atelier_benches::shapes::{self, VGG_SIDES};
use atelier_benches::work;
use atelier_kernels::kernels::conv2d::{self as k, ConvVariant};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn conv2d(c: &mut Criterion) {
    let mut layers = shapes::dcgan_discriminator(common::dcgan_batch());
    layers.extend(shapes::vgg19_convs(VGG_SIDES[0]));
    let mut inputs = Inputs::default();
    for layer in layers {
        let spec = layer.spec;
        let work = work::conv2d(&spec);
        let copies = common::copies_for(work.bytes);
        let sets: Vec<_> = (0..copies)
            .map(|_| {
                let x = inputs.random(spec.x_len());
                let w = inputs.random(spec.w_len());
                let y = inputs.random(spec.y_len());
                (x, w, y)
            })
            .collect();
        let (gx, gw, y_out) = (
            inputs.output(spec.x_len()),
            inputs.output(spec.w_len()),
            inputs.output(spec.y_len()),
        );
        for variant in ConvVariant::ALL {
            let id = || BenchmarkId::new(variant.name(), layer.label());
            let mut g = common::group(c, "conv2d/forward");
            common::bench(&mut g, id(), work, copies, |i| {
                let (x, w, _) = &sets[i];
                k::conv2d_forward(variant, &spec, x, w, None, &y_out)
            });
            g.finish();
            let mut g = common::group(c, "conv2d/backward_data");
            common::bench(&mut g, id(), work, copies, |i| {
                let (_, w, gy) = &sets[i];
                k::conv2d_backward_data(variant, &spec, gy, w, &gx)
            });
            g.finish();
            let mut g = common::group(c, "conv2d/backward_weight");
            common::bench(&mut g, id(), work, copies, |i| {
                let (x, _, gy) = &sets[i];
                k::conv2d_backward_weight(variant, &spec, x, gy, &gw)
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = conv2d
}
criterion_main!(benches);
