//! Times the phases of a DCGAN step and each layer's forward and backward (synchronising
//! between them), to see where a step's time goes:
//! `cargo run --release -p atelier-gan --example step_phases -- 32 16 8` (image size, width,
//! batch); `ATELIER_DEVICE=cpu` times the CPU reference instead of the GPU.

use std::time::Instant;

use atelier_gan::{Dcgan, DcganConfig, latent};
use atelier_kernels::gpu;
use atelier_nn::Module;
use atelier_tensor::{Device, Tensor};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let (size, width, batch) = (args[0], args[1], args[2]);
    let config = DcganConfig {
        nz: 100,
        ngf: width,
        ndf: width,
        channels: 3,
        image_size: size,
    };
    let dev = Device::auto();
    let mut gan = Dcgan::new(config, dev, 0, 2e-4);
    let real = Tensor::rand_uniform(&[batch, 3, size, size], -1.0, 1.0, 1, dev);
    let z = latent::noise(batch, 100, 2, dev);
    let sync = || {
        if dev == Device::Gpu {
            gpu().synchronize()
        }
    };
    for _ in 0..2 {
        gan.step(&real, &z).read();
    }
    let time = |what: &str, f: &mut dyn FnMut()| {
        sync();
        let t = Instant::now();
        f();
        sync();
        println!("{what:>28}: {:8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    };
    time("whole step", &mut || {
        gan.step(&real, &z);
    });
    let fake = gan.g.forward(&z);
    time("G forward", &mut || {
        gan.g.forward(&z);
    });
    time("D forward", &mut || {
        gan.d.forward(&real);
    });
    time("D forward+backward (real)", &mut || {
        gan.d.forward(&real).mean_all().backward();
    });
    time("G+D forward+backward", &mut || {
        gan.d.forward(&gan.g.forward(&z)).mean_all().backward();
    });
    drop(fake);
    // per layer of G and D
    let mut x = z.clone();
    for i in 0..gan.g.main.len() {
        let layer = gan.g.main.layer(i);
        let input = x.detach().requires_grad_(true);
        let mut y = None;
        time(&format!("G.{i} forward {:?}", input.shape()), &mut || {
            y = Some(layer.forward(&input));
        });
        let y = y.unwrap();
        time(&format!("G.{i} backward"), &mut || {
            y.sum_all().backward();
        });
        x = y.detach();
    }
    let mut x = real.clone();
    for i in 0..gan.d.main.len() {
        let layer = gan.d.main.layer(i);
        let input = x.detach().requires_grad_(true);
        let mut y = None;
        time(&format!("D.{i} forward {:?}", input.shape()), &mut || {
            y = Some(layer.forward(&input));
        });
        let y = y.unwrap();
        time(&format!("D.{i} backward"), &mut || {
            y.sum_all().backward();
        });
        x = y.detach();
    }
    if dev == Device::Gpu {
        println!("{}", gpu().stats());
    }
}
