//! Times N tiny dispatches on the GPU (lavapipe's per-dispatch cost).
use std::time::Instant;

use atelier_kernels::gpu;
use atelier_tensor::{Device, Tensor};

fn main() {
    for n in [1000usize, 100_000] {
        let mut x = Tensor::full(&[n], 1.0, Device::Gpu);
        x.to_vec();
        let t = Instant::now();
        for _ in 0..200 {
            x = x.add_scalar(1.0);
        }
        gpu().synchronize();
        println!(
            "{n:>7} elements: {:.3} ms per dispatch",
            t.elapsed().as_secs_f64() * 1e3 / 200.0
        );
    }
}
