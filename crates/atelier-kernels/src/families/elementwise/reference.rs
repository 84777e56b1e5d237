//! CPU reference of `elementwise.wgsl`: the op tables' f64 formulas.

use super::launch::Broadcast;
use super::ops::{BinaryOp, UnaryOp};
use crate::Real;

pub fn fill<T: Real>(out: &mut [T], value: f32) {
    out.fill(T::from_f64(value as f64));
}

/// op(v; alpha), computed in f64 from the op table.
pub fn apply_unary<T: Real>(op: UnaryOp, v: T, alpha: f32) -> T {
    T::from_f64((op.cpu())(v.to_f64(), alpha as f64))
}

/// op'(v; alpha), computed in f64 from the op table.
pub fn unary_derivative<T: Real>(op: UnaryOp, v: T, alpha: f32) -> T {
    T::from_f64((op.cpu_derivative())(v.to_f64(), alpha as f64))
}

/// l op r, computed in f64 from the op table.
pub fn apply_binary<T: Real>(op: BinaryOp, l: T, r: T) -> T {
    T::from_f64((op.cpu())(l.to_f64(), r.to_f64()))
}

pub fn unary<T: Real>(op: UnaryOp, alpha: f32, x: &[T], out: &mut [T]) {
    assert_eq!(x.len(), out.len(), "unary: input and output lengths");
    for (o, &v) in out.iter_mut().zip(x) {
        *o = apply_unary(op, v, alpha);
    }
}

pub fn unary_backward<T: Real>(op: UnaryOp, alpha: f32, x: &[T], gy: &[T], gx: &mut [T]) {
    assert!(
        x.len() == gy.len() && gy.len() == gx.len(),
        "unary_backward: lengths"
    );
    for i in 0..x.len() {
        gx[i] = gy[i] * unary_derivative(op, x[i], alpha);
    }
}

pub fn binary<T: Real>(op: BinaryOp, a: &[T], b: &[T], out: &mut [T]) {
    assert!(
        a.len() == b.len() && b.len() == out.len(),
        "binary: lengths"
    );
    for i in 0..a.len() {
        out[i] = apply_binary(op, a[i], b[i]);
    }
}

pub fn binary_broadcast<T: Real>(op: BinaryOp, bc: &Broadcast, a: &[T], b: &[T], out: &mut [T]) {
    let n: usize = bc.shape.iter().product();
    assert_eq!(out.len(), n, "binary_broadcast: output length");
    let rank = bc.shape.len();
    let mut idx = vec![0usize; rank];
    for o in out.iter_mut() {
        let ia: usize = (0..rank).map(|d| idx[d] * bc.a_strides[d]).sum();
        let ib: usize = (0..rank).map(|d| idx[d] * bc.b_strides[d]).sum();
        *o = apply_binary(op, a[ia], b[ib]);
        // advance the multi-index, innermost axis first
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < bc.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}
