//! elementwise kernels over 16 Mi elements (1 Mi with --quick): fill, unary (relu, tanh),
//! unary_backward (leaky_relu), binary (add) and binary_broadcast (a per-channel bias added
//! to an NCHW tensor).
//!
//! FLOPs: 1 per element (a transcendental counts as one), fill 0. Bytes: every input and the
//! output once (`harness::work::pointwise`). These kernels are bandwidth-bound: the GB/s
//! column and its % of the copy bandwidth are the ones to read.
//! On the fast CPU device (`xtask bench --device cpu`) the same rows run `cpu.rs`, fill
//! excepted (a CPU tensor is filled where it is made, not by a kernel).

use super::cpu;
use super::launch::{self as k, Broadcast};
use super::ops::{BinaryOp, UnaryOp};
use crate::GpuBuffer;
use crate::harness::bench::copies_for;
use crate::harness::work::{self, Work};
use crate::harness::{BenchDevice, BenchRow, Bencher, TorchOp};

const LEN: usize = 1 << 24;
const QUICK_LEN: usize = 1 << 20;
/// The broadcast case: [LEN / CHW, C, H, W] + [1, C, 1, 1].
const CHANNELS: usize = 64;
const PLANE: usize = 32 * 32;
/// The scalar of the ops that take one (leaky_relu's slope).
const ALPHA: f32 = 0.2;

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

/// The same work in PyTorch: the op tables' expressions on `x` (and `a`, `b`).
fn torch(op: Op, len: usize, nchw: [usize; 4]) -> TorchOp {
    match op {
        Op::Fill => TorchOp::new("x.fill_(0.5)").rand("x", &[len]),
        Op::Unary(u) => TorchOp::new(u.torch()).rand("x", &[len]).scalar("a", 0.0),
        Op::UnaryBackward(u) => {
            // the gradient kernel autograd runs for the op (OPS benches leaky_relu's)
            assert_eq!(
                u,
                UnaryOp::LeakyRelu,
                "no PyTorch backward kernel named for {u:?}"
            );
            TorchOp::new("aten.leaky_relu_backward(gy, x, a, False)")
                .rand("x", &[len])
                .rand("gy", &[len])
                .scalar("a", ALPHA as f64)
        }
        Op::Binary(b) => TorchOp::new(b.torch()).rand("a", &[len]).rand("b", &[len]),
        Op::BiasAdd => TorchOp::new("a + b")
            .rand("a", &nchw)
            .rand("b", &[1, nchw[1], 1, 1]),
    }
}

struct Buffers<B> {
    a: B,
    b: B,
    bias: B,
    out: B,
}

pub fn run(bench: &mut dyn Bencher) {
    let len = if bench.quick() { QUICK_LEN } else { LEN };
    let batch = len / (CHANNELS * PLANE);
    let nchw = [batch, CHANNELS, 32, 32];
    let shape = format!("{len}");
    let bias_shape = format!("[{batch},{CHANNELS},32,32]+[1,{CHANNELS},1,1]");
    let shape_of = |op: Op| match op {
        Op::BiasAdd => bias_shape.clone(),
        _ => shape.clone(),
    };
    let ops: Vec<_> = OPS
        .into_iter()
        .filter(|&(op, kernel, variant)| bench.wants(kernel, variant, &shape_of(op)))
        .collect();
    if ops.is_empty() {
        return;
    }
    let copies = copies_for(12.0 * len as f64);
    let bc = Broadcast::of(&nchw, &[1, CHANNELS, 1, 1]).unwrap();
    let row = |op: Op, kernel: &str, variant: &str| {
        let work: Work = match op {
            Op::Fill => work::pointwise(len, 0, 0),
            Op::Unary(_) => work::pointwise(len, 1, 1),
            Op::UnaryBackward(_) | Op::Binary(_) => work::pointwise(len, 2, 1),
            Op::BiasAdd => Work::new(len as f64, 2 * len + CHANNELS),
        };
        BenchRow {
            family: "elementwise",
            kernel: kernel.to_string(),
            variant: variant.to_string(),
            shape: shape_of(op),
            work,
            torch: Some(torch(op, len, nchw)),
        }
    };
    if bench.device() == BenchDevice::Cpu {
        let mut sets: Vec<Buffers<Vec<f32>>> = (0..copies)
            .map(|_| {
                let inputs = bench.inputs();
                Buffers {
                    a: inputs.host_random(len),
                    b: inputs.host_random(len),
                    bias: inputs.host_random(CHANNELS),
                    out: inputs.host_output(len),
                }
            })
            .collect();
        for (op, kernel, variant) in ops {
            if matches!(op, Op::Fill) {
                continue;
            }
            bench.measure(row(op, kernel, variant), copies, &mut |i| {
                let s = &mut sets[i];
                match op {
                    Op::Fill => unreachable!("fill has no CPU kernel"),
                    Op::Unary(u) => cpu::unary(u, 0.0, &s.a, &mut s.out),
                    Op::UnaryBackward(u) => cpu::unary_backward(u, ALPHA, &s.a, &s.b, &mut s.out),
                    Op::Binary(b) => cpu::binary(b, &s.a, &s.b, &mut s.out),
                    Op::BiasAdd => {
                        cpu::binary_broadcast(BinaryOp::Add, &bc, &s.a, &s.bias, &mut s.out)
                    }
                }
            });
        }
        return;
    }
    let sets: Vec<Buffers<GpuBuffer>> = (0..copies)
        .map(|_| {
            let inputs = bench.inputs();
            Buffers {
                a: inputs.random(len),
                b: inputs.random(len),
                bias: inputs.random(CHANNELS),
                out: inputs.output(len),
            }
        })
        .collect();
    for (op, kernel, variant) in ops {
        bench.measure(row(op, kernel, variant), copies, &mut |i| {
            let s = &sets[i];
            match op {
                Op::Fill => k::fill(&s.out, 0.5),
                Op::Unary(u) => k::unary(u, 0.0, &s.a, &s.out),
                Op::UnaryBackward(u) => k::unary_backward(u, ALPHA, &s.a, &s.b, &s.out),
                Op::Binary(b) => k::binary(b, &s.a, &s.b, &s.out),
                Op::BiasAdd => k::binary_broadcast(BinaryOp::Add, &bc, &s.a, &s.bias, &s.out),
            }
        });
    }
}
