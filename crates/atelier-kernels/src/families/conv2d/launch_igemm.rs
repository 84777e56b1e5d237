//! The launch of the variants that run a convolution direction as one split GEMM
//! ([`ConvGemm`]): the generated `igemm*` tiles (`igemm.rs`), `coop_f16`, `skinny_n` and
//! `split_dot`. [`gemm_kernel`] picks a variant's kernel, its override constants (the conv
//! geometry) and tile; split-K is chosen by [`split_k`], and the slices are summed (with the
//! bias) by `igemm_sum_splits` when there are several.

use super::igemm::{IGEMM_64X64, IgemmKernels, THREADS, split_k, vec4_aligned};
use super::launch::Params;
use super::spec::Conv2dSpec;
use super::variant::{ConvDirection, ConvVariant, MAX_SPLIT_LEN};
use super::{launch_coop, skinny};
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

    /// Launches `k` on one workgroup per tile of the output, per phase and slice of the
    /// reduction; with several slices, their partial sums are added (with the bias) by
    /// `igemm_sum_splits`, which reads no geometry: one pipeline for every variant and shape.
    pub(super) fn run(mut self, k: GemmKernel) {
        let (tile_m, tile_n) = k.tile;
        let workgroups_per_slice = self.phases * self.m.div_ceil(tile_m) * self.n.div_ceil(tile_n);
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
            gpu().launch(&k.kernel, &k.constants, &self.params, &self.inputs, groups);
            return;
        }
        self.params.has_bias = 0;
        let partials = GpuBuffer::uninit(splits * len);
        let mut buffers = self.inputs.clone();
        buffers.push(&partials);
        gpu().launch(&k.kernel, &k.constants, &self.params, &buffers, groups);
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
        let sum = IGEMM_64X64.sum_splits();
        gpu().launch(&sum, &[], &sum_params, &[&partials, bias, self.out], groups);
    }
}

/// What a variant runs for one direction of a convolution through [`ConvGemm`]: its kernel,
/// the pipeline's override constants, and the rows x columns of the output one workgroup
/// covers.
pub(super) struct GemmKernel {
    pub(super) kernel: Kernel,
    pub(super) constants: Vec<(&'static str, f64)>,
    pub(super) tile: (usize, usize),
}

/// The kernel `variant` runs for `direction` of `spec` through [`ConvGemm`], or `None` for the
/// variants launched otherwise (direct, implicit_gemm, implicit_gemm_8x8).
pub(super) fn gemm_kernel(
    variant: ConvVariant,
    direction: ConvDirection,
    spec: &Conv2dSpec,
) -> Option<GemmKernel> {
    use ConvDirection::{BackwardData, Forward};
    if let Some(g) = variant.igemm() {
        return Some(igemm_kernel(g, direction, spec));
    }
    match (variant, direction) {
        (ConvVariant::SkinnyN, Forward | BackwardData) => Some(skinny::skinny_n(direction, spec)),
        (ConvVariant::SplitDot, Forward) => Some(skinny::split_dot(spec)),
        (ConvVariant::CoopF16, Forward | BackwardData) => {
            Some(launch_coop::coop_f16(direction, spec))
        }
        _ => None,
    }
}

/// igemm tile `g` for `direction`: the `_vec4` entries where the operand contiguous along the
/// reduction has whole quads (the weight's rows C*R*S forward, gy's planes P*Q backward-weight).
fn igemm_kernel(
    g: &'static IgemmKernels,
    direction: ConvDirection,
    spec: &Conv2dSpec,
) -> GemmKernel {
    let kernel = match direction {
        ConvDirection::Forward if vec4_aligned(spec.c * spec.r * spec.s) => g.forward_vec4(),
        ConvDirection::Forward => g.forward(),
        ConvDirection::BackwardData => g.backward_data(),
        ConvDirection::BackwardWeight if vec4_aligned(spec.p() * spec.q()) => {
            g.backward_weight_vec4()
        }
        ConvDirection::BackwardWeight => g.backward_weight(),
    };
    GemmKernel {
        kernel,
        constants: geometry(spec).to_vec(),
        tile: (g.tile.bm, g.tile.bn),
    }
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
