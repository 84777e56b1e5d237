//! Every kernel family's benchmark cases (the registry's, each family's `bench.rs`) under
//! criterion: one benchmark group per kernel (`conv2d.forward`, `matmul`, ...), one benchmark
//! per variant and shape, FLOPs as criterion's elements per second and the compulsory traffic
//! as bytes per second. DCGAN layers run at batch 64 (`ATELIER_BENCH_BATCH` to change it);
//! `ATELIER_BENCH_QUICK=1` runs the suite's --quick shapes.
//!
//! `cargo bench -p atelier-benches --bench kernels -- 'conv2d.forward/implicit_gemm/D2'`

mod common;

use atelier_kernels::harness::{BenchRow, Bencher, Inputs};
use atelier_kernels::registry::FAMILIES;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Runs each case the registry hands it as a criterion benchmark.
struct CriterionBencher<'a> {
    c: &'a mut Criterion,
    inputs: Inputs,
    quick: bool,
    batch: usize,
}

impl Bencher for CriterionBencher<'_> {
    fn quick(&self) -> bool {
        self.quick
    }

    fn dcgan_batches(&self) -> Vec<usize> {
        vec![self.batch]
    }

    /// criterion filters by benchmark id itself (`-- FILTER`); buffers of shapes it then
    /// skips are made all the same.
    fn wants(&self, _kernel: &str, _variant: &str, _shape: &str) -> bool {
        true
    }

    fn inputs(&mut self) -> &mut Inputs {
        &mut self.inputs
    }

    fn measure(&mut self, row: BenchRow, copies: usize, run: &mut dyn FnMut(usize)) {
        let mut g = common::group(self.c, &row.kernel);
        let id = BenchmarkId::new(&row.variant, &row.shape);
        common::bench(&mut g, id, row.work, copies, run);
        g.finish();
    }
}

fn kernels(c: &mut Criterion) {
    let quick = std::env::var("ATELIER_BENCH_QUICK").is_ok_and(|v| v == "1");
    let mut bencher = CriterionBencher {
        c,
        inputs: Inputs::default(),
        quick,
        batch: common::dcgan_batch(),
    };
    for family in FAMILIES {
        (family.bench)(&mut bencher);
        atelier_kernels::gpu().release_free_buffers();
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = kernels
}
criterion_main!(benches);
