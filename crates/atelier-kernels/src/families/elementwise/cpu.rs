//! The fast CPU device's pointwise ops, in f32, split over the thread pool in chunks.
//!
//! The cheap ops (negation, relu, leaky relu, the scalar ops and the arithmetic of the binary
//! table) are written as f32 loops the compiler vectorises; the others (exp, tanh, sigmoid,
//! ...) run the op table's formula, as the reference does, on each chunk in parallel.
//! A broadcasting op walks its output row by row (the innermost axis), so the index
//! arithmetic happens once per row rather than once per element.

use super::launch::Broadcast;
use super::ops::{BinaryOp, UnaryOp};
use super::reference as r;
use crate::cpu::threads::{GRAIN, for_chunks_mut};

/// `f` on matching chunks of `x` and `out`, in parallel.
fn map1(x: &[f32], out: &mut [f32], f: impl Fn(&[f32], &mut [f32]) + Sync + Send) {
    assert_eq!(x.len(), out.len(), "elementwise (fast CPU): lengths differ");
    for_chunks_mut(out, 1, GRAIN, |start, o| f(&x[start..start + o.len()], o));
}

/// `f` on matching chunks of `a`, `b` and `out`, in parallel.
fn map2(
    a: &[f32],
    b: &[f32],
    out: &mut [f32],
    f: impl Fn(&[f32], &[f32], &mut [f32]) + Sync + Send,
) {
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "elementwise (fast CPU): lengths differ"
    );
    for_chunks_mut(out, 1, GRAIN, |start, o| {
        let end = start + o.len();
        f(&a[start..end], &b[start..end], o)
    });
}

/// out = op(x; alpha), as [`r::unary`].
pub fn unary(op: UnaryOp, alpha: f32, x: &[f32], out: &mut [f32]) {
    let mut pointwise = |f: fn(f32, f32) -> f32| {
        map1(x, out, move |x, o| {
            for (o, &v) in o.iter_mut().zip(x) {
                *o = f(v, alpha);
            }
        })
    };
    match op {
        UnaryOp::Neg => pointwise(|v, _| -v),
        UnaryOp::Relu => pointwise(|v, _| v.max(0.0)),
        UnaryOp::LeakyRelu => pointwise(|v, a| if v > 0.0 { v } else { a * v }),
        UnaryOp::AddScalar => pointwise(|v, a| v + a),
        UnaryOp::MulScalar => pointwise(|v, a| v * a),
        UnaryOp::Abs => pointwise(|v, _| v.abs()),
        _ => map1(x, out, |x, o| r::unary(op, alpha, x, o)),
    }
}

/// gx = gy · op'(x; alpha), as [`r::unary_backward`].
pub fn unary_backward(op: UnaryOp, alpha: f32, x: &[f32], gy: &[f32], gx: &mut [f32]) {
    let mut pointwise = |f: fn(f32, f32, f32) -> f32| {
        map2(x, gy, gx, move |x, gy, o| {
            for ((o, &v), &g) in o.iter_mut().zip(x).zip(gy) {
                *o = f(v, g, alpha);
            }
        })
    };
    match op {
        UnaryOp::Neg => pointwise(|_, g, _| -g),
        UnaryOp::Relu => pointwise(|v, g, _| if v > 0.0 { g } else { 0.0 }),
        UnaryOp::LeakyRelu => pointwise(|v, g, a| if v > 0.0 { g } else { g * a }),
        UnaryOp::AddScalar => pointwise(|_, g, _| g),
        UnaryOp::MulScalar => pointwise(|_, g, a| g * a),
        _ => map2(x, gy, gx, |x, gy, o| r::unary_backward(op, alpha, x, gy, o)),
    }
}

/// The f32 formula of a binary op (the op table's, in f32: exact for these ops).
fn binary_fn(op: BinaryOp) -> fn(f32, f32) -> f32 {
    match op {
        BinaryOp::Add => |l, r| l + r,
        BinaryOp::Sub => |l, r| l - r,
        BinaryOp::Mul => |l, r| l * r,
        BinaryOp::Div => |l, r| l / r,
        BinaryOp::Max => f32::max,
        BinaryOp::Min => f32::min,
        BinaryOp::Eq => |l, r| if l == r { 1.0 } else { 0.0 },
        BinaryOp::Gt => |l, r| if l > r { 1.0 } else { 0.0 },
    }
}

/// out = a op b (same shapes), as [`r::binary`].
pub fn binary(op: BinaryOp, a: &[f32], b: &[f32], out: &mut [f32]) {
    let f = binary_fn(op);
    map2(a, b, out, move |a, b, o| {
        for ((o, &l), &r) in o.iter_mut().zip(a).zip(b) {
            *o = f(l, r);
        }
    });
}

/// out = a op b with NumPy broadcasting, as [`r::binary_broadcast`].
pub fn binary_broadcast(op: BinaryOp, bc: &Broadcast, a: &[f32], b: &[f32], out: &mut [f32]) {
    let n: usize = bc.shape.iter().product();
    assert_eq!(out.len(), n, "binary_broadcast (fast CPU): output length");
    let rank = bc.shape.len();
    if n == 0 {
        return;
    }
    if rank == 0 {
        out[0] = binary_fn(op)(a[0], b[0]);
        return;
    }
    let f = binary_fn(op);
    let row = bc.shape[rank - 1];
    let (sa, sb) = (bc.a_strides[rank - 1], bc.b_strides[rank - 1]);
    // whole rows per chunk; each row finds its operands' offsets from its index
    for_chunks_mut(out, row, GRAIN, |first_row, o| {
        for (k, line) in o.chunks_mut(row).enumerate() {
            let mut i = first_row + k;
            let (mut ia, mut ib) = (0, 0);
            for d in (0..rank - 1).rev() {
                let idx = i % bc.shape[d];
                i /= bc.shape[d];
                ia += idx * bc.a_strides[d];
                ib += idx * bc.b_strides[d];
            }
            match (sa, sb) {
                (1, 1) => {
                    for ((o, &l), &r) in line.iter_mut().zip(&a[ia..]).zip(&b[ib..]) {
                        *o = f(l, r);
                    }
                }
                (1, 0) => {
                    let r = b[ib];
                    for (o, &l) in line.iter_mut().zip(&a[ia..]) {
                        *o = f(l, r);
                    }
                }
                (0, 1) => {
                    let l = a[ia];
                    for (o, &r) in line.iter_mut().zip(&b[ib..]) {
                        *o = f(l, r);
                    }
                }
                _ => {
                    for (j, o) in line.iter_mut().enumerate() {
                        *o = f(a[ia + j * sa], b[ib + j * sb]);
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_matches_the_reference() {
        for (sa, sb) in [
            (vec![2, 3, 5], vec![3, 1]),
            (vec![4, 1], vec![1, 7]),
            (vec![3, 4], vec![3, 4]),
            (vec![1], vec![6]),
        ] {
            let bc = Broadcast::of(&sa, &sb).unwrap();
            let a: Vec<f32> = (0..sa.iter().product()).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..sb.iter().product()).map(|i| 1.0 + i as f32).collect();
            let n = bc.shape.iter().product();
            for op in BinaryOp::ALL.iter().copied() {
                let (mut got, mut want) = (vec![f32::NAN; n], vec![0.0; n]);
                binary_broadcast(op, &bc, &a, &b, &mut got);
                r::binary_broadcast(op, &bc, &a, &b, &mut want);
                assert_eq!(got, want, "{} {sa:?} {sb:?}", op.name());
            }
        }
    }
}
