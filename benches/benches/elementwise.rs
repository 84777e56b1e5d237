//! elementwise kernels over 16 Mi elements: unary (relu, tanh), unary_backward (leaky_relu),
//! binary (add), and a per-channel bias broadcast onto an NCHW tensor. Throughput: 1 FLOP an
//! element as elements, compulsory bytes (the number to read: these are bandwidth-bound).

mod common;

use atelier_benches::inputs::Inputs;
use atelier_benches::work::{self, Work};
use atelier_kernels::kernels::elementwise::{self as k, BinaryOp, Broadcast, UnaryOp};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const LEN: usize = 1 << 24;
const CHANNELS: usize = 64;

fn elementwise(c: &mut Criterion) {
    let mut inputs = Inputs::default();
    let copies = common::copies_for(12.0 * LEN as f64);
    let sets: Vec<_> = (0..copies)
        .map(|_| (inputs.random(LEN), inputs.random(LEN)))
        .collect();
    let out = inputs.output(LEN);
    let bias = inputs.random(CHANNELS);
    let batch = LEN / (CHANNELS * 32 * 32);
    let bc = Broadcast::of(&[batch, CHANNELS, 32, 32], &[1, CHANNELS, 1, 1]).unwrap();
    let mut g = common::group(c, "elementwise");
    let id = |name: &str| BenchmarkId::new(name, LEN);
    for op in [UnaryOp::Relu, UnaryOp::Tanh] {
        common::bench(
            &mut g,
            id(op.name()),
            work::pointwise(LEN, 1, 1),
            copies,
            |i| k::unary(op, 0.0, &sets[i].0, &out),
        );
    }
    let two_inputs = work::pointwise(LEN, 2, 1);
    common::bench(&mut g, id("leaky_relu_backward"), two_inputs, copies, |i| {
        k::unary_backward(UnaryOp::LeakyRelu, 0.2, &sets[i].0, &sets[i].1, &out)
    });
    common::bench(&mut g, id("add"), two_inputs, copies, |i| {
        k::binary(BinaryOp::Add, &sets[i].0, &sets[i].1, &out)
    });
    let bias_add = Work::new(LEN as f64, 2 * LEN + CHANNELS);
    common::bench(&mut g, id("bias_add_broadcast"), bias_add, copies, |i| {
        k::binary_broadcast(BinaryOp::Add, &bc, &sets[i].0, &bias, &out)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = elementwise
}
criterion_main!(benches);
