//! The fast CPU device's matmul: each batch's product through the shared GEMM
//! ([`crate::cpu::gemm::sgemm`]), the spec's strides passed as they are (transposes and
//! broadcasts cost no copy).

use crate::cpu::gemm::{Strided, sgemm};
use crate::matmul::MatmulSpec;

/// c = a · b per batch, as [`crate::matmul::reference::matmul`].
pub fn matmul(spec: &MatmulSpec, a: &[f32], b: &[f32], c: &mut [f32]) {
    spec.check(a.len(), b.len(), c.len());
    let s = spec;
    for batch in 0..s.batch {
        sgemm(
            (s.m, s.n, s.k),
            a,
            Strided {
                offset: s.a_offset + batch * s.a_batch_stride,
                row: s.a_row_stride,
                col: s.a_col_stride,
            },
            b,
            Strided {
                offset: s.b_offset + batch * s.b_batch_stride,
                row: s.b_row_stride,
                col: s.b_col_stride,
            },
            c,
            Strided::rows(batch * s.m * s.n, s.n),
            false,
            true,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::reference as r;

    #[test]
    fn a_transposed_broadcast_batch_matches_the_reference() {
        let (batch, m, n, k) = (3, 7, 5, 11);
        let spec = MatmulSpec {
            batch,
            m,
            n,
            k,
            a_offset: 0,
            a_batch_stride: 0,
            a_row_stride: 1,
            a_col_stride: m,
            b_offset: 0,
            b_batch_stride: k * n,
            b_row_stride: n,
            b_col_stride: 1,
        };
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
        let b: Vec<f32> = (0..batch * k * n).map(|i| (i % 5) as f32 - 2.0).collect();
        let (mut c, mut want) = (vec![f32::NAN; batch * m * n], vec![0.0; batch * m * n]);
        matmul(&spec, &a, &b, &mut c);
        r::matmul(&spec, &a, &b, &mut want);
        assert_eq!(c, want);
    }
}
