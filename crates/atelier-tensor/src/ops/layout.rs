//! Shape ops: reshape (a view), and permute, slice, concat, expand (strided copies).

use atelier_kernels::GpuBuffer;
use atelier_kernels::layout::cpu as f;
use atelier_kernels::layout::reference as r;
use atelier_kernels::layout::{self as k, StridedCopy};

use crate::storage::{CpuData, Storage};
use crate::tensor::{Tensor, numel};

/// Row-major element strides of a contiguous shape.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        st[d] = st[d + 1] * shape[d + 1];
    }
    st
}

/// Copies the `view` of `src` into `dst` (which is written only where the view covers it).
fn copy_into(view: &StridedCopy, src: &Tensor, dst: &Tensor) {
    match (src.storage(), dst.storage()) {
        (Storage::Gpu(s), Storage::Gpu(d)) => k::copy_strided(view, s, d),
        (Storage::Cpu(s), Storage::Cpu(d)) => {
            let s = s.borrow();
            let mut d = d.borrow_mut();
            match (&*s, &mut *d) {
                (CpuData::F32(s), CpuData::F32(d)) if super::run::fast_cpu() => {
                    f::copy_strided(view, s, d)
                }
                (CpuData::F32(s), CpuData::F32(d)) => r::copy_strided(view, s, d),
                (CpuData::F64(s), CpuData::F64(d)) => r::copy_strided(view, s, d),
                _ => panic!("copy: dtypes differ"),
            }
        }
        _ => panic!("copy: tensors on different devices"),
    }
}

/// An uninitialised-on-GPU (zeros on CPU) tensor like `like` with `shape`.
fn empty_like(like: &Tensor, shape: &[usize]) -> Tensor {
    match like.storage() {
        Storage::Gpu(_) => Tensor::from_gpu(GpuBuffer::uninit(numel(shape)), shape),
        Storage::Cpu(c) => Tensor::from_cpu(c.borrow().zeros_like(numel(shape)), shape),
    }
}

fn resolve_axis(op: &str, axis: isize, rank: usize) -> usize {
    let a = if axis < 0 { axis + rank as isize } else { axis };
    assert!(
        a >= 0 && (a as usize) < rank.max(1),
        "{op}: axis {axis} is out of range for rank {rank}"
    );
    a as usize
}

impl Tensor {
    /// The same values with another shape (no copy). One dimension may be `usize::MAX` to be
    /// inferred... use [`Tensor::reshape`] with exact sizes.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            numel(shape),
            self.numel(),
            "reshape: cannot view {:?} ({} elements) as {:?}",
            self.shape(),
            self.numel(),
            shape
        );
        let from = self.shape().to_vec();
        self.view_of(shape)
            .with_node("reshape", &[self], move |g| vec![Some(g.reshape(&from))])
    }

    /// Flattens to 2-D `[shape[0], rest]`.
    pub fn flatten_from(&self, axis: usize) -> Tensor {
        let head: Vec<usize> = self.shape()[..axis].to_vec();
        let mut s = head;
        s.push(self.shape()[axis..].iter().product());
        self.reshape(&s)
    }

    /// Reorders axes: output axis i is input axis `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        let rank = self.dims();
        let mut seen = vec![false; rank];
        assert!(
            perm.len() == rank
                && perm
                    .iter()
                    .all(|&p| p < rank && !std::mem::replace(&mut seen[p], true)),
            "permute: {perm:?} is not a permutation of the {rank} axes of {:?}",
            self.shape()
        );
        let in_strides = contiguous_strides(self.shape());
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape()[p]).collect();
        let view = StridedCopy {
            shape: shape.clone(),
            src_offset: 0,
            src_strides: perm.iter().map(|&p| in_strides[p]).collect(),
            dst_offset: 0,
            dst_strides: contiguous_strides(&shape),
        };
        let out = empty_like(self, &shape);
        copy_into(&view, self, &out);
        let mut inverse = vec![0; rank];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        out.with_node("permute", &[self], move |g| vec![Some(g.permute(&inverse))])
    }

    /// Swaps two axes.
    pub fn transpose(&self, a: usize, b: usize) -> Tensor {
        let mut perm: Vec<usize> = (0..self.dims()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Elements `start..end` along `axis` (negative axes count from the end).
    pub fn slice(&self, axis: isize, start: usize, end: usize) -> Tensor {
        let ax = resolve_axis("slice", axis, self.dims());
        let len = self.shape()[ax];
        assert!(
            start <= end && end <= len,
            "slice: range {start}..{end} is outside axis {ax} of size {len} (shape {:?})",
            self.shape()
        );
        let strides = contiguous_strides(self.shape());
        let mut shape = self.shape().to_vec();
        shape[ax] = end - start;
        let view = StridedCopy {
            shape: shape.clone(),
            src_offset: start * strides[ax],
            src_strides: strides,
            dst_offset: 0,
            dst_strides: contiguous_strides(&shape),
        };
        let out = empty_like(self, &shape);
        copy_into(&view, self, &out);
        let full = self.shape().to_vec();
        out.with_node("slice", &[self], move |g| {
            // the gradient is g placed in a zero tensor of the input's shape
            let gx = g.zeros_like_shape(&full);
            let fs = contiguous_strides(&full);
            let view = StridedCopy {
                shape: g.shape().to_vec(),
                src_offset: 0,
                src_strides: contiguous_strides(g.shape()),
                dst_offset: start * fs[ax],
                dst_strides: fs,
            };
            copy_into(&view, g, &gx);
            vec![Some(gx)]
        })
    }

    /// Zeros with `shape` on this tensor's device and dtype.
    pub(crate) fn zeros_like_shape(&self, shape: &[usize]) -> Tensor {
        match self.storage() {
            Storage::Gpu(_) => Tensor::zeros(shape, crate::Device::Gpu),
            Storage::Cpu(c) => Tensor::from_cpu(c.borrow().zeros_like(numel(shape)), shape),
        }
    }

    /// Joins tensors along `axis`; all other sizes must match.
    pub fn concat(tensors: &[Tensor], axis: isize) -> Tensor {
        assert!(!tensors.is_empty(), "concat: no tensors");
        let first = &tensors[0];
        let ax = resolve_axis("concat", axis, first.dims());
        for t in tensors {
            let ok = t.dims() == first.dims()
                && (0..first.dims()).all(|d| d == ax || t.shape()[d] == first.shape()[d]);
            assert!(
                ok,
                "concat: shape {:?} does not match {:?} outside axis {ax}",
                t.shape(),
                first.shape()
            );
            super::same_device("concat", first, t);
        }
        let mut shape = first.shape().to_vec();
        shape[ax] = tensors.iter().map(|t| t.shape()[ax]).sum();
        let out = empty_like(first, &shape);
        let out_strides = contiguous_strides(&shape);
        let mut offset = 0;
        let mut bounds = Vec::new();
        for t in tensors {
            let view = StridedCopy {
                shape: t.shape().to_vec(),
                src_offset: 0,
                src_strides: contiguous_strides(t.shape()),
                dst_offset: offset * out_strides[ax],
                dst_strides: out_strides.clone(),
            };
            copy_into(&view, t, &out);
            bounds.push((offset, offset + t.shape()[ax]));
            offset += t.shape()[ax];
        }
        let inputs: Vec<&Tensor> = tensors.iter().collect();
        out.with_node("concat", &inputs, move |g| {
            bounds
                .iter()
                .map(|&(s, e)| Some(g.slice(ax as isize, s, e)))
                .collect()
        })
    }

    /// Repeats size-1 axes (and prepends axes) to reach `shape`, NumPy-style.
    pub fn expand(&self, shape: &[usize]) -> Tensor {
        if self.shape() == shape {
            return self.clone();
        }
        let rank = shape.len();
        assert!(
            self.dims() <= rank,
            "expand: {:?} has more axes than {shape:?}",
            self.shape()
        );
        let pad = rank - self.dims();
        let in_strides = contiguous_strides(self.shape());
        let mut src_strides = vec![0; rank];
        for d in 0..self.dims() {
            let (s, t) = (self.shape()[d], shape[pad + d]);
            assert!(
                s == t || s == 1,
                "expand: cannot expand {:?} to {shape:?}",
                self.shape()
            );
            src_strides[pad + d] = if s == 1 && t != 1 { 0 } else { in_strides[d] };
        }
        let view = StridedCopy {
            shape: shape.to_vec(),
            src_offset: 0,
            src_strides,
            dst_offset: 0,
            dst_strides: contiguous_strides(shape),
        };
        let out = empty_like(self, shape);
        copy_into(&view, self, &out);
        let from = self.shape().to_vec();
        out.with_node("expand", &[self], move |g| vec![Some(g.sum_to(&from))])
    }

    /// Sums broadcast axes away so the result has `shape` (the gradient of broadcasting).
    pub fn sum_to(&self, shape: &[usize]) -> Tensor {
        if self.shape() == shape {
            return self.clone();
        }
        let rank = self.dims();
        assert!(
            shape.len() <= rank,
            "sum_to: cannot reduce {:?} to {shape:?}",
            self.shape()
        );
        let pad = rank - shape.len();
        let axes: Vec<usize> = (0..rank)
            .filter(|&d| d < pad || (shape[d - pad] == 1 && self.shape()[d] != 1))
            .collect();
        for d in pad..rank {
            let t = shape[d - pad];
            assert!(
                t == self.shape()[d] || t == 1,
                "sum_to: cannot reduce {:?} to {shape:?}",
                self.shape()
            );
        }
        self.sum(&axes, true).reshape(shape)
    }
}
