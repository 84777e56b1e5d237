//! CPU reference of `shaders/elementwise.wgsl`.

use super::Real;
use crate::kernels::elementwise::{BinaryOp, Broadcast, UnaryOp};

pub fn fill<T: Real>(out: &mut [T], value: f32) {
    out.fill(T::from_f64(value as f64));
}

fn sigmoid<T: Real>(v: T) -> T {
    T::one() / (T::one() + (-v).exp())
}

pub fn apply_unary<T: Real>(op: UnaryOp, v: T, alpha: f32) -> T {
    let a = T::from_f64(alpha as f64);
    match op {
        UnaryOp::Neg => -v,
        UnaryOp::Exp => v.exp(),
        UnaryOp::Log => v.ln(),
        UnaryOp::Sqrt => v.sqrt(),
        UnaryOp::Abs => v.abs(),
        UnaryOp::Relu => v.max(T::zero()),
        UnaryOp::LeakyRelu => {
            if v > T::zero() {
                v
            } else {
                a * v
            }
        }
        UnaryOp::Tanh => v.tanh(),
        UnaryOp::Sigmoid => sigmoid(v),
        UnaryOp::Softplus => v.max(T::zero()) + (-v.abs()).exp().ln_1p(),
        UnaryOp::Pow => v.powf(a),
        UnaryOp::AddScalar => v + a,
        UnaryOp::MulScalar => v * a,
    }
}

pub fn unary_derivative<T: Real>(op: UnaryOp, v: T, alpha: f32) -> T {
    let a = T::from_f64(alpha as f64);
    match op {
        UnaryOp::Neg => -T::one(),
        UnaryOp::Exp => v.exp(),
        UnaryOp::Log => T::one() / v,
        UnaryOp::Sqrt => T::from_f64(0.5) / v.sqrt(),
        UnaryOp::Abs => v.signum0(),
        UnaryOp::Relu => {
            if v > T::zero() {
                T::one()
            } else {
                T::zero()
            }
        }
        UnaryOp::LeakyRelu => {
            if v > T::zero() {
                T::one()
            } else {
                a
            }
        }
        UnaryOp::Tanh => {
            let t = v.tanh();
            T::one() - t * t
        }
        UnaryOp::Sigmoid => {
            let s = sigmoid(v);
            s * (T::one() - s)
        }
        UnaryOp::Softplus => sigmoid(v),
        UnaryOp::Pow => a * v.powf(a - T::one()),
        UnaryOp::AddScalar => T::one(),
        UnaryOp::MulScalar => a,
    }
}

pub fn apply_binary<T: Real>(op: BinaryOp, l: T, r: T) -> T {
    let flag = |b: bool| if b { T::one() } else { T::zero() };
    match op {
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        BinaryOp::Max => l.max(r),
        BinaryOp::Min => l.min(r),
        BinaryOp::Eq => flag(l == r),
        BinaryOp::Gt => flag(l > r),
    }
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
