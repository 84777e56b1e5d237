//! Validation of `matmul.wgsl`.

use super::reference as r;
use super::{self as k, MatmulSpec, MatmulVariant};
use crate::gpu;
use crate::variant::Variant;

use crate::harness::{TOL_FORWARD, Validator};

/// One product to check: sizes, and how the operands lie in memory.
#[derive(Clone, Copy, Default)]
struct Case {
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    /// A stored transposed ([k, m] per batch).
    ta: bool,
    /// B stored transposed ([n, k] per batch).
    tb: bool,
    /// One B for every batch (batch stride 0).
    b_broadcast: bool,
    /// Operands start part-way into their buffers (a slice of a larger tensor).
    offset: bool,
}

impl Case {
    fn sized(batch: usize, m: usize, n: usize, k: usize) -> Case {
        Case {
            batch,
            m,
            n,
            k,
            ..Case::default()
        }
    }

    /// The spec, and the lengths of the A and B buffers.
    fn spec(&self) -> (MatmulSpec, usize, usize) {
        let (batch, m, n, k) = (self.batch, self.m, self.n, self.k);
        let mut s = MatmulSpec::contiguous(batch, m, n, k);
        if self.ta {
            s.a_row_stride = 1;
            s.a_col_stride = m;
        }
        if self.tb {
            s.b_row_stride = 1;
            s.b_col_stride = k;
        }
        let mut b_len = batch * k * n;
        if self.b_broadcast {
            s.b_batch_stride = 0;
            b_len = k * n;
        }
        if self.offset {
            (s.a_offset, s.b_offset) = (5, 3);
        }
        (s, s.a_offset + batch * m * k, s.b_offset + b_len)
    }

    fn name(&self) -> String {
        let mut name = format!("b={} m={} n={} k={}", self.batch, self.m, self.n, self.k);
        for (flag, what) in [
            (self.ta, "A transposed"),
            (self.tb, "B transposed"),
            (self.b_broadcast, "B broadcast"),
            (self.offset, "offsets"),
        ] {
            if flag {
                name += ", ";
                name += what;
            }
        }
        name
    }
}

pub fn run(v: &mut Validator) {
    if !v.wants("matmul.matmul") {
        return;
    }
    let mut cases: Vec<Case> = [
        (1, 1, 1),
        (7, 5, 3),
        (64, 64, 64),
        (129, 67, 131),
        (1, 257, 300),
        (257, 1, 17),
        (3, 200, 1),
        (257, 263, 7),
    ]
    .into_iter()
    .map(|(m, n, k)| Case::sized(1, m, n, k))
    .collect();
    let batched = Case::sized(3, 33, 65, 19);
    cases.push(batched);
    cases.push(Case {
        ta: true,
        ..batched
    });
    cases.push(Case {
        tb: true,
        ..batched
    });
    cases.push(Case {
        ta: true,
        tb: true,
        offset: true,
        ..Case::sized(2, 70, 45, 129)
    });
    cases.push(Case {
        b_broadcast: true,
        ..Case::sized(4, 17, 66, 23)
    });
    cases.push(Case {
        b_broadcast: true,
        tb: true,
        offset: true,
        ..Case::sized(3, 65, 7, 64)
    });
    // reductions longer than K_CHUNK run as accumulating dispatches: a Gram matrix of a
    // 128×128 feature map (K = 16,384), and K past lavapipe's loop cutoff (65,535)
    cases.push(Case {
        tb: true,
        ..Case::sized(1, 64, 64, 16_384)
    });
    cases.push(Case::sized(1, 3, 5, 70_001));
    for case in v.pick(cases, 4) {
        check(v, &case, "");
    }
    // operands larger than one binding (lowered to 2 KiB for these cases) multiply in boxes of
    // (batch, M, N, K): C in tiles, K in accumulated boxes, windows starting unaligned
    let blocked = [
        Case::sized(2, 37, 29, 41),
        Case {
            ta: true,
            tb: true,
            offset: true,
            ..Case::sized(1, 45, 38, 52)
        },
        Case {
            b_broadcast: true,
            tb: true,
            ..Case::sized(3, 21, 33, 27)
        },
    ];
    crate::chunk::with_binding_limit(2048, || {
        for case in &blocked {
            check(v, case, " in blocks");
        }
    });
}

/// One product with every variant (and, unblocked, the fast CPU device) against the reference.
fn check(v: &mut Validator, case: &Case, suffix: &str) {
    let g = gpu();
    let name = case.name() + suffix;
    {
        let (s, a_len, b_len) = case.spec();
        let (a, b) = (v.rand(a_len), v.rand(b_len));
        let (ab, bb) = (g.upload(&a), g.upload(&b));
        let c_len = case.batch * case.m * case.n;
        let mut want = vec![0.0; c_len];
        r::matmul(&s, &a, &b, &mut want);
        if suffix.is_empty() {
            let mut got = vec![f32::NAN; c_len];
            super::cpu::matmul(&s, &a, &b, &mut got);
            v.check("matmul.matmul", "cpu", &name, &got, &want, TOL_FORWARD);
        }
        for &variant in MatmulVariant::ALL {
            let c = v.poisoned(c_len);
            k::matmul_with(variant, &s, &ab, &bb, &c);
            let got = v.read(&c);
            v.check(
                "matmul.matmul",
                variant.name(),
                &name,
                &got,
                &want,
                TOL_FORWARD,
            );
        }
    }
}
