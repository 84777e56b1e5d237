//! Launchers of the generated `igemm*` variants (`igemm.rs`): the conv geometry as override
//! constants, split-K chosen by [`split_k`], and the slices summed (with the bias) by
//! `igemm_sum_splits` when there are several.

use super::igemm::{IgemmKernels, THREADS, split_k, vec4_aligned};
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

/// One convolution direction as a GEMM over its buffers, apart from the kernel that computes
/// it: an `m` x `n` output per stride phase (backward-data runs `phases` GEMMs, each tiled for
/// the largest phase), a reduction of `k`, written to `out` (bias channel of element i:
/// (i / plane) % channels). [`ConvGemm::run`] launches it with a variant's kernel, split-K
/// chosen for the GPU and the slices summed with the bias; the igemm, skinny and coop
/// launchers all run through it.
pub(super) struct ConvGemm<'a> {
    params: Params,
    /// Bound at 1, 2, ... before the output.
    inputs: Vec<&'a GpuBuffer>,
    out: &'a GpuBuffer,
    bias: Option<&'a GpuBuffer>,
    m: usize,
    n: usize,
    phases: usize,
    k: usize,
    plane: usize,
    channels: usize,
}

impl<'a> ConvGemm<'a> {
    /// y = conv2d(x, weight) (+ bias): M = N*P*Q pixels x N = K channels, reduction C*R*S.
    /// Without a bias the weight fills its binding (has_bias = 0 keeps it unread).
    pub(super) fn forward(
        spec: &Conv2dSpec,
        params: Params,
        x: &'a GpuBuffer,
        w: &'a GpuBuffer,
        bias: Option<&'a GpuBuffer>,
        y: &'a GpuBuffer,
    ) -> Self {
        let pq = spec.p() * spec.q();
        ConvGemm {
            params,
            inputs: vec![x, w, bias.unwrap_or(w)],
            out: y,
            bias,
            m: spec.n * pq,
            n: spec.k,
            phases: 1,
            k: spec.c * spec.r * spec.s,
            plane: pq,
            channels: spec.k,
        }
    }

    /// gx = conv2d's backward-data (+ bias: conv_transpose2d's forward), one GEMM per stride
    /// phase: M = the phase's input pixels (at most N*⌈H/sh⌉*⌈W/sw⌉) x N = C channels,
    /// reduction K times the phase's taps (at most [`phase_taps`] along each axis).
    pub(super) fn backward_data(
        spec: &Conv2dSpec,
        params: Params,
        gy: &'a GpuBuffer,
        w: &'a GpuBuffer,
        bias: Option<&'a GpuBuffer>,
        gx: &'a GpuBuffer,
    ) -> Self {
        let (sh, sw) = spec.stride;
        ConvGemm {
            params,
            inputs: vec![gy, w, bias.unwrap_or(w)],
            out: gx,
            bias,
            m: spec.n * spec.h.div_ceil(sh) * spec.w.div_ceil(sw),
            n: spec.c,
            phases: sh * sw,
            k: spec.k
                * phase_taps(spec.r, sh, spec.dilation.0)
                * phase_taps(spec.s, sw, spec.dilation.1),
            plane: spec.h * spec.w,
            channels: spec.c,
        }
    }

    /// gw = conv2d's backward-weight: M = K x N = C*R*S, reduction N*P*Q.
    pub(super) fn backward_weight(
        spec: &Conv2dSpec,
        params: Params,
        x: &'a GpuBuffer,
        gy: &'a GpuBuffer,
        gw: &'a GpuBuffer,
    ) -> Self {
        ConvGemm {
            params,
            inputs: vec![x, gy],
            out: gw,
            bias: None,
            m: spec.k,
            n: spec.c * spec.r * spec.s,
            phases: 1,
            k: spec.n * spec.p() * spec.q(),
            plane: 1,
            channels: 1,
        }
    }

    /// Launches `kernel` (its pipeline specialised by `constants`) on `tiles(m, n)` workgroups
    /// per phase and slice of the reduction; with several slices, their partial sums are added
    /// (with the bias) by `sum`, which reads no geometry.
    pub(super) fn run(
        mut self,
        kernel: Kernel,
        sum: Kernel,
        constants: &[(&'static str, f64)],
        tiles: impl Fn(usize, usize) -> usize,
    ) {
        let workgroups_per_slice = self.phases * tiles(self.m, self.n);
        let len = self.out.len();
        // the slices' partial sums are bound as one buffer: no more slices than it binds
        let bound = (crate::chunk::binding_limit() / (len as u64 * 4).max(4)).max(1) as usize;
        let (splits, split_len) = split_k(workgroups_per_slice, self.k, MAX_SPLIT_LEN, bound);
        self.params.splits = splits as u32;
        self.params.split_len = split_len as u32;
        self.params.len = len as u32;
        let groups = u32::try_from(workgroups_per_slice * splits)
            .expect("atelier: conv2d needs too many workgroups");
        if splits == 1 {
            self.params.has_bias = self.bias.is_some() as u32;
            self.inputs.push(self.out);
            gpu().launch(&kernel, constants, &self.params, &self.inputs, groups);
            return;
        }
        self.params.has_bias = 0;
        let partials = GpuBuffer::uninit(splits * len);
        let mut buffers = self.inputs.clone();
        buffers.push(&partials);
        gpu().launch(&kernel, constants, &self.params, &buffers, groups);
        let sum_params = Params {
            len: len as u32,
            splits: splits as u32,
            has_bias: self.bias.is_some() as u32,
            p: self.plane as u32,
            k: self.channels.max(1) as u32,
            ..self.params
        };
        let bias = self.bias.unwrap_or(&partials);
        let groups =
            u32::try_from(len.div_ceil(THREADS)).expect("atelier: conv2d output too large");
        gpu().launch(&sum, &[], &sum_params, &[&partials, bias, self.out], groups);
    }
}

/// y = conv2d(x, weight) (+ bias) by igemm tile `g`.
pub(super) fn forward(
    g: &'static IgemmKernels,
    spec: &Conv2dSpec,
    params: Params,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    // the weight's rows (C*R*S) as vec4s where they are whole quads
    let kernel = if vec4_aligned(spec.c * spec.r * spec.s) {
        g.forward_vec4()
    } else {
        g.forward()
    };
    ConvGemm::forward(spec, params, x, w, bias, y).run(
        kernel,
        g.sum_splits(),
        &geometry(spec),
        |m, n| tiles(g, m, n),
    );
}

/// gx = conv2d's backward-data (+ bias: conv_transpose2d's forward) by igemm tile `g`.
pub(super) fn backward_data(
    g: &'static IgemmKernels,
    spec: &Conv2dSpec,
    params: Params,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    gx: &GpuBuffer,
) {
    ConvGemm::backward_data(spec, params, gy, w, bias, gx).run(
        g.backward_data(),
        g.sum_splits(),
        &geometry(spec),
        |m, n| tiles(g, m, n),
    );
}

/// gw = conv2d's backward-weight by igemm tile `g`.
pub(super) fn backward_weight(
    g: &'static IgemmKernels,
    spec: &Conv2dSpec,
    params: Params,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    // gy's planes (P*Q) as vec4s where they are whole quads
    let kernel = if vec4_aligned(spec.p() * spec.q()) {
        g.backward_weight_vec4()
    } else {
        g.backward_weight()
    };
    ConvGemm::backward_weight(spec, params, x, gy, gw).run(
        kernel,
        g.sum_splits(),
        &geometry(spec),
        |m, n| tiles(g, m, n),
    );
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
