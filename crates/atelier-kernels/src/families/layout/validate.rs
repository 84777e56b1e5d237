//! Validation of `layout.wgsl`.

use crate::gpu;
use super::{self as k, StridedCopy};
use super::reference as r;

use crate::harness::{TOL_FORWARD, Validator};

fn contiguous(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        st[d] = st[d + 1] * shape[d + 1];
    }
    st
}

fn permute(shape: &[usize], perm: &[usize]) -> StridedCopy {
    let st = contiguous(shape);
    let out: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    StridedCopy {
        dst_strides: contiguous(&out),
        src_strides: perm.iter().map(|&p| st[p]).collect(),
        shape: out,
        src_offset: 0,
        dst_offset: 0,
    }
}

pub fn run(v: &mut Validator) {
    if !v.wants("layout.copy_strided") {
        return;
    }
    let g = gpu();
    // (case, view, source length, destination length); views that cover all of dst first
    let mut cases: Vec<(String, StridedCopy, usize, usize)> = vec![
        ("identity n=1".into(), permute(&[1], &[0]), 1, 1),
        (
            "permute 3x5x7 -> 7x3x5".into(),
            permute(&[3, 5, 7], &[2, 0, 1]),
            105,
            105,
        ),
        (
            "permute rank 8".into(),
            permute(&[2, 3, 1, 2, 3, 2, 1, 5], &[7, 6, 5, 4, 3, 2, 1, 0]),
            360,
            360,
        ),
        (
            "broadcast 1x13 -> 11x13 (stride 0)".into(),
            StridedCopy {
                shape: vec![11, 13],
                src_offset: 0,
                src_strides: vec![0, 1],
                dst_offset: 0,
                dst_strides: vec![13, 1],
            },
            13,
            143,
        ),
        (
            "slice axis 1 of 4x9x5 [2..7]".into(),
            StridedCopy {
                shape: vec![4, 5, 5],
                src_offset: 10,
                src_strides: vec![45, 5, 1],
                dst_offset: 0,
                dst_strides: vec![25, 5, 1],
            },
            180,
            100,
        ),
        (
            "folded grid: 16.8M elements".into(),
            permute(&[4099, 4097], &[0, 1]),
            4099 * 4097,
            4099 * 4097,
        ),
    ];
    // a region of a larger destination (concat / slice backward): only the region is compared
    cases.push((
        "region: 3x4x2 into 3x7x2 at [.,2..6,.]".into(),
        StridedCopy {
            shape: vec![3, 4, 2],
            src_offset: 0,
            src_strides: vec![8, 2, 1],
            dst_offset: 4,
            dst_strides: vec![14, 2, 1],
        },
        24,
        42,
    ));
    for (case, view, src_len, dst_len) in cases {
        let src = v.rand(src_len);
        let sb = g.upload(&src);
        let db = v.poisoned(dst_len);
        k::copy_strided(&view, &sb, &db);
        let got = v.read(&db);
        let mut want = vec![f32::NAN; dst_len];
        r::copy_strided(&view, &src, &mut want);
        // compare the covered elements (where the reference wrote), and require the rest
        // untouched (still NaN)
        let covered: Vec<usize> = (0..dst_len).filter(|&i| !want[i].is_nan()).collect();
        let untouched = (0..dst_len)
            .filter(|&i| want[i].is_nan())
            .all(|i| got[i].is_nan());
        let g_cov: Vec<f32> = covered.iter().map(|&i| got[i]).collect();
        let w_cov: Vec<f32> = covered.iter().map(|&i| want[i]).collect();
        let g_cov = if untouched {
            g_cov
        } else {
            vec![f32::NAN; w_cov.len()]
        };
        v.check(
            "layout.copy_strided",
            "direct",
            &case,
            &g_cov,
            &w_cov,
            TOL_FORWARD,
        );
        // the fast CPU device's copy, the same way
        let mut got = vec![f32::NAN; dst_len];
        super::cpu::copy_strided(&view, &src, &mut got);
        let untouched = (0..dst_len)
            .filter(|&i| want[i].is_nan())
            .all(|i| got[i].is_nan());
        let g_cov: Vec<f32> = match untouched {
            true => covered.iter().map(|&i| got[i]).collect(),
            false => vec![f32::NAN; w_cov.len()],
        };
        v.check("layout.copy_strided", "cpu", &case, &g_cov, &w_cov, TOL_FORWARD);
    }
}
