//! Launchers for `layout.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::LAYOUT;
use crate::blocks::{self, View};
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::elementwise::MAX_RANK;
use crate::pipeline::Kernel;

pub const COPY_STRIDED: Kernel = Kernel::new(&LAYOUT, "copy_strided");

/// A strided view of `src` copied into a strided region of `dst`: for every multi-index
/// `idx` of `shape`, `dst[dst_offset + Σ idx·dst_strides] = src[src_offset + Σ idx·src_strides]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StridedCopy {
    pub shape: Vec<usize>,
    pub src_offset: usize,
    pub src_strides: Vec<usize>,
    pub dst_offset: usize,
    pub dst_strides: Vec<usize>,
}

impl StridedCopy {
    /// Elements copied.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Largest element index the view touches in a buffer with `offset` and `strides`.
    fn max_index(&self, offset: usize, strides: &[usize]) -> usize {
        offset
            + self
                .shape
                .iter()
                .zip(strides)
                .map(|(s, st)| (s - 1) * st)
                .sum::<usize>()
    }

    /// Panics (naming the sizes) when the view does not fit the buffers.
    pub fn check(&self, src_len: usize, dst_len: usize) {
        let rank = self.shape.len();
        assert!(
            rank <= MAX_RANK && self.src_strides.len() == rank && self.dst_strides.len() == rank,
            "copy_strided: shape {:?} with strides {:?} / {:?} (rank at most {MAX_RANK})",
            self.shape,
            self.src_strides,
            self.dst_strides
        );
        if self.is_empty() {
            return;
        }
        let (s, d) = (
            self.max_index(self.src_offset, &self.src_strides),
            self.max_index(self.dst_offset, &self.dst_strides),
        );
        assert!(
            s < src_len && d < dst_len,
            "copy_strided: view {self:?} reaches element {s} of a {src_len}-element source / {d} of a {dst_len}-element destination"
        );
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    rank: u32,
    src_offset: u32,
    dst_offset: u32,
    shape: [u32; MAX_RANK],
    src_strides: [u32; MAX_RANK],
    dst_strides: [u32; MAX_RANK],
}

fn u32_of(v: usize) -> u32 {
    u32::try_from(v).expect("copy_strided: sizes must fit in u32")
}

/// Copies the view of `src` described by `view` into `dst`. When either buffer is larger than
/// one binding the copy runs in boxes of its index space (`crate::blocks`), each binding the
/// windows of both buffers it touches: a permute in tiles, a slice or concat in runs of rows.
pub fn copy_strided(view: &StridedCopy, src: &GpuBuffer, dst: &GpuBuffer) {
    view.check(src.len(), dst.len());
    let views = [
        View {
            what: "src",
            buffer: src,
            offset: view.src_offset,
            strides: view.src_strides.clone(),
        },
        View {
            what: "dst",
            buffer: dst,
            offset: view.dst_offset,
            strides: view.dst_strides.clone(),
        },
    ];
    if view.is_empty() || !blocks::needed(&views) {
        return launch(view, src, dst);
    }
    blocks::for_each_block("copy_strided", &view.shape, &views, |b| {
        let part = StridedCopy {
            shape: b.size.clone(),
            src_offset: b.offsets[0],
            src_strides: view.src_strides.clone(),
            dst_offset: b.offsets[1],
            dst_strides: view.dst_strides.clone(),
        };
        launch(&part, &b.windows[0], &b.windows[1]);
    });
}

fn launch(view: &StridedCopy, src: &GpuBuffer, dst: &GpuBuffer) {
    let n = view.len();
    let mut p = Params {
        n: u32_of(n),
        rank: view.shape.len() as u32,
        src_offset: u32_of(view.src_offset),
        dst_offset: u32_of(view.dst_offset),
        shape: [1; MAX_RANK],
        src_strides: [0; MAX_RANK],
        dst_strides: [0; MAX_RANK],
    };
    for d in 0..view.shape.len() {
        p.shape[d] = u32_of(view.shape[d]);
        p.src_strides[d] = u32_of(view.src_strides[d]);
        p.dst_strides[d] = u32_of(view.dst_strides[d]);
    }
    gpu().launch_elements(&COPY_STRIDED, &[], &p, &[src, dst], n);
}
