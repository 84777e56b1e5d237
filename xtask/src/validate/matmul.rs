//! Validation of `shaders/matmul.wgsl`.

use atelier_kernels::gpu;
use atelier_kernels::kernels::matmul::{self as k, MatmulSpec, MatmulVariant};
use atelier_kernels::reference::matmul as r;

use super::{TOL_FORWARD, Validator};

/// A spec with A transposed in memory ([k, m] per batch) and/or B ([n, k]), and optionally
/// B broadcast over the batch.
fn spec(
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
    b_broadcast: bool,
) -> (MatmulSpec, usize, usize) {
    let mut s = MatmulSpec::contiguous(batch, m, n, k);
    if ta {
        s.a_row_stride = 1;
        s.a_col_stride = m;
    }
    if tb {
        s.b_row_stride = 1;
        s.b_col_stride = k;
    }
    let b_len = if b_broadcast {
        s.b_batch_stride = 0;
        k * n
    } else {
        batch * k * n
    };
    (s, batch * m * k, b_len)
}

pub fn run(v: &mut Validator) {
    if !v.wants("matmul") {
        return;
    }
    let g = gpu();
    let mut cases = vec![];
    for &(m, n, kk) in &[
        (1, 1, 1),
        (7, 5, 3),
        (64, 64, 64),
        (129, 67, 131),
        (1, 257, 300),
        (257, 1, 17),
        (3, 200, 1),
    ] {
        cases.push((1, m, n, kk, false, false, false));
    }
    cases.push((3, 33, 65, 19, false, false, false));
    cases.push((3, 33, 65, 19, true, false, false));
    cases.push((3, 33, 65, 19, false, true, false));
    cases.push((2, 70, 45, 129, true, true, false));
    cases.push((4, 17, 66, 23, false, false, true));
    for (batch, m, n, kk, ta, tb, bb) in cases {
        let (s, a_len, b_len) = spec(batch, m, n, kk, ta, tb, bb);
        let (a, b) = (v.rand(a_len), v.rand(b_len));
        let (ab, bbuf) = (g.upload(&a), g.upload(&b));
        let mut want = vec![0.0; batch * m * n];
        r::matmul(&s, &a, &b, &mut want);
        for variant in MatmulVariant::ALL {
            let c = v.poisoned(batch * m * n);
            k::matmul(variant, &s, &ab, &bbuf, &c);
            let got = v.read(&c);
            let case = format!("b={batch} m={m} n={n} k={kk} ta={ta} tb={tb} b_bcast={bb}");
            v.check(
                "matmul::matmul",
                variant.name(),
                &case,
                &got,
                &want,
                TOL_FORWARD,
            );
        }
    }
}
