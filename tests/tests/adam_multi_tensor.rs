//! Adam on a model's parameters on the GPU: the multi-tensor kernel updates them all in one
//! dispatch and matches the CPU step by step, as the per-tensor kernel does with one dispatch
//! per tensor; loading a checkpoint's moments writes into the flat state. (One test in this
//! binary, so no other test's GPU work is counted.)

use atelier_kernels::variant::with_kernels;
use atelier_kernels::{context::gpu_for_tests, gpu};
use atelier_nn::{Adam, AdamConfig, Optimizer};
use atelier_tensor::{Device, Tensor};
use atelier_tests::rel_err;

/// Awkward shapes: one element, primes, a conv weight.
const SHAPES: [&[usize]; 5] = [&[1], &[7], &[4099], &[3, 5, 4, 4], &[13]];
const STEPS: u64 = 3;

fn params(device: Device) -> Vec<Tensor> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, s)| Tensor::randn(s, 0.0, 1.0, 10 + i as u64, device).requires_grad_(true))
        .collect()
}

fn grad(i: usize, step: u64, shape: &[usize], device: Device) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, 100 * step + i as u64, device)
}

/// The parameters after `STEPS` Adam steps on `device`, and the dispatches of each step.
fn train(device: Device) -> (Vec<Vec<f32>>, Vec<u64>) {
    let ps = params(device);
    let config = AdamConfig {
        lr: 1e-2,
        beta1: 0.5,
        weight_decay: 0.1,
        ..AdamConfig::default()
    };
    let mut adam = Adam::new(ps.clone(), config);
    let mut dispatches = Vec::new();
    for step in 1..=STEPS {
        for (i, p) in ps.iter().enumerate() {
            p.set_grad(Some(grad(i, step, p.shape(), device)));
        }
        let before = (device == Device::Gpu).then(|| {
            gpu().synchronize();
            gpu().stats()
        });
        adam.step();
        if let Some(before) = before {
            dispatches.push((gpu().stats() - before).dispatches);
        }
    }
    (ps.iter().map(Tensor::to_vec).collect(), dispatches)
}

#[test]
fn multi_tensor_adam_is_one_dispatch_and_matches_the_cpu() {
    if !gpu_for_tests() {
        return;
    }
    let (want, _) = train(Device::Cpu);
    for (variant, per_step) in [("multi_tensor", 1), ("per_tensor", SHAPES.len() as u64)] {
        let (got, dispatches) =
            with_kernels(&format!("optim={variant}"), || train(Device::Gpu)).unwrap();
        assert_eq!(dispatches, vec![per_step; STEPS as usize], "{variant}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let e = rel_err(g, w);
            assert!(e < 1e-5, "{variant}: parameter {i} rel err {e:.3e}");
        }
    }

    // moments loaded from a checkpoint are the ones the next step reads
    let (want, got) = (after_loading(Device::Cpu), after_loading(Device::Gpu));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let e = rel_err(g, w);
        assert!(e < 1e-5, "after loading: parameter {i} rel err {e:.3e}");
    }
}

/// The parameters after loading moments (m = 0.5, v = 0.25 at step 4) and one more step.
fn after_loading(device: Device) -> Vec<Vec<f32>> {
    let ps = params(device);
    let mut adam = Adam::new(ps.clone(), AdamConfig::default());
    let full = |t: &Tensor, x| Tensor::full(t.shape(), x, device);
    let m: Vec<Tensor> = ps.iter().map(|p| full(p, 0.5)).collect();
    let v: Vec<Tensor> = ps.iter().map(|p| full(p, 0.25)).collect();
    adam.load_state(4, &m, &v);
    for (i, p) in ps.iter().enumerate() {
        p.set_grad(Some(grad(i, 9, p.shape(), device)));
    }
    adam.step();
    ps.iter().map(Tensor::to_vec).collect()
}
