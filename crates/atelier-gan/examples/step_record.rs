//! The CPU cost of recording one DCGAN training step: the time `Dcgan::step` takes to return
//! (ops record into the open encoder; nothing is read back), the time until its commands are
//! submitted (`flush`: wgpu finishes encoding the open compute pass there, so this is the whole
//! CPU cost), then the time until the GPU has finished, and what the engine did per step
//! (dispatches, compute passes, bind groups):
//! `cargo run --release -p atelier-gan --example step_record -- 32 16 8 [steps]` (image size,
//! width, batch, timed steps). Medians over the timed steps, after two warm-up steps.

use std::time::Instant;

use atelier_gan::{Dcgan, DcganConfig, latent};
use atelier_kernels::gpu;
use atelier_tensor::{Device, Tensor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let (size, width, batch) = (args[0], args[1], args[2]);
    let steps = args.get(3).copied().unwrap_or(10);
    let config = DcganConfig {
        nz: 100,
        ngf: width,
        ndf: width,
        channels: 3,
        image_size: size,
    };
    let g = gpu();
    let mut gan = Dcgan::new(config, Device::Gpu, 0, 2e-4);
    let real = Tensor::rand_uniform(&[batch, 3, size, size], -1.0, 1.0, 1, Device::Gpu);
    let z = latent::noise(batch, 100, 2, Device::Gpu);
    for _ in 0..2 {
        gan.step(&real, &z).read();
    }
    let (mut record_ms, mut submit_ms, mut total_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_step = None;
    for _ in 0..steps {
        g.synchronize();
        let before = g.stats();
        let t = Instant::now();
        let out = gan.step(&real, &z);
        record_ms.push(t.elapsed().as_secs_f64() * 1e3);
        g.flush();
        submit_ms.push(t.elapsed().as_secs_f64() * 1e3);
        per_step = Some(g.stats() - before);
        g.synchronize();
        total_ms.push(t.elapsed().as_secs_f64() * 1e3);
        drop(out);
    }
    println!(
        "DCGAN {size}x{size}, width {width}, batch {batch} on {}: record {:.3} ms, record + submit \
         {:.3} ms, record + submit + GPU {:.1} ms (medians of {steps} steps)",
        g.info.name,
        median(record_ms),
        median(submit_ms),
        median(total_ms)
    );
    println!("per step: {}", per_step.expect("at least one step"));
}
