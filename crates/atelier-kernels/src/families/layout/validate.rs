//! Validation of `layout.wgsl`.

use super::reference as r;
use super::{self as k, StridedCopy};
use crate::gpu;

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
        check(v, &case, &view, src_len, dst_len);
    }
    // tensors larger than one binding (lowered to 2 KiB for these cases) copy in boxes, each on
    // windows that start aligned below the box's first element
    let blocked: Vec<(&str, StridedCopy, usize, usize)> = vec![
        (
            "permute 6x10x13 -> 13x6x10 in blocks",
            permute(&[6, 10, 13], &[2, 0, 1]),
            780,
            780,
        ),
        (
            "transpose 37x41 in blocks",
            permute(&[37, 41], &[1, 0]),
            37 * 41,
            37 * 41,
        ),
        (
            "slice axis 1 of 7x45x9 [3..40] in blocks",
            StridedCopy {
                shape: vec![7, 37, 9],
                src_offset: 27,
                src_strides: vec![405, 9, 1],
                dst_offset: 0,
                dst_strides: vec![333, 9, 1],
            },
            7 * 45 * 9,
            7 * 37 * 9,
        ),
        (
            "region: 5x30x7 into 5x61x7 at [.,17..47,.] in blocks",
            StridedCopy {
                shape: vec![5, 30, 7],
                src_offset: 0,
                src_strides: vec![210, 7, 1],
                dst_offset: 17 * 7,
                dst_strides: vec![61 * 7, 7, 1],
            },
            5 * 30 * 7,
            5 * 61 * 7,
        ),
    ];
    crate::chunk::with_binding_limit(BLOCKED_LIMIT, || {
        for (case, view, src_len, dst_len) in blocked {
            check(v, case, &view, src_len, dst_len);
        }
    });
}

/// The binding limit of the `in blocks` cases: a few KiB, so small tensors run in many boxes.
const BLOCKED_LIMIT: u64 = 2048;

/// Runs one copy into a poisoned destination and compares it with the reference: the covered
/// elements must match and the rest stay untouched.
fn check(v: &mut Validator, case: &str, view: &StridedCopy, src_len: usize, dst_len: usize) {
    let g = gpu();
    let src = v.rand(src_len);
    let sb = g.upload(&src);
    let db = v.poisoned(dst_len);
    k::copy_strided(view, &sb, &db);
    let got = v.read(&db);
    let mut want = vec![f32::NAN; dst_len];
    r::copy_strided(view, &src, &mut want);
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
        case,
        &g_cov,
        &w_cov,
        TOL_FORWARD,
    );
    // the fast CPU device's copy, the same way
    let mut got = vec![f32::NAN; dst_len];
    super::cpu::copy_strided(view, &src, &mut got);
    let untouched = (0..dst_len)
        .filter(|&i| want[i].is_nan())
        .all(|i| got[i].is_nan());
    let g_cov: Vec<f32> = match untouched {
        true => covered.iter().map(|&i| got[i]).collect(),
        false => vec![f32::NAN; w_cov.len()],
    };
    v.check(
        "layout.copy_strided",
        "cpu",
        case,
        &g_cov,
        &w_cov,
        TOL_FORWARD,
    );
}
