//! batchnorm (training mode) at the DCGAN layers that have one (batch 64): statistics,
//! normalisation, and the two backward kernels; the two per-channel reductions (stats,
//! backward_reduce) in each `BatchNormReduction` variant the device has. Throughput: FLOPs as
//! elements (4, 4, 5 and 8 an element), compulsory bytes.

mod common;

use atelier_benches::inputs::Inputs;
use atelier_benches::shapes;
use atelier_benches::work::{self, BatchNormKernel};
use atelier_kernels::kernels::batchnorm::{self as k, BatchNormMode, BatchNormReduction};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn batchnorm(c: &mut Criterion) {
    let mut inputs = Inputs::default();
    for layer in shapes::dcgan_batchnorms(common::dcgan_batch()) {
        let cfg = layer.cfg;
        let (len, ch) = (cfg.len(), cfg.c);
        let copies = common::copies_for(16.0 * len as f64);
        let sets: Vec<_> = (0..copies)
            .map(|_| (inputs.random(len), inputs.random(len)))
            .collect();
        let (y, gx) = (inputs.output(len), inputs.output(len));
        let [mean, gamma, beta, ggamma, gbeta, running_mean] =
            std::array::from_fn(|_| inputs.random(ch));
        let invstd = inputs.random_in(ch, 0.5, 2.0);
        let running_var = inputs.random_in(ch, 0.5, 2.0);
        let id = || BenchmarkId::from_parameter(layer.label());
        let variant_id = |v: BatchNormReduction| BenchmarkId::new(v.name(), layer.label());

        let mut g = common::group(c, "batchnorm/stats");
        let w = work::batchnorm(BatchNormKernel::Stats, len, ch);
        for v in BatchNormReduction::available() {
            common::bench(&mut g, variant_id(v), w, copies, |i| {
                k::batchnorm_stats_with(
                    v,
                    &cfg,
                    &sets[i].0,
                    &mean,
                    &invstd,
                    &running_mean,
                    &running_var,
                )
            });
        }
        g.finish();
        let mut g = common::group(c, "batchnorm/apply");
        let w = work::batchnorm(BatchNormKernel::Apply, len, ch);
        common::bench(&mut g, id(), w, copies, |i| {
            k::batchnorm_apply(&cfg, &sets[i].0, &mean, &invstd, &gamma, &beta, &y)
        });
        g.finish();
        let mut g = common::group(c, "batchnorm/backward_reduce");
        let w = work::batchnorm(BatchNormKernel::BackwardReduce, len, ch);
        for v in BatchNormReduction::available() {
            common::bench(&mut g, variant_id(v), w, copies, |i| {
                let (x, gy) = &sets[i];
                k::batchnorm_backward_reduce_with(v, &cfg, x, gy, &mean, &invstd, &ggamma, &gbeta)
            });
        }
        g.finish();
        let mut g = common::group(c, "batchnorm/backward_apply");
        let w = work::batchnorm(BatchNormKernel::BackwardApply, len, ch);
        common::bench(&mut g, id(), w, copies, |i| {
            let (x, gy) = &sets[i];
            k::batchnorm_backward_apply(
                &cfg,
                BatchNormMode::Training,
                x,
                gy,
                &mean,
                &invstd,
                &gamma,
                &ggamma,
                &gbeta,
                &gx,
            )
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = batchnorm
}
criterion_main!(benches);
