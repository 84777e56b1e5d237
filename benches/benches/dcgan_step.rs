//! The whole DCGAN training step (`atelier_gan::Dcgan::step`: D on a real and a fake batch,
//! D's Adam step, G through D, G's Adam step) at 64×64, ngf = ndf = 64, batch 64 (or
//! `ATELIER_BENCH_BATCH`). Timed with the wall clock around a synchronised step, as PyTorch's
//! baseline is (a step's cost includes recording and submitting its dispatches); criterion's
//! throughput is images.

use std::time::{Duration, Instant};

use atelier_gan::{Dcgan, DcganConfig, latent};
use atelier_kernels::gpu;
use atelier_tensor::{Device, Tensor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;

fn dcgan_step(c: &mut Criterion) {
    let batch = common::dcgan_batch();
    let config = DcganConfig::default();
    let g = gpu();
    let mut gan = Dcgan::new(config, Device::Gpu, 0, 2e-4);
    let s = config.image_size;
    let real = Tensor::rand_uniform(&[batch, config.channels, s, s], -1.0, 1.0, 1, Device::Gpu);
    let z = latent::noise(batch, config.nz, 2, Device::Gpu);

    let mut group = common::group(c, "dcgan_step");
    group.throughput(Throughput::Elements(batch as u64));
    let id = BenchmarkId::from_parameter(format!("{s}x{s} ngf64 ndf64 N{batch}"));
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                g.synchronize();
                let start = Instant::now();
                gan.step(&real, &z);
                g.synchronize();
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = dcgan_step
}
criterion_main!(benches);
