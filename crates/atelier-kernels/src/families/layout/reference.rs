//! CPU reference of `layout.wgsl`.

use crate::Real;
use crate::layout::StridedCopy;

pub fn copy_strided<T: Real>(view: &StridedCopy, src: &[T], dst: &mut [T]) {
    view.check(src.len(), dst.len());
    let rank = view.shape.len();
    let mut idx = vec![0usize; rank];
    for _ in 0..view.len() {
        let s: usize = view.src_offset
            + (0..rank)
                .map(|d| idx[d] * view.src_strides[d])
                .sum::<usize>();
        let d: usize = view.dst_offset
            + (0..rank)
                .map(|d| idx[d] * view.dst_strides[d])
                .sum::<usize>();
        dst[d] = src[s];
        for a in (0..rank).rev() {
            idx[a] += 1;
            if idx[a] < view.shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
}
