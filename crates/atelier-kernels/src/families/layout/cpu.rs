//! The fast CPU device's strided copy, in f32: an odometer over the outer axes that steps the
//! two offsets by their strides (the reference recomputes both from every index), and the
//! innermost axis as one run: a memcpy where both sides are contiguous, a fill where the
//! source is broadcast.

use crate::layout::StridedCopy;

/// As [`crate::layout::reference::copy_strided`]: `dst` is written only where the view covers
/// it.
pub fn copy_strided(view: &StridedCopy, src: &[f32], dst: &mut [f32]) {
    view.check(src.len(), dst.len());
    if view.is_empty() {
        return;
    }
    let Some(last) = view.shape.len().checked_sub(1) else {
        dst[view.dst_offset] = src[view.src_offset];
        return;
    };
    let (inner, ss, ds) = (
        view.shape[last],
        view.src_strides[last],
        view.dst_strides[last],
    );
    let mut idx = [0usize; crate::elementwise::MAX_RANK];
    let (mut s, mut d) = (view.src_offset, view.dst_offset);
    for _ in 0..view.len() / inner {
        match (ss, ds) {
            (1, 1) => dst[d..d + inner].copy_from_slice(&src[s..s + inner]),
            (0, 1) => dst[d..d + inner].fill(src[s]),
            _ => (0..inner).for_each(|j| dst[d + j * ds] = src[s + j * ss]),
        }
        for a in (0..last).rev() {
            idx[a] += 1;
            s += view.src_strides[a];
            d += view.dst_strides[a];
            if idx[a] < view.shape[a] {
                break;
            }
            s -= view.shape[a] * view.src_strides[a];
            d -= view.shape[a] * view.dst_strides[a];
            idx[a] = 0;
        }
    }
}
