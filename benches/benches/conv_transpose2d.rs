//! conv_transpose2d forward, backward-data and backward-weight, `direct` and `implicit_gemm`,
//! at the DCGAN generator's layers (batch 64). Throughput: FLOPs as elements
//! (2·N·C_in·H_in·W_in·C_out·R·S), compulsory bytes.
//!
//! `cargo bench -p atelier-benches --bench conv_transpose2d -- forward/implicit_gemm/G3`

mod common;

use atelier_benches::inputs::Inputs;
use atelier_benches::shapes;
use atelier_benches::work;
use atelier_kernels::kernels::conv2d::{self as k, ConvVariant};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn conv_transpose2d(c: &mut Criterion) {
    let mut inputs = Inputs::default();
    for layer in shapes::dcgan_generator(common::dcgan_batch()) {
        let spec = layer.spec;
        let work = work::conv_transpose2d(&spec);
        let copies = common::copies_for(work.bytes);
        let sets: Vec<_> = (0..copies)
            .map(|_| {
                let x = inputs.random(spec.x_len());
                let w = inputs.random(spec.w_len());
                let gy = inputs.random(spec.y_len());
                (x, w, gy)
            })
            .collect();
        let (gx, gw, y) = (
            inputs.output(spec.x_len()),
            inputs.output(spec.w_len()),
            inputs.output(spec.y_len()),
        );
        for variant in ConvVariant::ALL {
            let id = || BenchmarkId::new(variant.name(), layer.label());
            let mut g = common::group(c, "conv_transpose2d/forward");
            common::bench(&mut g, id(), work, copies, |i| {
                let (x, w, _) = &sets[i];
                k::conv_transpose2d_forward(variant, &spec, x, w, None, &y)
            });
            g.finish();
            let mut g = common::group(c, "conv_transpose2d/backward_data");
            common::bench(&mut g, id(), work, copies, |i| {
                let (_, w, gy) = &sets[i];
                k::conv_transpose2d_backward_data(variant, &spec, gy, w, &gx)
            });
            g.finish();
            let mut g = common::group(c, "conv_transpose2d/backward_weight");
            common::bench(&mut g, id(), work, copies, |i| {
                let (x, _, gy) = &sets[i];
                k::conv_transpose2d_backward_weight(variant, &spec, x, gy, &gw)
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = conv_transpose2d
}
criterion_main!(benches);
