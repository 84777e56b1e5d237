//! Sum reductions, `serial`, `workgroup` and `subgroup` (where the device has subgroups): the
//! rows and the columns of a 4096×4096 matrix, and the per-channel sums of a [128, 64, 32, 32]
//! tensor (a workgroup per output only: a thread per output would loop 131,072 times).
//! Throughput: one add an element as elements, bytes.

mod common;

use atelier_benches::inputs::Inputs;
use atelier_benches::work;
use atelier_kernels::kernels::reduce::{self as k, ReduceOp, ReduceSpec, ReduceVariant};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn reduce(c: &mut Criterion) {
    let mut inputs = Inputs::default();
    let all = ReduceVariant::available();
    let per_workgroup: Vec<_> = all
        .iter()
        .copied()
        .filter(|&v| v != ReduceVariant::Serial)
        .collect();
    let cases = [
        ("rows", vec![4096, 4096], vec![1], &all),
        ("columns", vec![4096, 4096], vec![0], &all),
        (
            "channels",
            vec![128, 64, 32, 32],
            vec![0, 2, 3],
            &per_workgroup,
        ),
    ];
    let mut g = common::group(c, "reduce");
    for (name, shape, axes, variants) in cases {
        let spec = ReduceSpec::over_axes(&shape, &axes);
        let len: usize = shape.iter().product();
        let work = work::reduce(len, spec.out_count());
        let copies = common::copies_for(work.bytes);
        let sets: Vec<_> = (0..copies).map(|_| inputs.random(len)).collect();
        let out = inputs.output(spec.out_count());
        for &variant in variants.iter() {
            let id = BenchmarkId::new(variant.name(), format!("{name} {shape:?}"));
            common::bench(&mut g, id, work, copies, |i| {
                k::reduce(ReduceOp::Sum, variant, &spec, 1.0, &sets[i], &out)
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = reduce
}
criterion_main!(benches);
