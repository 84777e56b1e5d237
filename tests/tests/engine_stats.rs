//! The engine batches work: ops record into one encoder and submit only when the host reads,
//! and a repeated training loop reuses its buffers and pipelines. (One test in this binary,
//! so no other test's GPU work is counted.)

use atelier_kernels::{context::gpu_for_tests, gpu};
use atelier_nn::{Adam, AdamConfig, Optimizer};
use atelier_tensor::{Device, Tensor};

fn training_loop(
    steps: usize,
    x: &Tensor,
    target: &Tensor,
    w1: &Tensor,
    w2: &Tensor,
    adam: &mut Adam,
) -> f32 {
    for _ in 0..steps {
        adam.zero_grad();
        let logits = x.matmul(w1).leaky_relu(0.2).matmul(w2);
        let loss = logits.bce_with_logits(target);
        loss.backward();
        adam.step();
    }
    // the one read of the loop: log the loss
    x.matmul(w1)
        .leaky_relu(0.2)
        .matmul(w2)
        .bce_with_logits(target)
        .item()
}

#[test]
fn one_submit_per_read_and_no_allocation_in_a_repeated_loop() {
    if !gpu_for_tests() {
        return;
    }
    let g = gpu();

    // 100 elementwise ops, then one read: one submit
    let mut x = Tensor::full(&[1000], 1.0, Device::Gpu);
    g.synchronize();
    let before = g.stats();
    for i in 0..100 {
        x = if i % 2 == 0 {
            x.add_scalar(1.0)
        } else {
            x.mul_scalar(1.0)
        };
    }
    let v = x.to_vec();
    let d = g.stats() - before;
    assert_eq!(v[0], 51.0);
    assert_eq!(d.dispatches, 100, "{d}");
    assert_eq!(d.submits, 1, "100 ops and one read must submit once: {d}");
    assert_eq!(d.readbacks, 1, "{d}");

    // a forward / backward / Adam loop, run twice: the second run allocates nothing, compiles
    // nothing and creates no bind group
    let xs = Tensor::randn(&[16, 8], 0.0, 1.0, 1, Device::Gpu);
    let target = Tensor::rand_uniform(&[16, 1], 0.0, 1.0, 2, Device::Gpu);
    let w1 = Tensor::randn(&[8, 32], 0.0, 0.3, 3, Device::Gpu).requires_grad_(true);
    let w2 = Tensor::randn(&[32, 1], 0.0, 0.3, 4, Device::Gpu).requires_grad_(true);
    let mut adam = Adam::new(
        vec![w1.clone(), w2.clone()],
        AdamConfig {
            lr: 1e-2,
            ..AdamConfig::default()
        },
    );
    let first_loss = training_loop(5, &xs, &target, &w1, &w2, &mut adam);
    let before = g.stats();
    let second_loss = training_loop(5, &xs, &target, &w1, &w2, &mut adam);
    let d = g.stats() - before;
    assert!(
        second_loss < first_loss,
        "training lowers the loss: {first_loss} -> {second_loss}"
    );
    assert_eq!(d.buffers_allocated, 0, "second loop allocated: {d}");
    assert_eq!(d.pipelines_compiled, 0, "second loop compiled: {d}");
    assert_eq!(d.uploads, 0, "second loop uploaded: {d}");
    // the same pooled buffers bound to the same kernels: every bind group comes from the cache
    assert_eq!(
        d.bind_groups_created, 0,
        "second loop created bind groups: {d}"
    );
    assert_eq!(d.bind_groups_reused, d.dispatches, "{d}");
    assert_eq!(
        d.submits, 1,
        "second loop submitted more than its one read: {d}"
    );
    assert!(d.buffers_reused > 0);
}
