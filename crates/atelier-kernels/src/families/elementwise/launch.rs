//! Launchers for `elementwise.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::ops::{BinaryOp, UnaryOp};
use super::{BINARY, BINARY_BROADCAST, FILL, UNARY, UNARY_BACKWARD};
use crate::blocks::{self, View};
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

/// Largest rank the broadcasting kernels handle.
pub const MAX_RANK: usize = 8;

/// How two operands broadcast to an output: the output's shape and each operand's element
/// strides along it (0 on an axis the operand broadcasts along).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    pub shape: Vec<usize>,
    pub a_strides: Vec<usize>,
    pub b_strides: Vec<usize>,
}

impl Broadcast {
    /// The broadcast of shapes `a` and `b` by NumPy's rules, or `None` if they do not broadcast.
    pub fn of(a: &[usize], b: &[usize]) -> Option<Broadcast> {
        let rank = a.len().max(b.len());
        let pad = |s: &[usize]| {
            let mut v = vec![1; rank - s.len()];
            v.extend_from_slice(s);
            v
        };
        let (pa, pb) = (pad(a), pad(b));
        let mut shape = vec![0; rank];
        for d in 0..rank {
            shape[d] = match (pa[d], pb[d]) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => return None,
            };
        }
        let strides = |p: &[usize]| {
            let mut st = vec![0; rank];
            let mut acc = 1;
            for d in (0..rank).rev() {
                st[d] = if p[d] == 1 && shape[d] != 1 { 0 } else { acc };
                acc *= p[d];
            }
            st
        };
        Some(Broadcast {
            a_strides: strides(&pa),
            b_strides: strides(&pb),
            shape,
        })
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    op: u32,
    alpha: f32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct BroadcastParams {
    n: u32,
    op: u32,
    rank: u32,
    a_offset: u32,
    b_offset: u32,
    out_offset: u32,
    _pad: [u32; 2],
    shape: [u32; MAX_RANK],
    a_strides: [u32; MAX_RANK],
    b_strides: [u32; MAX_RANK],
    out_strides: [u32; MAX_RANK],
}

fn n_u32(n: usize) -> u32 {
    u32::try_from(n).expect("atelier: elementwise kernels take at most 2^32 - 1 elements")
}

fn launch_pointwise(kernel: &Kernel, params: Params, buffers: &[&GpuBuffer]) {
    // buffers larger than a binding run in ranges of elements
    let named: Vec<(&str, &GpuBuffer)> = buffers.iter().map(|&b| (kernel.entry, b)).collect();
    if crate::chunk::split_elements(kernel.entry, &named, |len, win| {
        let refs: Vec<&GpuBuffer> = win.iter().collect();
        let chunk = Params {
            n: n_u32(len),
            ..params
        };
        launch_pointwise(kernel, chunk, &refs)
    }) {
        return;
    }
    let n = params.n as usize;
    gpu().launch_elements(kernel, &[("OP", params.op as f64)], &params, buffers, n);
}

/// out[i] = value
pub fn fill(out: &GpuBuffer, value: f32) {
    let p = Params {
        n: n_u32(out.len()),
        op: 0,
        alpha: value,
        _pad: 0,
    };
    launch_pointwise(&FILL, p, &[out]);
}

/// out[i] = op(x[i]; alpha)
pub fn unary(op: UnaryOp, alpha: f32, x: &GpuBuffer, out: &GpuBuffer) {
    assert_eq!(
        x.len(),
        out.len(),
        "unary {}: input and output lengths",
        op.name()
    );
    let p = Params {
        n: n_u32(x.len()),
        op: op.code(),
        alpha,
        _pad: 0,
    };
    launch_pointwise(&UNARY, p, &[x, out]);
}

/// gx[i] = gy[i] * op'(x[i]; alpha)
pub fn unary_backward(op: UnaryOp, alpha: f32, x: &GpuBuffer, gy: &GpuBuffer, gx: &GpuBuffer) {
    assert!(
        x.len() == gy.len() && gy.len() == gx.len(),
        "unary_backward {}: lengths {} {} {}",
        op.name(),
        x.len(),
        gy.len(),
        gx.len()
    );
    let p = Params {
        n: n_u32(x.len()),
        op: op.code(),
        alpha,
        _pad: 0,
    };
    launch_pointwise(&UNARY_BACKWARD, p, &[x, gy, gx]);
}

/// out[i] = a[i] op b[i]
pub fn binary(op: BinaryOp, a: &GpuBuffer, b: &GpuBuffer, out: &GpuBuffer) {
    assert!(
        a.len() == b.len() && b.len() == out.len(),
        "binary {}: lengths {} {} {}",
        op.name(),
        a.len(),
        b.len(),
        out.len()
    );
    let p = Params {
        n: n_u32(a.len()),
        op: op.code(),
        alpha: 0.0,
        _pad: 0,
    };
    launch_pointwise(&BINARY, p, &[a, b, out]);
}

/// out = a op b with broadcasting described by `bc`. When an operand or the output is larger
/// than one binding it runs in boxes of the output's axes (`crate::blocks`), each on windows of
/// the three buffers.
pub fn binary_broadcast(
    op: BinaryOp,
    bc: &Broadcast,
    a: &GpuBuffer,
    b: &GpuBuffer,
    out: &GpuBuffer,
) {
    let rank = bc.shape.len();
    assert!(
        rank <= MAX_RANK,
        "binary_broadcast: rank {rank} > {MAX_RANK}"
    );
    let n: usize = bc.shape.iter().product();
    assert_eq!(
        out.len(),
        n,
        "binary_broadcast {}: output length",
        op.name()
    );
    let out_strides = blocks::contiguous_strides(&bc.shape);
    let views = [
        View {
            what: "a",
            buffer: a,
            offset: 0,
            strides: bc.a_strides.clone(),
        },
        View {
            what: "b",
            buffer: b,
            offset: 0,
            strides: bc.b_strides.clone(),
        },
        View {
            what: "out",
            buffer: out,
            offset: 0,
            strides: out_strides.clone(),
        },
    ];
    if n == 0 || !blocks::needed(&views) {
        return launch_broadcast(op, bc, &out_strides, [0; 3], [a, b, out]);
    }
    blocks::for_each_block("binary_broadcast", &bc.shape, &views, |blk| {
        let part = Broadcast {
            shape: blk.size.clone(),
            ..bc.clone()
        };
        let offsets = [blk.offsets[0], blk.offsets[1], blk.offsets[2]];
        let [wa, wb, wo] = [&blk.windows[0], &blk.windows[1], &blk.windows[2]];
        launch_broadcast(op, &part, &out_strides, offsets, [wa, wb, wo]);
    });
}

/// One broadcasting launch: `offsets` are where a, b and out start in their buffers.
fn launch_broadcast(
    op: BinaryOp,
    bc: &Broadcast,
    out_strides: &[usize],
    offsets: [usize; 3],
    buffers: [&GpuBuffer; 3],
) {
    let rank = bc.shape.len();
    let n: usize = bc.shape.iter().product();
    let mut p = BroadcastParams {
        n: n_u32(n),
        op: op.code(),
        rank: rank as u32,
        a_offset: n_u32(offsets[0]),
        b_offset: n_u32(offsets[1]),
        out_offset: n_u32(offsets[2]),
        _pad: [0; 2],
        shape: [1; MAX_RANK],
        a_strides: [0; MAX_RANK],
        b_strides: [0; MAX_RANK],
        out_strides: [0; MAX_RANK],
    };
    for (d, &out_stride) in out_strides.iter().enumerate().take(rank) {
        p.shape[d] = n_u32(bc.shape[d]);
        p.a_strides[d] = n_u32(bc.a_strides[d]);
        p.b_strides[d] = n_u32(bc.b_strides[d]);
        p.out_strides[d] = n_u32(out_stride);
    }
    gpu().launch_elements(
        &BINARY_BROADCAST,
        &[("OP", p.op as f64), ("RANK", rank as f64)],
        &p,
        &buffers,
        n,
    );
}
