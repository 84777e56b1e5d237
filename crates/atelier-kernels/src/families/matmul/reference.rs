//! CPU reference of `matmul.wgsl`.

use crate::Real;
use crate::matmul::MatmulSpec;

pub fn matmul<T: Real>(spec: &MatmulSpec, a: &[T], b: &[T], c: &mut [T]) {
    spec.check(a.len(), b.len(), c.len());
    let s = spec;
    for batch in 0..s.batch {
        for i in 0..s.m {
            for j in 0..s.n {
                let mut acc = T::zero();
                for k in 0..s.k {
                    let av = a[s.a_offset
                        + batch * s.a_batch_stride
                        + i * s.a_row_stride
                        + k * s.a_col_stride];
                    let bv = b[s.b_offset
                        + batch * s.b_batch_stride
                        + k * s.b_row_stride
                        + j * s.b_col_stride];
                    acc += av * bv;
                }
                c[(batch * s.m + i) * s.n + j] = acc;
            }
        }
    }
}
