#![allow(dead_code)] // each bench file uses some of these

//! What every criterion bench file shares: the configuration (small samples, flat sampling:
//! a software adapter takes seconds per convolution), the GPU clock, and one function that
//! benchmarks a kernel with its FLOPs and bytes as criterion throughput.

use std::sync::OnceLock;

use atelier_benches::timing::{self, Clock};
use atelier_kernels::harness::Work;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};

/// Ten samples (criterion's least), a short warm-up and measurement: enough on a GPU, and
/// bearable on lavapipe. Override on the command line (`-- --sample-size 50`).
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

/// The DCGAN batch: 64, or `ATELIER_BENCH_BATCH` (a smaller one keeps a software adapter's
/// run short; the batch is part of every benchmark's name).
pub fn dcgan_batch() -> usize {
    std::env::var("ATELIER_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(atelier_kernels::harness::networks::DCGAN_BATCHES[0])
}

/// GPU timestamps where the adapter has them, else wall clock (chosen once).
pub fn clock() -> Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    *CLOCK.get_or_init(|| {
        let clock = Clock::choose();
        eprintln!(
            "atelier-benches: {} on {}",
            clock.name(),
            atelier_kernels::gpu().info.name
        );
        clock
    })
}

/// A benchmark group with flat sampling (every sample the same number of runs).
pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// Benchmarks `op(copy)` as `id`, reporting FLOP/s as criterion's elements per second and
/// the compulsory traffic as bytes per second. Each run uses the next of `copies` buffer sets.
pub fn bench(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    work: Work,
    copies: usize,
    op: &mut dyn FnMut(usize),
) {
    let clock = clock();
    g.throughput(Throughput::ElementsAndBytes {
        elements: work.flops.max(1.0) as u64,
        bytes: work.bytes as u64,
    });
    let mut next = 0usize;
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            timing::time_total(clock, iters, |_| {
                op(next % copies);
                next += 1;
            })
        })
    });
}
