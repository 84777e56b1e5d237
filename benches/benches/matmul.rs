//! matmul, `naive` and `tiled`, square 256 to 4096. Throughput: FLOPs as elements (2·M·N·K),
//! compulsory bytes.

mod common;

use atelier_benches::inputs::Inputs;
use atelier_benches::shapes::MATMUL_SIZES;
use atelier_benches::work;
use atelier_kernels::kernels::matmul::{self as k, MatmulSpec, MatmulVariant};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn matmul(c: &mut Criterion) {
    let mut inputs = Inputs::default();
    let mut g = common::group(c, "matmul");
    for n in MATMUL_SIZES {
        let spec = MatmulSpec::contiguous(1, n, n, n);
        let work = work::matmul(n, n, n);
        let copies = common::copies_for(work.bytes);
        let sets: Vec<_> = (0..copies)
            .map(|_| (inputs.random(n * n), inputs.random(n * n)))
            .collect();
        let out = inputs.output(n * n);
        for variant in MatmulVariant::ALL {
            let id = BenchmarkId::new(variant.name(), format!("{n}x{n}x{n}"));
            common::bench(&mut g, id, work, copies, |i| {
                k::matmul(variant, &spec, &sets[i].0, &sets[i].1, &out)
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = matmul
}
criterion_main!(benches);
