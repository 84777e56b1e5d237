//! Pointwise ops: unary functions, scalar ops, and broadcasting binary arithmetic.

use atelier_kernels::GpuBuffer;
use atelier_kernels::elementwise::cpu as f;
use atelier_kernels::elementwise::reference as r;
use atelier_kernels::elementwise::{self as k, BinaryOp, Broadcast, UnaryOp};

use super::run::{fast_f32, host_vec};
use super::same_device;
use crate::storage::{CpuData, Storage, cpu_map, cpu_map2};
use crate::tensor::Tensor;

/// `op(x; alpha)` with no graph.
pub(crate) fn unary_raw(x: &Tensor, op: UnaryOp, alpha: f32) -> Tensor {
    match x.storage() {
        Storage::Gpu(b) => {
            let out = GpuBuffer::uninit(b.len());
            k::unary(op, alpha, b, &out);
            Tensor::from_gpu(out, x.shape())
        }
        Storage::Cpu(c) => {
            let c = c.borrow();
            let d = match fast_f32(&c) {
                Some(v) => {
                    let mut o = host_vec(v.len());
                    f::unary(op, alpha, v, &mut o);
                    CpuData::F32(o)
                }
                None => cpu_map!(c, |v| {
                    let mut o = vec![Default::default(); v.len()];
                    r::unary(op, alpha, v, &mut o);
                    o
                }),
            };
            Tensor::from_cpu(d, x.shape())
        }
    }
}

/// `gy * op'(x; alpha)` with no graph.
pub(crate) fn unary_backward_raw(x: &Tensor, gy: &Tensor, op: UnaryOp, alpha: f32) -> Tensor {
    match (x.storage(), gy.storage()) {
        (Storage::Gpu(xb), Storage::Gpu(gb)) => {
            let out = GpuBuffer::uninit(xb.len());
            k::unary_backward(op, alpha, xb, gb, &out);
            Tensor::from_gpu(out, x.shape())
        }
        (Storage::Cpu(xc), Storage::Cpu(gc)) => {
            let (xc, gc) = (xc.borrow(), gc.borrow());
            let d = match (fast_f32(&xc), fast_f32(&gc)) {
                (Some(xv), Some(gv)) => {
                    let mut o = host_vec(xv.len());
                    f::unary_backward(op, alpha, xv, gv, &mut o);
                    CpuData::F32(o)
                }
                _ => cpu_map2!(op.name(), xc, gc, |xv, gv| {
                    let mut o = vec![Default::default(); xv.len()];
                    r::unary_backward(op, alpha, xv, gv, &mut o);
                    o
                }),
            };
            Tensor::from_cpu(d, x.shape())
        }
        _ => panic!("{} backward: tensors on different devices", op.name()),
    }
}

/// `a op b` with NumPy broadcasting, no graph.
pub(crate) fn binary_raw(a: &Tensor, b: &Tensor, op: BinaryOp) -> Tensor {
    same_device(op.name(), a, b);
    if a.shape() == b.shape() {
        return match (a.storage(), b.storage()) {
            (Storage::Gpu(ab), Storage::Gpu(bb)) => {
                let out = GpuBuffer::uninit(ab.len());
                k::binary(op, ab, bb, &out);
                Tensor::from_gpu(out, a.shape())
            }
            (Storage::Cpu(ac), Storage::Cpu(bc)) => {
                let (ac, bc) = (ac.borrow(), bc.borrow());
                let d = match (fast_f32(&ac), fast_f32(&bc)) {
                    (Some(x), Some(y)) => {
                        let mut o = host_vec(x.len());
                        f::binary(op, x, y, &mut o);
                        CpuData::F32(o)
                    }
                    _ => cpu_map2!(op.name(), ac, bc, |x, y| {
                        let mut o = vec![Default::default(); x.len()];
                        r::binary(op, x, y, &mut o);
                        o
                    }),
                };
                Tensor::from_cpu(d, a.shape())
            }
            _ => unreachable!(),
        };
    }
    let bc = Broadcast::of(a.shape(), b.shape()).unwrap_or_else(|| {
        panic!(
            "{}: shapes {:?} and {:?} do not broadcast",
            op.name(),
            a.shape(),
            b.shape()
        )
    });
    let n: usize = bc.shape.iter().product();
    match (a.storage(), b.storage()) {
        (Storage::Gpu(ab), Storage::Gpu(bb)) => {
            let out = GpuBuffer::uninit(n);
            k::binary_broadcast(op, &bc, ab, bb, &out);
            Tensor::from_gpu(out, &bc.shape)
        }
        (Storage::Cpu(ac), Storage::Cpu(bcpu)) => {
            let (ac, bcpu) = (ac.borrow(), bcpu.borrow());
            let d = match (fast_f32(&ac), fast_f32(&bcpu)) {
                (Some(x), Some(y)) => {
                    let mut o = host_vec(n);
                    f::binary_broadcast(op, &bc, x, y, &mut o);
                    CpuData::F32(o)
                }
                _ => cpu_map2!(op.name(), ac, bcpu, |x, y| {
                    let mut o = vec![Default::default(); n];
                    r::binary_broadcast(op, &bc, x, y, &mut o);
                    o
                }),
            };
            Tensor::from_cpu(d, &bc.shape)
        }
        _ => unreachable!(),
    }
}

impl Tensor {
    /// `op(self; alpha)` elementwise, with its gradient: any op of the elementwise family's
    /// table (`atelier_kernels::elementwise::ops`). The methods below name the common ones.
    pub fn unary(&self, op: UnaryOp, alpha: f32) -> Tensor {
        let x = self.clone();
        unary_raw(self, op, alpha).with_node(op.name(), &[self], move |g| {
            vec![Some(unary_backward_raw(&x, g, op, alpha))]
        })
    }

    pub fn neg(&self) -> Tensor {
        self.unary(UnaryOp::Neg, 0.0)
    }
    pub fn exp(&self) -> Tensor {
        self.unary(UnaryOp::Exp, 0.0)
    }
    pub fn log(&self) -> Tensor {
        self.unary(UnaryOp::Log, 0.0)
    }
    pub fn sqrt(&self) -> Tensor {
        self.unary(UnaryOp::Sqrt, 0.0)
    }
    pub fn abs(&self) -> Tensor {
        self.unary(UnaryOp::Abs, 0.0)
    }
    pub fn relu(&self) -> Tensor {
        self.unary(UnaryOp::Relu, 0.0)
    }
    pub fn leaky_relu(&self, slope: f32) -> Tensor {
        self.unary(UnaryOp::LeakyRelu, slope)
    }
    pub fn tanh(&self) -> Tensor {
        self.unary(UnaryOp::Tanh, 0.0)
    }
    pub fn sigmoid(&self) -> Tensor {
        self.unary(UnaryOp::Sigmoid, 0.0)
    }
    /// log(1 + e^x), computed without overflow.
    pub fn softplus(&self) -> Tensor {
        self.unary(UnaryOp::Softplus, 0.0)
    }
    /// x^e (for negative x only integer exponents are defined).
    pub fn powf(&self, e: f32) -> Tensor {
        self.unary(UnaryOp::Pow, e)
    }
    pub fn square(&self) -> Tensor {
        self.unary(UnaryOp::Pow, 2.0)
    }
    pub fn add_scalar(&self, s: f32) -> Tensor {
        self.unary(UnaryOp::AddScalar, s)
    }
    pub fn sub_scalar(&self, s: f32) -> Tensor {
        self.unary(UnaryOp::AddScalar, -s)
    }
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        self.unary(UnaryOp::MulScalar, s)
    }
    pub fn div_scalar(&self, s: f32) -> Tensor {
        self.unary(UnaryOp::MulScalar, 1.0 / s)
    }

    fn binary_op(&self, other: &Tensor, op: BinaryOp) -> Tensor {
        let out = binary_raw(self, other, op);
        let (a, b) = (self.clone(), other.clone());
        out.with_node(op.name(), &[self, other], move |g| {
            let (ga, gb) = match op {
                BinaryOp::Add => (g.clone(), g.clone()),
                BinaryOp::Sub => (g.clone(), g.neg()),
                BinaryOp::Mul => (g.mul(&b), g.mul(&a)),
                BinaryOp::Div => (g.div(&b), g.mul(&a).div(&b.mul(&b)).neg()),
                BinaryOp::Max | BinaryOp::Min => {
                    // the larger (smaller) operand takes the gradient; ties share it
                    let (win_a, win_b) = if op == BinaryOp::Max {
                        (
                            binary_raw(&a, &b, BinaryOp::Gt),
                            binary_raw(&b, &a, BinaryOp::Gt),
                        )
                    } else {
                        (
                            binary_raw(&b, &a, BinaryOp::Gt),
                            binary_raw(&a, &b, BinaryOp::Gt),
                        )
                    };
                    let tie = binary_raw(&a, &b, BinaryOp::Eq).mul_scalar(0.5);
                    (g.mul(&win_a.add(&tie)), g.mul(&win_b.add(&tie)))
                }
                BinaryOp::Eq | BinaryOp::Gt => return vec![None, None],
            };
            vec![Some(ga.sum_to(a.shape())), Some(gb.sum_to(b.shape()))]
        })
    }

    pub fn add(&self, other: &Tensor) -> Tensor {
        self.binary_op(other, BinaryOp::Add)
    }
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.binary_op(other, BinaryOp::Sub)
    }
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.binary_op(other, BinaryOp::Mul)
    }
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.binary_op(other, BinaryOp::Div)
    }
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.binary_op(other, BinaryOp::Max)
    }
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        self.binary_op(other, BinaryOp::Min)
    }
    /// 1.0 where equal, else 0.0 (no gradient).
    pub fn eq_mask(&self, other: &Tensor) -> Tensor {
        binary_raw(self, other, BinaryOp::Eq)
    }
    /// 1.0 where self > other, else 0.0 (no gradient).
    pub fn gt_mask(&self, other: &Tensor) -> Tensor {
        binary_raw(self, other, BinaryOp::Gt)
    }
}

impl std::ops::Add for &Tensor {
    type Output = Tensor;
    fn add(self, o: &Tensor) -> Tensor {
        Tensor::add(self, o)
    }
}
impl std::ops::Sub for &Tensor {
    type Output = Tensor;
    fn sub(self, o: &Tensor) -> Tensor {
        Tensor::sub(self, o)
    }
}
impl std::ops::Mul for &Tensor {
    type Output = Tensor;
    fn mul(self, o: &Tensor) -> Tensor {
        Tensor::mul(self, o)
    }
}
impl std::ops::Div for &Tensor {
    type Output = Tensor;
    fn div(self, o: &Tensor) -> Tensor {
        Tensor::div(self, o)
    }
}
impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}
