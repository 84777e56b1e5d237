//! conv2d's variants and how one is chosen: [`ConvVariant`] implements the shared
//! [`Variant`] trait over a [`ConvProblem`] (the shape and the direction), and the tiles of the
//! implicit-GEMM variants.

use super::igemm::{IGEMM_64X64, IGEMM_64X128, IGEMM_128X64, IGEMM_128X128, IgemmKernels};
use super::skinny;
use super::spec::Conv2dSpec;
use super::{IMPLICIT_GEMM_4X4_SHADER, IMPLICIT_GEMM_8X8_SHADER};
use crate::pipeline::Kernel;
use crate::shader::Shader;
use crate::variant::Variant;

/// The three directions of a convolution, each a matrix product over the implicit im2col
/// matrix (see [`gemm_shape`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvDirection {
    Forward,
    BackwardData,
    BackwardWeight,
}

/// What conv2d's variant choice looks at: a shape and a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvProblem {
    pub spec: Conv2dSpec,
    pub direction: ConvDirection,
}

/// Which kernel computes a convolution direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvVariant {
    /// One invocation per output element: the readable baseline.
    Direct,
    /// A tiled matrix product over the implicit im2col matrix, with register blocking: 4x4
    /// outputs per invocation in 64x64 tiles.
    ImplicitGemm,
    /// The same with 8x8 outputs per invocation in 128x128 tiles: four times the reuse of
    /// every staged element, for GPUs with large register files. Chosen only by name
    /// (`ATELIER_CONV=implicit_gemm_8x8`) until benchmarks on such a GPU say where it wins.
    ImplicitGemm8x8,
    /// The generated implicit-GEMM core (`igemm.rs`): 128x128 tiles, 8x8 outputs per
    /// invocation as strided 4x4 fragments, BK 16, double-buffered, split-K, the geometry as
    /// override constants. Chosen by name or by `tune` only, until measured on a GPU.
    Igemm128x128,
    /// The same core with 128x64 tiles (8x4 per invocation).
    Igemm128x64,
    /// The same core with 64x128 tiles (4x8 per invocation).
    Igemm64x128,
    /// The same core with 64x64 tiles (4x4 per invocation): 16 KiB of workgroup memory, within
    /// WebGPU's default limits.
    Igemm64x64,
    /// GEMMs with N <= 4 (3-channel layers): 4 rows x all of N per invocation (`skinny.rs`).
    SkinnyN,
    /// A forward of few outputs over a long reduction (D's last layer): a workgroup per output
    /// and slice, summed as a tree (`skinny.rs`).
    SplitDot,
    /// Forward and backward-data on the GPU's matrix units (`coop.rs`): cooperative matrices,
    /// f16 inputs, f32 accumulation, 64x64 tiles. Only where the adapter offers them and the
    /// user asks for reduced precision (`ATELIER_PRECISION=f16`); then the rule picks it for
    /// those two directions. Backward-weight stays on the fp32 rule.
    CoopF16,
}

impl ConvVariant {
    /// The kernels of an implicit-GEMM variant (`None` for the direct one).
    pub(crate) fn gemm(self) -> Option<&'static GemmKernels> {
        match self {
            ConvVariant::Direct => None,
            ConvVariant::ImplicitGemm => Some(&IMPLICIT_GEMM),
            ConvVariant::ImplicitGemm8x8 => Some(&IMPLICIT_GEMM_8X8),
            _ => None,
        }
    }

    /// The generated core of an `igemm*` variant (`None` for the others).
    pub(crate) fn igemm(self) -> Option<&'static IgemmKernels> {
        match self {
            ConvVariant::Igemm128x128 => Some(&IGEMM_128X128),
            ConvVariant::Igemm128x64 => Some(&IGEMM_128X64),
            ConvVariant::Igemm64x128 => Some(&IGEMM_64X128),
            ConvVariant::Igemm64x64 => Some(&IGEMM_64X64),
            _ => None,
        }
    }
}

impl Variant for ConvVariant {
    const FAMILY: &'static str = "conv2d";
    const ALL: &'static [ConvVariant] = &[
        ConvVariant::Direct,
        ConvVariant::ImplicitGemm,
        ConvVariant::ImplicitGemm8x8,
        ConvVariant::Igemm128x128,
        ConvVariant::Igemm128x64,
        ConvVariant::Igemm64x128,
        ConvVariant::Igemm64x64,
        ConvVariant::SkinnyN,
        ConvVariant::SplitDot,
        ConvVariant::CoopF16,
    ];
    type Problem = ConvProblem;

    fn name(self) -> &'static str {
        match self {
            ConvVariant::Direct => "direct",
            ConvVariant::ImplicitGemm => "implicit_gemm",
            ConvVariant::ImplicitGemm8x8 => "implicit_gemm_8x8",
            ConvVariant::Igemm128x128 => "igemm128x128",
            ConvVariant::Igemm128x64 => "igemm128x64",
            ConvVariant::Igemm64x128 => "igemm64x128",
            ConvVariant::Igemm64x64 => "igemm64x64",
            ConvVariant::SkinnyN => "skinny_n",
            ConvVariant::SplitDot => "split_dot",
            ConvVariant::CoopF16 => "coop_f16",
        }
    }

    /// An `igemm*` tile whose workgroup memory or size the adapter does not offer; `coop_f16`
    /// without cooperative matrices or without `ATELIER_PRECISION=f16`.
    fn unavailable(self) -> Option<String> {
        if self == ConvVariant::CoopF16 {
            return super::coop::unavailable();
        }
        let g = self.igemm()?;
        match crate::context::try_gpu() {
            Ok(gpu) => g.tile.unavailable(&gpu.limits),
            Err(e) => Some(format!("no GPU device ({e})")),
        }
    }

    /// All of them, except the direct backward-weight when its per-invocation reduction would
    /// be longer than [`MAX_SPLIT_LEN`] (see [`ConvVariant::auto`]), the two shape special
    /// cases outside their shapes (`skinny.rs`), and `coop_f16` outside forward and
    /// backward-data.
    fn handles(self, p: &ConvProblem) -> bool {
        match self {
            ConvVariant::Direct => !long_weight_sum(p),
            ConvVariant::SkinnyN => skinny::skinny_handles(p),
            ConvVariant::SplitDot => skinny::split_dot_handles(p),
            ConvVariant::CoopF16 => p.direction != ConvDirection::BackwardWeight,
            _ => true,
        }
    }

    /// The faster variant for this shape, by the shape of its GEMM ([`gemm_shape`]).
    ///
    /// The implicit GEMM wins by reuse: each element it stages in workgroup memory feeds 64
    /// multiply-adds, where the direct kernel reloads its operands for every one. It loses
    /// when its tiles are mostly padding: a 64x64 tile always costs a full tile of work, so
    /// when the output (M x N) fills less than a quarter of the tiles that cover it (M or N
    /// under 16, as a 3-channel image's backward-data or an 8-channel conv, or both under 64
    /// and small, as a backward-weight of 16 x 27), or when the reduction is shorter than one
    /// BK = 16 step, the direct kernel, which wastes nothing, is as fast or faster. Measured on
    /// lavapipe (a DCGAN discriminator layer, RGB input layers, 1x1 and 3x3 convs of 8 to 64
    /// channels, all three directions), the rule picked the faster variant everywhere except
    /// at its boundary (N exactly 16), where the two are within a few tenths of a millisecond;
    /// the benchmarks on a real GPU are where to revisit the threshold.
    ///
    /// Backward-weight takes the implicit GEMM whatever the tiles when the reduction (N*P*Q)
    /// is longer than [`MAX_SPLIT_LEN`]: a direct invocation would sum it alone, serially (and
    /// on lavapipe, past its loop cutoff, wrongly), where the GEMM splits it.
    ///
    /// Two shapes take a special case first ([`special`]). On a hardware GPU, by argument, not
    /// yet by measurement (`tune` times them against the rest): `split_dot` for a forward of
    /// at most 1,024 outputs over a reduction of 1,024 or more (D's last layer: 128
    /// invocations each summing 8,192 products leave an H100 nearly idle), and `skinny_n` for
    /// N <= 4 with at least one workgroup of rows (1,024), where a 64-wide tile is 95 %
    /// padding and the direct kernel reloads every weight for every output. On a software
    /// adapter, `skinny_n` only from 8,192 rows, where it was measured (lavapipe, batch 8,
    /// three runs: D's first backward-data 253–390 ms against direct's 534–672, G's last
    /// forward 271–372 against 498–741); `split_dot` lost there to direct at D's last layer
    /// (15–22 ms against 1.7–2.0: lavapipe runs few invocations cheaply), so not there.
    ///
    /// With `ATELIER_PRECISION=f16` on an adapter that runs `coop_f16`, forward and
    /// backward-data take it before anything else.
    fn auto(p: &ConvProblem) -> ConvVariant {
        // the precision first: under fp32 (the default) no device is asked anything
        if crate::precision::current() == crate::precision::Precision::F16
            && ConvVariant::CoopF16.handles(p)
            && ConvVariant::CoopF16.unavailable().is_none()
        {
            return ConvVariant::CoopF16;
        }
        let software = crate::context::try_gpu().map_or(true, |g| g.is_software());
        special(p, software).unwrap_or_else(|| fallback(p))
    }
}

/// The special case `auto` picks for `p`, if any (see [`ConvVariant::auto`]).
fn special(p: &ConvProblem, software: bool) -> Option<ConvVariant> {
    let (m, n, k) = gemm_shape(&p.spec, p.direction);
    if !software && ConvVariant::SplitDot.handles(p) && m * n <= 1024 && k >= 1024 {
        Some(ConvVariant::SplitDot)
    } else if ConvVariant::SkinnyN.handles(p) && m >= if software { 8192 } else { 1024 } {
        Some(ConvVariant::SkinnyN)
    } else {
        None
    }
}

impl ConvVariant {
    /// This variant, or where it does not handle `p` (a special case named in the settings
    /// for a shape it does not serve) the rule's choice among the general ones.
    pub(crate) fn for_problem(self, p: &ConvProblem) -> ConvVariant {
        match self {
            ConvVariant::SkinnyN | ConvVariant::SplitDot if !self.handles(p) => fallback(p),
            _ => self,
        }
    }
}

/// The rule among the general variants (see [`ConvVariant::auto`]).
fn fallback(p: &ConvProblem) -> ConvVariant {
    let (m, n, k) = gemm_shape(&p.spec, p.direction);
    let covered = m.next_multiple_of(TILES.bm) * n.next_multiple_of(TILES.bn);
    if (4 * m * n >= covered && k >= TILES.bk) || long_weight_sum(p) {
        ConvVariant::ImplicitGemm
    } else {
        ConvVariant::Direct
    }
}

/// Whether a backward-weight reduction (N·P·Q) is longer than [`MAX_SPLIT_LEN`]: too long
/// for one invocation to sum alone.
fn long_weight_sum(p: &ConvProblem) -> bool {
    let (_, _, k) = gemm_shape(&p.spec, p.direction);
    p.direction == ConvDirection::BackwardWeight && k > MAX_SPLIT_LEN
}

/// The (M, N, reduction) sizes of the matrix product the implicit-GEMM variant computes for
/// `direction`: forward (N*P*Q, K, C*R*S), backward-weight (K, C*R*S, N*P*Q), and
/// backward-data, one product per stride phase, (N*⌈H/stride_h⌉*⌈W/stride_w⌉, C,
/// K*⌈R/stride_h⌉*⌈S/stride_w⌉) for the largest phase (exact for dilation 1).
pub fn gemm_shape(spec: &Conv2dSpec, direction: ConvDirection) -> (usize, usize, usize) {
    let (pq, crs) = (spec.p() * spec.q(), spec.c * spec.r * spec.s);
    let (sh, sw) = spec.stride;
    match direction {
        ConvDirection::Forward => (spec.n * pq, spec.k, crs),
        ConvDirection::BackwardData => (
            spec.n * spec.h.div_ceil(sh) * spec.w.div_ceil(sw),
            spec.c,
            spec.k * spec.r.div_ceil(sh) * spec.s.div_ceil(sw),
        ),
        ConvDirection::BackwardWeight => (spec.k, crs, spec.n * pq),
    }
}

/// Tile sizes of the implicit GEMM: BM, BN and BK are its `override` constants, the register
/// block TM x TN is fixed by the shader the variant compiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmTiles {
    pub bm: usize,
    pub bn: usize,
    pub bk: usize,
    pub tm: usize,
    pub tn: usize,
}

impl GemmTiles {
    /// Invocations per workgroup: one per register block.
    pub const fn invocations(&self) -> usize {
        (self.bm / self.tm) * (self.bn / self.tn)
    }

    /// The shader's staging loops need THREADS to be a multiple of BM and BK; WebGPU's defaults
    /// cap THREADS at 256 and workgroup memory at 16 KiB.
    pub(crate) const fn fits(&self) -> bool {
        let wg = self.invocations();
        self.tm.is_multiple_of(4)
            && self.tn.is_multiple_of(4)
            && self.bm.is_multiple_of(self.tm)
            && self.bn.is_multiple_of(self.tn)
            && wg <= 256
            && wg.is_multiple_of(self.bm)
            && wg.is_multiple_of(self.bk)
            && self.bk * (self.bm + self.bn) * 4 <= 16384
    }

    pub(crate) fn constants(&self) -> [(&'static str, f64); 3] {
        [
            ("BM", self.bm as f64),
            ("BN", self.bn as f64),
            ("BK", self.bk as f64),
        ]
    }
}

/// The tiles of variant `implicit_gemm`: 64x64 outputs, 16 along the reduction, 256
/// invocations of 4x4 outputs each, 8 KiB of workgroup memory.
pub const TILES: GemmTiles = GemmTiles {
    bm: 64,
    bn: 64,
    bk: 16,
    tm: 4,
    tn: 4,
};
const _: () = assert!(TILES.fits());

/// The tiles of variant `implicit_gemm_8x8`: 128x128 outputs, 8 along the reduction, 256
/// invocations of 8x8 outputs each, 8 KiB of workgroup memory.
pub const TILES_8X8: GemmTiles = GemmTiles {
    bm: 128,
    bn: 128,
    bk: 8,
    tm: 8,
    tn: 8,
};
const _: () = assert!(TILES_8X8.fits());

/// The kernels of one implicit-GEMM variant and the tiles they are launched with.
pub struct GemmKernels {
    pub forward: Kernel,
    pub backward_data: Kernel,
    pub backward_weight: Kernel,
    pub sum_splits: Kernel,
    pub tiles: GemmTiles,
}

impl GemmKernels {
    const fn new(shader: &'static Shader, tiles: GemmTiles) -> GemmKernels {
        assert!(tiles.fits());
        GemmKernels {
            forward: Kernel::new(shader, "forward_implicit_gemm"),
            backward_data: Kernel::new(shader, "backward_data_implicit_gemm"),
            backward_weight: Kernel::new(shader, "backward_weight_implicit_gemm"),
            sum_splits: Kernel::new(shader, "sum_splits"),
            tiles,
        }
    }
}

/// Variant `implicit_gemm`: 4x4 register blocks, 64x64 tiles, BK = 16.
pub const IMPLICIT_GEMM: GemmKernels = GemmKernels::new(&IMPLICIT_GEMM_4X4_SHADER, TILES);
/// Variant `implicit_gemm_8x8`: 8x8 register blocks, 128x128 tiles, BK = 8.
pub const IMPLICIT_GEMM_8X8: GemmKernels = GemmKernels::new(&IMPLICIT_GEMM_8X8_SHADER, TILES_8X8);

/// The longest reduction one invocation (or one split of backward-weight) sums: bounded serial
/// work per workgroup, and well inside lavapipe's loop cutoff (llvmpipe silently ends a
/// shader's loops after about 65,535 iterations in all, inner loops included: 1,024 steps of
/// BK here are about 25,000).
pub const MAX_SPLIT_LEN: usize = 16_384;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_kernel_never_sums_a_long_weight_gradient() {
        let spec = Conv2dSpec {
            n: 64,
            c: 3,
            h: 64,
            w: 64,
            k: 8,
            r: 4,
            s: 4,
            stride: (2, 2),
            pad: (1, 1),
            dilation: (1, 1),
        };
        let p = ConvProblem {
            spec,
            direction: ConvDirection::BackwardWeight,
        };
        assert!(!ConvVariant::candidates(&p).contains(&ConvVariant::Direct));
        assert_eq!(ConvVariant::auto(&p), ConvVariant::ImplicitGemm);
        let forward = ConvProblem {
            direction: ConvDirection::Forward,
            ..p
        };
        assert!(ConvVariant::candidates(&forward).contains(&ConvVariant::Direct));
    }

    #[test]
    fn special_cases_are_picked_only_where_they_serve() {
        let layer = |n, c, side, k, stride, pad| Conv2dSpec {
            n,
            c,
            h: side,
            w: side,
            k,
            r: 4,
            s: 4,
            stride: (stride, stride),
            pad: (pad, pad),
            dilation: (1, 1),
        };
        let at = |spec, direction| ConvProblem { spec, direction };
        let (d1, d2, d5) = (
            layer(128, 3, 64, 64, 2, 1),
            layer(128, 64, 32, 128, 2, 1),
            layer(128, 512, 4, 1, 1, 0),
        );
        use ConvDirection::*;
        // D's last layer forward: split_dot on a GPU, the rule on lavapipe
        assert_eq!(
            special(&at(d5, Forward), false),
            Some(ConvVariant::SplitDot)
        );
        assert_eq!(special(&at(d5, Forward), true), None);
        // D's first backward-data (G's last forward): N = 3
        assert_eq!(
            special(&at(d1, BackwardData), false),
            Some(ConvVariant::SkinnyN)
        );
        assert_eq!(
            special(&at(d1, BackwardData), true),
            Some(ConvVariant::SkinnyN)
        );
        // nothing for wide layers, or for directions they do not serve
        for p in [
            at(d1, Forward),
            at(d2, BackwardData),
            at(d5, BackwardWeight),
            at(d1, BackwardWeight),
        ] {
            assert_eq!(special(&p, false), None, "{p:?}");
        }
        // few rows on lavapipe: the rule
        assert_eq!(
            special(&at(Conv2dSpec { n: 1, ..d1 }, BackwardData), true),
            None
        );
        assert!(!ConvVariant::SkinnyN.handles(&at(d2, Forward)));
        assert!(!ConvVariant::SplitDot.handles(&at(d2, Forward)));
    }
}
