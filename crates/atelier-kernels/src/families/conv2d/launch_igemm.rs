//! Launchers of the generated `igemm*` variants (`igemm.rs`): the conv geometry as override
//! constants, split-K chosen by [`split_k`], and the slices summed (with the bias) by
//! `igemm_sum_splits` when there are several.

use super::igemm::{IgemmKernels, THREADS, split_k};
use super::launch::Params;
use super::spec::Conv2dSpec;
use super::variant::MAX_SPLIT_LEN;
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

/// The geometry a pipeline is specialised for.
pub(super) fn geometry(spec: &Conv2dSpec) -> [(&'static str, f64); 9] {
    let f = |v: usize| v as f64;
    [
        ("C", f(spec.c)),
        ("R", f(spec.r)),
        ("S", f(spec.s)),
        ("SH", f(spec.stride.0)),
        ("SW", f(spec.stride.1)),
        ("PH", f(spec.pad.0)),
        ("PW", f(spec.pad.1)),
        ("DH", f(spec.dilation.0)),
        ("DW", f(spec.dilation.1)),
    ]
}

fn tiles(g: &IgemmKernels, m: usize, n: usize) -> usize {
    m.div_ceil(g.tile.bm) * n.div_ceil(g.tile.bn)
}

/// The most taps (of `taps`) one stride phase of backward-data reduces over: the taps that
/// land on one phase repeat every stride / gcd(dilation, stride).
pub(super) fn phase_taps(taps: usize, stride: usize, dilation: usize) -> usize {
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    taps.div_ceil(stride / gcd(dilation, stride))
}

/// One GEMM direction's launch: `workgroups_per_slice` workgroups per slice of a reduction
/// of `k`, writing `out` (of `len` elements; bias channel of element i: (i / plane) %
/// channels) directly when there is one slice, through partial sums when there are several.
/// `skinny.rs` and `coop.rs` launch their variants with it too.
pub(super) struct Launch<'a> {
    pub(super) kernel: Kernel,
    pub(super) sum: Kernel,
    /// The pipeline's override constants (the geometry, and whatever else the shader has).
    pub(super) constants: &'a [(&'static str, f64)],
    pub(super) params: Params,
    /// Bound at 1, 2, ... before the output.
    pub(super) inputs: &'a [&'a GpuBuffer],
    pub(super) out: &'a GpuBuffer,
    pub(super) bias: Option<&'a GpuBuffer>,
    pub(super) workgroups_per_slice: usize,
    pub(super) k: usize,
    pub(super) plane: usize,
    pub(super) channels: usize,
}

impl Launch<'_> {
    pub(super) fn run(mut self) {
        let len = self.out.len();
        // the slices' partial sums are bound as one buffer: no more slices than it binds
        let bound = (crate::chunk::binding_limit() / (len as u64 * 4).max(4)).max(1) as usize;
        let (splits, split_len) =
            split_k(self.workgroups_per_slice, self.k, MAX_SPLIT_LEN, bound);
        self.params.splits = splits as u32;
        self.params.split_len = split_len as u32;
        self.params.len = len as u32;
        let groups = u32::try_from(self.workgroups_per_slice * splits)
            .expect("atelier: conv2d needs too many workgroups");
        let bound = |out| {
            let mut b = self.inputs.to_vec();
            b.push(out);
            b
        };
        if splits == 1 {
            self.params.has_bias = self.bias.is_some() as u32;
            let buffers = bound(self.out);
            gpu().launch(&self.kernel, self.constants, &self.params, &buffers, groups);
            return;
        }
        self.params.has_bias = 0;
        let partials = GpuBuffer::uninit(splits * len);
        let buffers = bound(&partials);
        gpu().launch(&self.kernel, self.constants, &self.params, &buffers, groups);
        let sum = Params {
            len: len as u32,
            splits: splits as u32,
            has_bias: self.bias.is_some() as u32,
            p: self.plane as u32,
            k: self.channels.max(1) as u32,
            ..self.params
        };
        let bias = self.bias.unwrap_or(&partials);
        let groups = u32::try_from(len.div_ceil(THREADS)).expect("atelier: conv2d output too large");
        // the sum reads no geometry: one pipeline for every shape
        gpu().launch(&self.sum, &[], &sum, &[&partials, bias, self.out], groups);
    }
}

/// y = conv2d(x, weight) (+ bias): M = N*P*Q pixels x N = K channels, reduction C*R*S.
pub(super) fn forward(
    g: &'static IgemmKernels,
    spec: &Conv2dSpec,
    params: Params,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    let pq = spec.p() * spec.q();
    Launch {
        kernel: g.forward(),
        sum: g.sum_splits(),
        constants: &geometry(spec),
        params,
        inputs: &[x, w, bias.unwrap_or(w)],
        out: y,
        bias,
        workgroups_per_slice: tiles(g, spec.n * pq, spec.k),
        k: spec.c * spec.r * spec.s,
        plane: pq,
        channels: spec.k,
    }
    .run();
}

/// gx = conv2d's backward-data (+ bias: conv_transpose2d's forward), one GEMM per stride
/// phase, each tiled for the largest phase.
pub(super) fn backward_data(
    g: &'static IgemmKernels,
    spec: &Conv2dSpec,
    params: Params,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    gx: &GpuBuffer,
) {
    let (sh, sw) = spec.stride;
    let m = spec.n * spec.h.div_ceil(sh) * spec.w.div_ceil(sw);
    let k = spec.k
        * phase_taps(spec.r, sh, spec.dilation.0)
        * phase_taps(spec.s, sw, spec.dilation.1);
    Launch {
        kernel: g.backward_data(),
        sum: g.sum_splits(),
        constants: &geometry(spec),
        params,
        inputs: &[gy, w, bias.unwrap_or(w)],
        out: gx,
        bias,
        workgroups_per_slice: sh * sw * tiles(g, m, spec.c),
        k,
        plane: spec.h * spec.w,
        channels: spec.c,
    }
    .run();
}

/// gw = conv2d's backward-weight: M = K x N = C*R*S, reduction N*P*Q.
pub(super) fn backward_weight(
    g: &'static IgemmKernels,
    spec: &Conv2dSpec,
    params: Params,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    let crs = spec.c * spec.r * spec.s;
    Launch {
        kernel: g.backward_weight(),
        sum: g.sum_splits(),
        constants: &geometry(spec),
        params,
        inputs: &[x, gy],
        out: gw,
        bias: None,
        workgroups_per_slice: tiles(g, spec.k, crs),
        k: spec.n * spec.p() * spec.q(),
        plane: 1,
        channels: 1,
    }
    .run();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_taps_count_the_largest_phase() {
        // 4x4 at stride 2: two taps per phase; dilation 2 at stride 2: all on one phase
        assert_eq!(phase_taps(4, 2, 1), 2);
        assert_eq!(phase_taps(3, 2, 1), 2);
        assert_eq!(phase_taps(3, 2, 2), 3);
        assert_eq!(phase_taps(5, 3, 1), 2);
        assert_eq!(phase_taps(1, 4, 1), 1);
    }
}
