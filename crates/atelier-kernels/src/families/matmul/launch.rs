//! Launchers for `matmul.wgsl`.

use bytemuck::{Pod, Zeroable};

use super::MATMUL;
use super::MatmulVariant;
use crate::blocks::{self, View};
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const MATMUL_NAIVE: Kernel = Kernel::new(&MATMUL, "matmul_naive");
pub const MATMUL_TILED: Kernel = Kernel::new(&MATMUL, "matmul_tiled");

/// Longest reduction one dispatch computes (see [`matmul`]).
pub const K_CHUNK: usize = 4096;

/// K-slice staged per iteration by the tiled kernel.
pub const TILED_TK: u32 = 16;

/// Sizes and element strides of a batched product (see the WGSL header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MatmulSpec {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a_offset: usize,
    pub a_batch_stride: usize,
    pub a_row_stride: usize,
    pub a_col_stride: usize,
    pub b_offset: usize,
    pub b_batch_stride: usize,
    pub b_row_stride: usize,
    pub b_col_stride: usize,
}

impl MatmulSpec {
    /// Row-major `[batch, m, k] · [batch, k, n]`.
    pub fn contiguous(batch: usize, m: usize, n: usize, k: usize) -> MatmulSpec {
        MatmulSpec {
            batch,
            m,
            n,
            k,
            a_offset: 0,
            a_batch_stride: m * k,
            a_row_stride: k,
            a_col_stride: 1,
            b_offset: 0,
            b_batch_stride: k * n,
            b_row_stride: n,
            b_col_stride: 1,
        }
    }

    fn a_extent(&self) -> usize {
        self.a_offset
            + (self.batch - 1) * self.a_batch_stride
            + (self.m - 1) * self.a_row_stride
            + (self.k - 1) * self.a_col_stride
            + 1
    }

    fn b_extent(&self) -> usize {
        self.b_offset
            + (self.batch - 1) * self.b_batch_stride
            + (self.k - 1) * self.b_row_stride
            + (self.n - 1) * self.b_col_stride
            + 1
    }

    /// Panics (naming the sizes) when the spec does not fit the buffers.
    pub fn check(&self, a_len: usize, b_len: usize, c_len: usize) {
        assert!(
            self.batch > 0 && self.m > 0 && self.n > 0 && self.k > 0,
            "matmul: empty product {self:?}"
        );
        assert!(
            self.a_extent() <= a_len,
            "matmul: A of {a_len} elements is too small for {self:?}"
        );
        assert!(
            self.b_extent() <= b_len,
            "matmul: B of {b_len} elements is too small for {self:?}"
        );
        assert_eq!(
            c_len,
            self.batch * self.m * self.n,
            "matmul: C must hold batch·M·N for {self:?}"
        );
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params([u32; 20]);

/// Where C's element (b, i, j) is: `offset + b·batch_stride + i·row_stride + j`.
#[derive(Clone, Copy, Debug)]
struct CLayout {
    offset: usize,
    batch_stride: usize,
    row_stride: usize,
}

impl CLayout {
    /// C contiguous `[batch, m, n]`.
    fn of(s: &MatmulSpec) -> CLayout {
        CLayout {
            offset: 0,
            batch_stride: s.m * s.n,
            row_stride: s.n,
        }
    }
}

impl Params {
    /// The reduction over k in `k_begin..k_end`, added to C when `accumulate`.
    fn of(s: &MatmulSpec, c: &CLayout, k_begin: usize, k_end: usize, accumulate: bool) -> Params {
        let f = [
            s.batch,
            s.m,
            s.n,
            k_end,
            s.a_offset,
            s.a_batch_stride,
            s.a_row_stride,
            s.a_col_stride,
            s.b_offset,
            s.b_batch_stride,
            s.b_row_stride,
            s.b_col_stride,
            k_begin,
            accumulate as usize,
            c.offset,
            c.batch_stride,
            c.row_stride,
            0,
            0,
            0,
        ];
        Params(f.map(|v| u32::try_from(v).expect("matmul: sizes must fit in u32")))
    }
}

/// c = a · b as described by `spec`, with the variant `ATELIER_KERNELS` asks for (the rule
/// of [`MatmulVariant::auto`] by default).
pub fn matmul(spec: &MatmulSpec, a: &GpuBuffer, b: &GpuBuffer, c: &GpuBuffer) {
    crate::variant::run(spec, |v| matmul_with(v, spec, a, b, c));
}

/// c = a · b as described by `spec`, with `variant`.
///
/// On lavapipe (software Vulkan) an invocation stops after 65,535 loop iterations in total,
/// silently (the naive kernel was wrong past K ≈ 65,000, the tiled one past K ≈ 58,000), so
/// reductions longer than [`K_CHUNK`] run as several dispatches, each adding its slice of k
/// into C. Real GPUs have no such limit; the extra dispatches cost one read of C per 4096 k.
pub fn matmul_with(
    variant: MatmulVariant,
    spec: &MatmulSpec,
    a: &GpuBuffer,
    b: &GpuBuffer,
    c: &GpuBuffer,
) {
    matmul_into(variant, spec, a, b, c, false);
}

/// c = a · b, or c += a · b when `accumulate`, as described by `spec`, with `variant`.
///
/// When A, B or C is larger than one binding the product runs in boxes of (batch, M, N, K)
/// (`crate::blocks`), each on windows of the three buffers; the boxes along K of one block of
/// C run in order, the first writing (or adding, when `accumulate`) and the rest adding.
pub fn matmul_into(
    variant: MatmulVariant,
    spec: &MatmulSpec,
    a: &GpuBuffer,
    b: &GpuBuffer,
    c: &GpuBuffer,
    accumulate: bool,
) {
    spec.check(a.len(), b.len(), c.len());
    let layout = CLayout::of(spec);
    let views = [
        View {
            what: "A",
            buffer: a,
            offset: spec.a_offset,
            strides: vec![spec.a_batch_stride, spec.a_row_stride, 0, spec.a_col_stride],
        },
        View {
            what: "B",
            buffer: b,
            offset: spec.b_offset,
            strides: vec![spec.b_batch_stride, 0, spec.b_col_stride, spec.b_row_stride],
        },
        View {
            what: "C",
            buffer: c,
            offset: 0,
            strides: vec![layout.batch_stride, layout.row_stride, 1, 0],
        },
    ];
    if !blocks::needed(&views) {
        return launch_k_slices(variant, spec, &layout, [a, b, c], accumulate);
    }
    let shape = [spec.batch, spec.m, spec.n, spec.k];
    blocks::for_each_block("matmul", &shape, &views, |blk| {
        let [batch, m, n, k] = blk.size[..] else {
            unreachable!("four axes")
        };
        let part = MatmulSpec {
            batch,
            m,
            n,
            k,
            a_offset: blk.offsets[0],
            b_offset: blk.offsets[1],
            ..*spec
        };
        let c_part = CLayout {
            offset: blk.offsets[2],
            ..layout
        };
        let [wa, wb, wc] = [&blk.windows[0], &blk.windows[1], &blk.windows[2]];
        let add = accumulate || blk.start[3] > 0;
        launch_k_slices(variant, &part, &c_part, [wa, wb, wc], add);
    });
}

/// One product on bound buffers, as dispatches of at most [`K_CHUNK`] of k each.
fn launch_k_slices(
    variant: MatmulVariant,
    spec: &MatmulSpec,
    layout: &CLayout,
    buffers: [&GpuBuffer; 3],
    accumulate: bool,
) {
    let batch = spec.batch as u32;
    for k_begin in (0..spec.k).step_by(K_CHUNK) {
        let add = accumulate || k_begin > 0;
        let p = Params::of(spec, layout, k_begin, (k_begin + K_CHUNK).min(spec.k), add);
        launch(variant, &p, batch, spec, buffers);
    }
}

fn launch(
    variant: MatmulVariant,
    p: &Params,
    batch: u32,
    spec: &MatmulSpec,
    [a, b, c]: [&GpuBuffer; 3],
) {
    match variant {
        MatmulVariant::Naive => {
            let grid = [
                spec.n.div_ceil(16) as u32,
                spec.m.div_ceil(16) as u32,
                batch,
            ];
            gpu().launch_grid(&MATMUL_NAIVE, &[], p, &[a, b, c], grid);
        }
        MatmulVariant::Tiled => {
            let grid = [
                spec.n.div_ceil(64) as u32,
                spec.m.div_ceil(64) as u32,
                batch,
            ];
            gpu().launch_grid(
                &MATMUL_TILED,
                &[("TK", TILED_TK as f64)],
                p,
                &[a, b, c],
                grid,
            );
        }
    }
}
