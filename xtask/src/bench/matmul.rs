//! matmul, square sizes 256 to 4096, `naive` and `tiled`.
//!
//! FLOPs: 2·M·N·K. Bytes: A, B and C once each (`atelier_benches::work::matmul`).

use atelier_benches::shapes::MATMUL_SIZES;
use atelier_benches::work;
use atelier_kernels::GpuBuffer;
use atelier_kernels::kernels::matmul::{self as k, MatmulSpec, MatmulVariant};

use super::Suite;

const QUICK_SIZES: [usize; 2] = [128, 256];

pub fn run(suite: &mut Suite) {
    let sizes: &[usize] = if suite.quick {
        &QUICK_SIZES
    } else {
        &MATMUL_SIZES
    };
    for &n in sizes {
        let shape = format!("{n}x{n}x{n}");
        let variants: Vec<MatmulVariant> = MatmulVariant::ALL
            .into_iter()
            .filter(|v| suite.wants("matmul", v.name(), &shape))
            .collect();
        if variants.is_empty() {
            continue;
        }
        let spec = MatmulSpec::contiguous(1, n, n, n);
        let work = work::matmul(n, n, n);
        let copies = suite.copies_for(work.bytes);
        let sets: Vec<[GpuBuffer; 3]> = (0..copies)
            .map(|_| {
                let inputs = &mut suite.inputs;
                [
                    inputs.random(n * n),
                    inputs.random(n * n),
                    inputs.output(n * n),
                ]
            })
            .collect();
        for variant in variants {
            suite.measure(
                "matmul",
                "matmul",
                variant.name(),
                &shape,
                work,
                copies,
                |i| {
                    let [a, b, c] = &sets[i];
                    k::matmul(variant, &spec, a, b, c)
                },
            );
        }
    }
}
