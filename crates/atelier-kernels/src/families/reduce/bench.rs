//! Sum reductions, `serial` (a thread per output), `workgroup` (a workgroup per output, a tree
//! in workgroup memory) and `subgroup` (a workgroup per output, subgroup adds; only where the
//! device has subgroups): the rows of a matrix, its columns, a whole vector, and the
//! per-channel sums of an NCHW tensor (batchnorm's reduction pattern).
//!
//! FLOPs: one add per input element. Bytes: the input and the output once
//! (`harness::work::reduce`). Bandwidth-bound: read the GB/s column.
//! On the fast CPU device (`xtask bench --device cpu`): the same cases, variant `cpu`.

use super::{ReduceOp, ReduceSpec, ReduceVariant, reduce_with};
use crate::GpuBuffer;
use crate::harness::bench::copies_for;
use crate::harness::work;
use crate::harness::{BenchDevice, BenchRow, Bencher, CPU_VARIANT, TorchOp};
use crate::variant::Variant;

/// lavapipe stops a shader loop after about 21,845 iterations, silently: a thread-per-output
/// reduction over more elements than this would be timed doing less than its work there, and
/// is a poor choice on any GPU (`ReduceVariant::auto` never makes it). The serial variant is
/// skipped beyond this on every adapter, so tables from different machines have the same rows.
const SERIAL_MAX_REDUCED: usize = 20_000;

/// (name, shape, reduced axes), full size and --quick.
fn cases(quick: bool) -> Vec<(&'static str, Vec<usize>, Vec<usize>)> {
    let (side, vector, batch) = if quick {
        (1024, 1 << 20, 8)
    } else {
        (4096, 1 << 24, 128)
    };
    vec![
        ("rows", vec![side, side], vec![1]),
        ("columns", vec![side, side], vec![0]),
        ("all", vec![vector], vec![0]),
        ("channels", vec![batch, 64, 32, 32], vec![0, 2, 3]),
    ]
}

pub fn run(bench: &mut dyn Bencher) {
    if bench.device() == BenchDevice::Cpu {
        return run_cpu(bench);
    }
    let available = ReduceVariant::available();
    for v in ReduceVariant::ALL {
        if let Some(why) = v.unavailable() {
            println!("reduce.sum {}: skipped ({why})", v.name());
        }
    }
    for (name, shape, axes) in cases(bench.quick()) {
        let spec = ReduceSpec::over_axes(&shape, &axes);
        let label = format!("{name} {shape:?} over {axes:?}");
        let variants: Vec<ReduceVariant> = available
            .iter()
            .copied()
            .filter(|&v| v != ReduceVariant::Serial || spec.reduced_count() <= SERIAL_MAX_REDUCED)
            .filter(|v| bench.wants("reduce.sum", v.name(), &label))
            .collect();
        if variants.is_empty() {
            continue;
        }
        let len: usize = shape.iter().product();
        let work = work::reduce(len, spec.out_count());
        let copies = copies_for(work.bytes);
        let sets: Vec<(GpuBuffer, GpuBuffer)> = (0..copies)
            .map(|_| {
                let inputs = bench.inputs();
                (inputs.random(len), inputs.output(spec.out_count()))
            })
            .collect();
        let torch = TorchOp::new(format!("x.sum({axes:?})")).rand("x", &shape);
        for variant in variants {
            let row = BenchRow {
                family: "reduce",
                kernel: "reduce.sum".into(),
                variant: variant.name().into(),
                shape: label.clone(),
                work,
                torch: Some(torch.clone()),
            };
            bench.measure(row, copies, &mut |i| {
                reduce_with(ReduceOp::Sum, variant, &spec, 1.0, &sets[i].0, &sets[i].1)
            });
        }
    }
}

/// The fast CPU device's reduction (`cpu.rs`) at the same cases.
fn run_cpu(bench: &mut dyn Bencher) {
    for (name, shape, axes) in cases(bench.quick()) {
        let spec = ReduceSpec::over_axes(&shape, &axes);
        let label = format!("{name} {shape:?} over {axes:?}");
        if !bench.wants("reduce.sum", CPU_VARIANT, &label) {
            continue;
        }
        let len: usize = shape.iter().product();
        let work = work::reduce(len, spec.out_count());
        let copies = copies_for(work.bytes);
        let mut sets: Vec<(Vec<f32>, Vec<f32>)> = (0..copies)
            .map(|_| {
                let inputs = bench.inputs();
                (
                    inputs.host_random(len),
                    inputs.host_output(spec.out_count()),
                )
            })
            .collect();
        let row = BenchRow {
            family: "reduce",
            kernel: "reduce.sum".into(),
            variant: CPU_VARIANT.into(),
            shape: label.clone(),
            work,
            torch: Some(TorchOp::new(format!("x.sum({axes:?})")).rand("x", &shape)),
        };
        bench.measure(row, copies, &mut |i| {
            let (x, out) = &mut sets[i];
            super::cpu::reduce(ReduceOp::Sum, &spec, 1.0, x, out)
        });
    }
}
