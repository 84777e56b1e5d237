//! matmul, square sizes 256 to 4096 (128 and 256 with --quick), `naive` and `tiled`.
//!
//! FLOPs: 2·M·N·K. Bytes: A, B and C once each (`harness::work::matmul`).
//! On the fast CPU device (`xtask bench --device cpu`): one row per size, variant `cpu`.

use super::{MatmulSpec, MatmulVariant, matmul_with};
use crate::GpuBuffer;
use crate::harness::bench::copies_for;
use crate::harness::networks::MATMUL_SIZES;
use crate::harness::work;
use crate::harness::{BenchDevice, BenchRow, Bencher, CPU_VARIANT, TorchOp};
use crate::variant::Variant;

const QUICK_SIZES: [usize; 2] = [128, 256];

pub fn run(bench: &mut dyn Bencher) {
    let sizes: &[usize] = if bench.quick() {
        &QUICK_SIZES
    } else {
        &MATMUL_SIZES
    };
    for &n in sizes {
        let shape = format!("{n}x{n}x{n}");
        if bench.device() == BenchDevice::Cpu {
            cpu_row(bench, n, &shape);
            continue;
        }
        let variants: Vec<MatmulVariant> = MatmulVariant::available()
            .into_iter()
            .filter(|v| bench.wants("matmul", v.name(), &shape))
            .collect();
        if variants.is_empty() {
            continue;
        }
        let spec = MatmulSpec::contiguous(1, n, n, n);
        let work = work::matmul(n, n, n);
        let copies = copies_for(work.bytes);
        let sets: Vec<[GpuBuffer; 3]> = (0..copies)
            .map(|_| {
                let inputs = bench.inputs();
                [
                    inputs.random(n * n),
                    inputs.random(n * n),
                    inputs.output(n * n),
                ]
            })
            .collect();
        for variant in variants {
            let row = BenchRow {
                family: "matmul",
                kernel: "matmul".into(),
                variant: variant.name().into(),
                shape: shape.clone(),
                work,
                torch: Some(torch(n)),
            };
            bench.measure(row, copies, &mut |i| {
                let [a, b, c] = &sets[i];
                matmul_with(variant, &spec, a, b, c)
            });
        }
    }
}

fn torch(n: usize) -> TorchOp {
    TorchOp::new("torch.mm(a, b)")
        .rand("a", &[n, n])
        .rand("b", &[n, n])
}

/// The fast CPU device's matmul (`cpu.rs`) at one size.
fn cpu_row(bench: &mut dyn Bencher, n: usize, shape: &str) {
    if !bench.wants("matmul", CPU_VARIANT, shape) {
        return;
    }
    let spec = MatmulSpec::contiguous(1, n, n, n);
    let work = work::matmul(n, n, n);
    let copies = copies_for(work.bytes);
    let mut sets: Vec<[Vec<f32>; 3]> = (0..copies)
        .map(|_| {
            let inputs = bench.inputs();
            [
                inputs.host_random(n * n),
                inputs.host_random(n * n),
                inputs.host_output(n * n),
            ]
        })
        .collect();
    let row = BenchRow {
        family: "matmul",
        kernel: "matmul".into(),
        variant: CPU_VARIANT.into(),
        shape: shape.into(),
        work,
        torch: Some(torch(n)),
    };
    bench.measure(row, copies, &mut |i| {
        let [a, b, c] = &mut sets[i];
        super::cpu::matmul(&spec, a, b, c)
    });
}
