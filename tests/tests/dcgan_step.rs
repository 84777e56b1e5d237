//! A whole DCGAN training step against PyTorch (tests/data/pytorch/dcgan_step.safetensors:
//! pytorch/examples' G and D at 64×64 with nz 8, ngf = ndf = 4, batch 2, float64 on CPU).
//! From the same initial weights and the same real batch and noise, three steps must give the
//! same losses and, after them, the same value of every state_dict entry (weights, BatchNorm
//! running statistics, num_batches_tracked), relative error < 1e-4, on CPU and GPU.
//!
//! The file's keys are PyTorch's Sequential indices without `main.`: `init.G.0.weight` is
//! `main.0.weight` of our generator.
//!
//! On the GPU the steady-state step also must not read back, create buffers or compile
//! pipelines.

use atelier_gan::{Dcgan, DcganConfig};
use atelier_kernels::cpu::{CpuMode, with_cpu_mode};
use atelier_nn::Module;
use atelier_tensor::Device;
use atelier_tests::{Refs, devices, rel_err};

const TOL: f64 = 1e-4;

fn reference_config(refs: &Refs) -> (DcganConfig, usize) {
    let cfg: serde_json::Value =
        serde_json::from_str(&refs.metadata["config"]).expect("config metadata");
    let n = |k: &str| cfg[k].as_u64().unwrap() as usize;
    let size = refs.shape("real")[2];
    (
        DcganConfig {
            nz: n("nz"),
            ngf: n("ngf"),
            ndf: n("ndf"),
            channels: n("nc"),
            image_size: size,
        },
        n("batch"),
    )
}

/// `main.3.weight` of net `G` at stage `init` → `init.G.3.weight`.
fn key(stage: &str, net: &str, name: &str) -> String {
    let name = name.strip_prefix("main.").expect("DCGAN keys live in main");
    format!("{stage}.{net}.{name}")
}

fn every_tensor(gan: &Dcgan) -> Vec<(&'static str, String, atelier_tensor::Tensor)> {
    let g = gan.g.named_tensors().into_iter().map(|(n, t)| ("G", n, t));
    let d = gan.d.named_tensors().into_iter().map(|(n, t)| ("D", n, t));
    g.chain(d).collect()
}

fn run_on(device: Device) {
    let refs = Refs::load("dcgan_step");
    let (config, batch) = reference_config(&refs);
    let mut gan = Dcgan::new(config, device, 0, 2e-4);

    // PyTorch's initial state, and a check that the names line up one to one
    let ours = every_tensor(&gan);
    let theirs = refs.keys().filter(|k| k.starts_with("init.")).count();
    assert_eq!(ours.len(), theirs, "state_dict sizes differ");
    for (net, name, t) in &ours {
        let k = key("init", net, name);
        assert_eq!(t.shape(), refs.shape(&k), "{k}: shape");
        let v: Vec<f32> = refs.values(&k).iter().map(|&x| x as f32).collect();
        t.write(&v);
    }

    let real = refs.tensor("real", device);
    assert_eq!(real.shape()[0], batch);
    let gpu = atelier_kernels::gpu_available().then(atelier_kernels::gpu);
    for step in 0..3 {
        let z = refs.tensor(&format!("z{step}"), device);
        let before = gpu.map(|g| {
            g.synchronize();
            g.stats()
        });
        let out = gan.step(&real, &z);
        if let (Device::Gpu, Some(g), Some(before), true) = (device, gpu, before, step > 0) {
            // a steady-state step: recorded only, nothing read, nothing created
            let d = g.stats() - before;
            assert_eq!(d.readbacks, 0, "step {step} read back: {d}");
            assert_eq!(d.buffers_allocated, 0, "step {step} created buffers: {d}");
            assert_eq!(
                d.pipelines_compiled, 0,
                "step {step} compiled pipelines: {d}"
            );
        }
        let v = out.read();
        for (name, got) in [("lossD", v.loss_d), ("lossG", v.loss_g)] {
            let k = format!("step{step}.{name}");
            let e = rel_err(&[got], refs.values(&k));
            assert!(
                e < TOL,
                "{device}: {k} = {got}, PyTorch {} (rel err {e:.2e})",
                refs.values(&k)[0]
            );
        }
    }

    let mut worst = (0.0, String::new());
    for (net, name, t) in every_tensor(&gan) {
        let k = key("after3", net, &name);
        let e = rel_err(&t.to_vec(), refs.values(&k));
        assert!(e < TOL, "{device}: {k} rel err {e:.2e}");
        if e > worst.0 {
            worst = (e, k);
        }
    }
    eprintln!(
        "{device}: worst rel err after 3 steps {:.2e} ({})",
        worst.0, worst.1
    );
}

/// The fast CPU device (each family's cpu.rs).
#[test]
fn three_dcgan_steps_match_pytorch_on_cpu() {
    with_cpu_mode(CpuMode::Fast, || run_on(Device::Cpu));
}

/// The plain CPU reference (each family's reference.rs), the ground truth.
#[test]
fn three_dcgan_steps_match_pytorch_on_cpu_reference() {
    with_cpu_mode(CpuMode::Reference, || run_on(Device::Cpu));
}

/// With the multi-tensor Adam, which a hardware GPU's rule picks (a software adapter's picks
/// the per-tensor kernel: the step's other path).
#[test]
fn three_dcgan_steps_match_pytorch_on_gpu() {
    if devices().contains(&Device::Gpu) {
        atelier_kernels::variant::with_kernels("optim=multi_tensor", || run_on(Device::Gpu))
            .unwrap();
    }
}
