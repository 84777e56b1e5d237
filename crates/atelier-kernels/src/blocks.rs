//! Strided kernels over tensors larger than one storage binding: layout copies, reductions and
//! general matrix products.
//!
//! Such a kernel reads each buffer at `offset + Σ idx_d · stride_d` over an index space (the
//! copy's shape; a reduction's kept and reduced axes; a product's batch, M, N and K). When a
//! buffer is larger than a binding, [`for_each_block`] cuts the index space into boxes whose
//! every view spans at most one binding, and binds, per box, a window of each buffer that
//! starts at the aligned element at or below the box's first element
//! ([`chunk`](crate::chunk)'s windows need aligned starts); the kernel reaches the first
//! element through its own offset parameter. So no box has to start aligned, and any tensor a
//! buffer holds works, whatever its strides (a transpose is cut into 2-D tiles).
//!
//! Each kernel's launcher turns a box into its own parameters: a copy is exact per box; a
//! reduction's boxes along reduced axes, and a product's along K, add into what the first wrote
//! (the kernels' `accumulate`).

use crate::buffer_pool::GpuBuffer;
use crate::chunk::{binding_limit, count_chunk, mark_parents};
use crate::context::gpu;

/// One buffer as a kernel sees it: element `offset + Σ idx_d · strides[d]` of `buffer` for
/// each index `idx` of the index space (stride 0 on axes it does not depend on).
pub struct View<'a> {
    pub what: &'a str,
    pub buffer: &'a GpuBuffer,
    pub offset: usize,
    pub strides: Vec<usize>,
}

/// One box of the index space: its first index and its sizes, and per view the window bound
/// for it and the box's first element inside that window.
pub struct Block {
    pub start: Vec<usize>,
    pub size: Vec<usize>,
    pub windows: Vec<GpuBuffer>,
    pub offsets: Vec<usize>,
}

/// Elements of a storage offset alignment (windows start at multiples of it).
fn align_elems() -> usize {
    (u64::from(gpu().limits.min_storage_buffer_offset_alignment).max(16) / 4) as usize
}

/// Elements one box of a view may span: its window, started up to `align - 1` elements early
/// and padded to 16 bytes, must fit one binding.
fn budget() -> usize {
    let limit = (binding_limit() / 16 * 4) as usize;
    limit.saturating_sub(align_elems() - 1)
}

/// Elements a box of `size` spans in a view with `strides`.
fn span(size: &[usize], strides: &[usize]) -> usize {
    1 + size
        .iter()
        .zip(strides)
        .map(|(&s, &st)| (s - 1) * st)
        .sum::<usize>()
}

/// Whether a kernel over `views` must run in boxes: one of the buffers is larger than a binding.
pub fn needed(views: &[View]) -> bool {
    let limit = binding_limit();
    views.iter().any(|v| v.buffer.binding_bytes() > limit)
}

/// Box sizes for `shape` such that every view's box fits one binding: each view too large
/// shrinks, greedily, the axis that spreads it most (to as much as fits, else to 1, then the
/// next), so a contiguous view keeps whole inner axes and cuts the outer ones.
pub fn plan(op: &str, shape: &[usize], views: &[View]) -> Vec<usize> {
    let budget = budget();
    assert!(
        budget >= 1,
        "{op}: a binding of {} bytes cannot hold one element past a {}-byte aligned start",
        binding_limit(),
        align_elems() * 4
    );
    let mut size = shape.to_vec();
    for v in views {
        while span(&size, &v.strides) > budget {
            let (d, _) = (0..size.len())
                .map(|d| (d, (size[d] - 1) * v.strides[d]))
                .max_by_key(|&(d, reach)| (reach, std::cmp::Reverse(d)))
                .expect("a view wider than one element has an axis");
            let rest = span(&size, &v.strides) - (size[d] - 1) * v.strides[d];
            size[d] = if rest < budget {
                ((budget - rest) / v.strides[d] + 1).min(size[d] - 1)
            } else {
                1
            };
        }
    }
    size
}

/// Runs `run` on every box of `shape` (see [`plan`]), the last axis innermost (so boxes
/// along an accumulated axis placed last run in order), each with its windows; counts the
/// boxes as chunks and marks the buffers used by the launches on their windows.
pub fn for_each_block(op: &str, shape: &[usize], views: &[View], mut run: impl FnMut(&Block)) {
    if shape.contains(&0) {
        return;
    }
    let step = plan(op, shape, views);
    let align = align_elems();
    let mut start = vec![0; shape.len()];
    loop {
        let size: Vec<usize> = (0..shape.len())
            .map(|d| step[d].min(shape[d] - start[d]))
            .collect();
        let (mut windows, mut offsets) = (vec![], vec![]);
        for v in views {
            let first = v.offset
                + start
                    .iter()
                    .zip(&v.strides)
                    .map(|(i, s)| i * s)
                    .sum::<usize>();
            let base = v.buffer.offset();
            // (a buffer that is itself an unaligned window starts where it starts: its
            // launches run on aligned copies, see `Gpu::launch_grid`)
            let from = ((base + first) / align * align).saturating_sub(base);
            let end = (first + span(&size, &v.strides)).min(v.buffer.len());
            windows.push(v.buffer.window(from, end - from));
            offsets.push(first - from);
        }
        run(&Block {
            start: start.clone(),
            size,
            windows,
            offsets,
        });
        count_chunk();
        // the next box: an odometer over the axes, the last fastest
        let mut d = shape.len();
        loop {
            if d == 0 {
                let buffers: Vec<&GpuBuffer> = views.iter().map(|v| v.buffer).collect();
                mark_parents(&buffers);
                return;
            }
            d -= 1;
            start[d] += step[d];
            if start[d] < shape[d] {
                break;
            }
            start[d] = 0;
        }
    }
}

/// Row-major strides of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        st[d] = st[d + 1] * shape[d + 1];
    }
    st
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn a_span_counts_the_elements_between_a_box_first_and_last() {
        assert_eq!(span(&[2, 3], &[10, 1]), 13);
        assert_eq!(span(&[1, 1], &[10, 1]), 1);
        assert_eq!(span(&[4, 5], &[0, 1]), 5);
    }
}
