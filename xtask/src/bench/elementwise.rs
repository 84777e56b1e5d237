//! elementwise kernels over 16 Mi elements (1 Mi with --quick): fill, unary (relu, tanh),
//! unary_backward (leaky_relu), binary (add) and binary_broadcast (a per-channel bias added
//! to an NCHW tensor).
//!
//! FLOPs: 1 per element (a transcendental counts as one), fill 0. Bytes: every input and the
//! output once (`atelier_benches::work::pointwise`). These kernels are bandwidth-bound: the
//! GB/s column and its % of the copy bandwidth are the ones to read.

use atelier_benches::work::{self, Work};
use atelier_kernels::GpuBuffer;
use atelier_kernels::kernels::elementwise::{self as k, BinaryOp, Broadcast, UnaryOp};

use super::Suite;

const LEN: usize = 1 << 24;
const QUICK_LEN: usize = 1 << 20;
/// The broadcast case: [LEN / CHW, C, H, W] + [1, C, 1, 1].
const CHANNELS: usize = 64;
const PLANE: usize = 32 * 32;

#[derive(Clone, Copy)]
enum Op {
    Fill,
    Unary(UnaryOp),
    UnaryBackward(UnaryOp),
    Binary(BinaryOp),
    BiasAdd,
}

const OPS: [(Op, &str, &str); 6] = [
    (Op::Fill, "elementwise.fill", "fill"),
    (Op::Unary(UnaryOp::Relu), "elementwise.unary", "relu"),
    (Op::Unary(UnaryOp::Tanh), "elementwise.unary", "tanh"),
    (
        Op::UnaryBackward(UnaryOp::LeakyRelu),
        "elementwise.unary_backward",
        "leaky_relu",
    ),
    (Op::Binary(BinaryOp::Add), "elementwise.binary", "add"),
    (Op::BiasAdd, "elementwise.binary_broadcast", "add"),
];

struct Buffers {
    a: GpuBuffer,
    b: GpuBuffer,
    bias: GpuBuffer,
    out: GpuBuffer,
}

pub fn run(suite: &mut Suite) {
    let len = if suite.quick { QUICK_LEN } else { LEN };
    let batch = len / (CHANNELS * PLANE);
    let shape = format!("{len}");
    let bias_shape = format!("[{batch},{CHANNELS},32,32]+[1,{CHANNELS},1,1]");
    let shape_of = |op: Op| match op {
        Op::BiasAdd => bias_shape.clone(),
        _ => shape.clone(),
    };
    let ops: Vec<_> = OPS
        .into_iter()
        .filter(|&(op, kernel, variant)| suite.wants(kernel, variant, &shape_of(op)))
        .collect();
    if ops.is_empty() {
        return;
    }
    let copies = suite.copies_for(12.0 * len as f64);
    let sets: Vec<Buffers> = (0..copies)
        .map(|_| Buffers {
            a: suite.inputs.random(len),
            b: suite.inputs.random(len),
            bias: suite.inputs.random(CHANNELS),
            out: suite.inputs.output(len),
        })
        .collect();
    let bc = Broadcast::of(&[batch, CHANNELS, 32, 32], &[1, CHANNELS, 1, 1]).unwrap();
    for (op, kernel, variant) in ops {
        let work: Work = match op {
            Op::Fill => work::pointwise(len, 0, 0),
            Op::Unary(_) => work::pointwise(len, 1, 1),
            Op::UnaryBackward(_) | Op::Binary(_) => work::pointwise(len, 2, 1),
            Op::BiasAdd => Work::new(len as f64, 2 * len + CHANNELS),
        };
        let shape = shape_of(op);
        suite.measure("elementwise", kernel, variant, &shape, work, copies, |i| {
            let s = &sets[i];
            match op {
                Op::Fill => k::fill(&s.out, 0.5),
                Op::Unary(u) => k::unary(u, 0.0, &s.a, &s.out),
                Op::UnaryBackward(u) => k::unary_backward(u, 0.2, &s.a, &s.b, &s.out),
                Op::Binary(b) => k::binary(b, &s.a, &s.b, &s.out),
                Op::BiasAdd => k::binary_broadcast(BinaryOp::Add, &bc, &s.a, &s.bias, &s.out),
            }
        });
    }
}
