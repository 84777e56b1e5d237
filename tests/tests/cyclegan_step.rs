//! Three CycleGAN training steps against PyTorch (tests/data/pytorch/cyclegan_step.safetensors:
//! junyanz/pytorch-CycleGAN-and-pix2pix's CycleGANModel at tiny widths, float64 on the CPU;
//! every size and setting is read from the file's `config` metadata). From the same initial
//! weights and the same real batches, each step's eight losses and `fake_B`, and after three
//! steps every weight of the four networks, must match with relative error < 1e-4, on the CPU
//! and on the GPU.
//!
//! The file's keys are the repository's state_dict keys under the network's name:
//! `init.netG_A.model.1.weight` is `model.1.weight` of our G_A.
//!
//! The biases of convolutions that feed an instance norm without affine parameters cannot
//! change any output (the norm subtracts each channel's mean): their gradient is zero in exact
//! arithmetic and rounding noise in floating point, which Adam turns into steps of up to lr.
//! PyTorch's float64 moved them by about 1e-11 in three steps (float32 would by about 1e-3).
//! atelier leaves them out of the forward pass (`InertBias`), so they stay exactly where they
//! started; the test checks that, and that the difference to PyTorch's noise is below 1e-4 of
//! the norm of the same layer's weight. Every other tensor is held to 1e-4 on its own.
//!
//! On the GPU a steady-state step must also not read back, create buffers or compile
//! pipelines.

use atelier_cyclegan::step::NET_NAMES;
use atelier_cyclegan::{CycleGan, CycleGanConfig, GanMode, LossConfig};
use atelier_kernels::cpu::{CpuMode, with_cpu_mode};
use atelier_nn::AdamConfig;
use atelier_tensor::{Device, Tensor};
use atelier_tests::{Refs, devices, rel_err};
use rand::SeedableRng;
use rand::rngs::StdRng;

const TOL: f64 = 1e-4;

/// The model, losses and Adam the file's `config` describes.
fn reference_setup(refs: &Refs) -> (CycleGanConfig, LossConfig, AdamConfig, usize) {
    let cfg: serde_json::Value =
        serde_json::from_str(&refs.metadata["config"]).expect("config metadata");
    let n = |k: &str| cfg[k].as_u64().unwrap_or_else(|| panic!("config {k}")) as usize;
    let f = |k: &str| cfg[k].as_f64().unwrap_or_else(|| panic!("config {k}"));
    let nc = n("nc");
    let model = CycleGanConfig {
        nc_a: nc,
        nc_b: nc,
        ngf: n("ngf"),
        ndf: n("ndf"),
        n_blocks: n("n_blocks"),
        n_layers_d: n("n_layers_d"),
    };
    let losses = LossConfig {
        lambda_a: f("lambda_A") as f32,
        lambda_b: f("lambda_B") as f32,
        lambda_identity: f("lambda_identity") as f32,
        gan_mode: GanMode::from_name(cfg["gan_mode"].as_str().unwrap()).unwrap(),
        pool_size: n("pool_size"),
    };
    let adam = AdamConfig {
        lr: f("lr"),
        beta1: f("beta1"),
        beta2: f("beta2"),
        ..AdamConfig::default()
    };
    (model, losses, adam, n("batch"))
}

/// Every tensor of the four networks with its reference key suffix (`netG_A.model.1.weight`).
fn every_tensor(gan: &CycleGan) -> Vec<(String, Tensor)> {
    gan.nets()
        .into_iter()
        .flat_map(|(net, m)| {
            m.named_tensors()
                .into_iter()
                .map(move |(name, t)| (format!("{net}.{name}"), t))
        })
        .collect()
}

fn run_on(device: Device) {
    let refs = Refs::load("cyclegan_step");
    let (config, losses, adam, batch) = reference_setup(&refs);
    let mut gan = CycleGan::new(config, losses, device, 0, adam);

    // PyTorch's initial weights, and a check that the names line up one to one
    let ours = every_tensor(&gan);
    let theirs = refs.keys().filter(|k| k.starts_with("init.")).count();
    assert_eq!(ours.len(), theirs, "state_dict sizes differ");
    for (name, t) in &ours {
        let k = format!("init.{name}");
        assert_eq!(t.shape(), refs.shape(&k), "{k}: shape");
        let v: Vec<f32> = refs.values(&k).iter().map(|&x| x as f32).collect();
        t.write(&v);
    }
    for net in NET_NAMES {
        assert!(
            ours.iter().any(|(n, _)| n.starts_with(net)),
            "{net} missing"
        );
    }

    let gpu = atelier_kernels::gpu_available().then(atelier_kernels::gpu);
    // the pool is off in the reference (its draws would be PyTorch's); this seeds ours
    let mut rng = StdRng::seed_from_u64(0);
    let mut step = 0;
    while refs.has(&format!("step{step}.real_A")) {
        let real_a = refs.tensor(&format!("step{step}.real_A"), device);
        let real_b = refs.tensor(&format!("step{step}.real_B"), device);
        assert_eq!(real_a.shape()[0], batch);
        let before = gpu.map(|g| {
            g.synchronize();
            g.stats()
        });
        let out = gan.step(&real_a, &real_b, &mut rng);
        if let (Device::Gpu, Some(g), Some(before), true) = (device, gpu, before, step > 0) {
            let d = g.stats() - before;
            assert_eq!(d.readbacks, 0, "step {step} read back: {d}");
            assert_eq!(d.buffers_allocated, 0, "step {step} created buffers: {d}");
            assert_eq!(
                d.pipelines_compiled, 0,
                "step {step} compiled pipelines: {d}"
            );
        }
        let values = out.read();
        for (name, got) in values.named() {
            let k = format!("step{step}.loss_{name}");
            let e = rel_err(&[got], refs.values(&k));
            assert!(
                e < TOL,
                "{device}: {k} = {got}, PyTorch {} (rel err {e:.2e})",
                refs.values(&k)[0]
            );
        }
        let k = format!("step{step}.fake_B");
        let e = rel_err(&out.fake_b.to_vec(), refs.values(&k));
        assert!(e < TOL, "{device}: {k} rel err {e:.2e}");
        step += 1;
    }
    assert_eq!(step, 3, "the reference holds three steps");

    let inert = gan.inert_parameters();
    assert!(!inert.is_empty());
    let mut worst = (0.0, String::new());
    for (name, t) in every_tensor(&gan) {
        let k = format!("after3.{name}");
        let got = t.to_vec();
        let e = if inert.contains(&name) {
            let init: Vec<f32> = refs
                .values(&format!("init.{name}"))
                .iter()
                .map(|&x| x as f32)
                .collect();
            assert_eq!(got, init, "{device}: inert {name} changed");
            let weight = k.strip_suffix(".bias").expect("inert biases").to_string() + ".weight";
            let scale: f64 = refs
                .values(&weight)
                .iter()
                .map(|w| w * w)
                .sum::<f64>()
                .sqrt();
            let d: f64 = got
                .iter()
                .zip(refs.values(&k))
                .map(|(g, w)| (*g as f64 - w).powi(2))
                .sum::<f64>()
                .sqrt();
            d / scale
        } else {
            rel_err(&got, refs.values(&k))
        };
        if e > worst.0 {
            worst = (e, k);
        }
    }
    eprintln!(
        "{device}: worst rel err after 3 steps {:.2e} ({})",
        worst.0, worst.1
    );
    assert!(
        worst.0 < TOL,
        "{device}: {} rel err {:.2e}",
        worst.1,
        worst.0
    );
}

/// The fast CPU device (each family's cpu.rs).
#[test]
fn three_cyclegan_steps_match_pytorch_on_cpu() {
    with_cpu_mode(CpuMode::Fast, || run_on(Device::Cpu));
}

/// The plain CPU reference (each family's reference.rs), the ground truth.
#[test]
fn three_cyclegan_steps_match_pytorch_on_cpu_reference() {
    with_cpu_mode(CpuMode::Reference, || run_on(Device::Cpu));
}

#[test]
fn three_cyclegan_steps_match_pytorch_on_gpu() {
    if devices().contains(&Device::Gpu) {
        run_on(Device::Gpu);
    }
}
