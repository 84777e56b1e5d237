//! Launchers for `shaders/conv2d.wgsl` (the direct variant, and the bias gradient) and
//! `shaders/conv2d_implicit_gemm.wgsl` (the implicit-GEMM variants: 4x4 register blocks in
//! 64x64 tiles, and 8x8 blocks in 128x128 tiles).
//!
//! Layouts are PyTorch's: x `[N, C, H, W]`, weight `[K, C, R, S]`, y `[N, K, P, Q]`, bias `[K]`.
//! A transposed convolution is computed by the same kernels: its forward is conv2d's
//! backward-data and its backward-data is conv2d's forward (see [`ConvTranspose2dSpec::as_conv`]).

use bytemuck::{Pod, Zeroable};

use super::{WG, groups_for};
use crate::context::gpu;
use crate::error::Error;
use crate::pipeline::{Kernel, Shader};
use crate::pool::GpuBuffer;
use crate::shaders::{CONV2D, CONV2D_IMPLICIT_GEMM, CONV2D_IMPLICIT_GEMM_8X8};

pub const FORWARD_DIRECT: Kernel = Kernel::new(&CONV2D, "forward_direct");
pub const BACKWARD_DATA_DIRECT: Kernel = Kernel::new(&CONV2D, "backward_data_direct");
pub const BACKWARD_WEIGHT_DIRECT: Kernel = Kernel::new(&CONV2D, "backward_weight_direct");
pub const CHANNEL_SUM: Kernel = Kernel::new(&CONV2D, "channel_sum");

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
pub const IMPLICIT_GEMM: GemmKernels = GemmKernels::new(&CONV2D_IMPLICIT_GEMM, TILES);
/// Variant `implicit_gemm_8x8`: 8x8 register blocks, 128x128 tiles, BK = 8.
pub const IMPLICIT_GEMM_8X8: GemmKernels = GemmKernels::new(&CONV2D_IMPLICIT_GEMM_8X8, TILES_8X8);

/// The shape of a 2-D convolution (groups = 1): input `[n, c, h, w]`, weight `[k, c, r, s]`,
/// output `[n, k, p(), q()]`. `stride`, `pad` and `dilation` are (along H, along W).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dSpec {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
    pub r: usize,
    pub s: usize,
    pub stride: (usize, usize),
    pub pad: (usize, usize),
    pub dilation: (usize, usize),
}

/// Output length along one axis, or `None` when the dilated kernel is larger than the padded
/// input: `(len + 2*pad - dil*(taps-1) - 1) / stride + 1`.
fn conv_out_len(len: usize, taps: usize, stride: usize, pad: usize, dil: usize) -> Option<usize> {
    let span = dil * (taps - 1) + 1;
    let padded = len + 2 * pad;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

impl Conv2dSpec {
    /// Output height.
    pub fn p(&self) -> usize {
        self.validate();
        conv_out_len(self.h, self.r, self.stride.0, self.pad.0, self.dilation.0).unwrap()
    }

    /// Output width.
    pub fn q(&self) -> usize {
        self.validate();
        conv_out_len(self.w, self.s, self.stride.1, self.pad.1, self.dilation.1).unwrap()
    }

    pub fn x_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    pub fn w_len(&self) -> usize {
        self.k * self.c * self.r * self.s
    }

    pub fn y_len(&self) -> usize {
        self.n * self.k * self.p() * self.q()
    }

    fn describe(&self) -> String {
        format!(
            "x [N, C, H, W] = [{}, {}, {}, {}], weight [K, C, R, S] = [{}, {}, {}, {}], stride {:?}, pad {:?}, dilation {:?}",
            self.n,
            self.c,
            self.h,
            self.w,
            self.k,
            self.c,
            self.r,
            self.s,
            self.stride,
            self.pad,
            self.dilation
        )
    }

    /// Panics, naming the shapes, when no convolution has this shape: a zero size, stride or
    /// dilation, a dilated kernel larger than the padded input, or sizes past the kernels'
    /// 32-bit indexing.
    pub fn validate(&self) {
        let fail =
            |why: &str| -> ! { panic!("conv2d: impossible shape {}: {why}", self.describe()) };
        let dims = [self.n, self.c, self.h, self.w, self.k, self.r, self.s];
        if dims.contains(&0) {
            fail("every size must be at least 1");
        }
        if self.stride.0 == 0 || self.stride.1 == 0 || self.dilation.0 == 0 || self.dilation.1 == 0
        {
            fail("stride and dilation must be at least 1");
        }
        let p = conv_out_len(self.h, self.r, self.stride.0, self.pad.0, self.dilation.0);
        let q = conv_out_len(self.w, self.s, self.stride.1, self.pad.1, self.dilation.1);
        let (Some(p), Some(q)) = (p, q) else {
            fail(&format!(
                "the dilated kernel {}x{} is larger than the padded input {}x{}",
                self.dilation.0 * (self.r - 1) + 1,
                self.dilation.1 * (self.s - 1) + 1,
                self.h + 2 * self.pad.0,
                self.w + 2 * self.pad.1
            ));
        };
        let largest = [
            self.x_len(),
            self.w_len(),
            self.n * self.k * p * q,
            self.h + 2 * self.pad.0,
        ]
        .into_iter()
        .max()
        .unwrap();
        if largest >= i32::MAX as usize {
            fail("a tensor has 2^31 or more elements");
        }
    }
}

/// The shape of a transposed 2-D convolution (groups = 1), PyTorch's `ConvTranspose2d`:
/// input `[n, c_in, h_in, w_in]`, weight `[c_in, c_out, r, s]`, output
/// `[n, c_out, h_out(), w_out()]` with `h_out = (h_in-1)*stride - 2*pad + dil*(r-1) + output_padding + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvTranspose2dSpec {
    pub n: usize,
    pub c_in: usize,
    pub h_in: usize,
    pub w_in: usize,
    pub c_out: usize,
    pub r: usize,
    pub s: usize,
    pub stride: (usize, usize),
    pub pad: (usize, usize),
    pub output_padding: (usize, usize),
    pub dilation: (usize, usize),
}

/// `(len-1)*stride - 2*pad + dil*(taps-1) + output_padding + 1`, or `None` when not positive.
fn transposed_out_len(
    len: usize,
    taps: usize,
    stride: usize,
    pad: usize,
    out_pad: usize,
    dil: usize,
) -> Option<usize> {
    let full = (len - 1) * stride + dil * (taps - 1) + out_pad + 1;
    (full > 2 * pad).then(|| full - 2 * pad)
}

impl ConvTranspose2dSpec {
    /// Output height.
    pub fn h_out(&self) -> usize {
        self.validate();
        transposed_out_len(
            self.h_in,
            self.r,
            self.stride.0,
            self.pad.0,
            self.output_padding.0,
            self.dilation.0,
        )
        .unwrap()
    }

    /// Output width.
    pub fn w_out(&self) -> usize {
        self.validate();
        transposed_out_len(
            self.w_in,
            self.s,
            self.stride.1,
            self.pad.1,
            self.output_padding.1,
            self.dilation.1,
        )
        .unwrap()
    }

    pub fn x_len(&self) -> usize {
        self.n * self.c_in * self.h_in * self.w_in
    }

    pub fn w_len(&self) -> usize {
        self.c_in * self.c_out * self.r * self.s
    }

    pub fn y_len(&self) -> usize {
        self.n * self.c_out * self.h_out() * self.w_out()
    }

    /// The convolution whose backward-data this transposed convolution is: its input is our
    /// output (`c = c_out`, `h = h_out`), its output our input (`k = c_in`, `p = h_in`), and the
    /// weight `[c_in, c_out, r, s]` is its `[k, c, r, s]` unchanged. output_padding survives
    /// only as the extra rows and columns of `h_out` and `w_out`.
    pub fn as_conv(&self) -> Conv2dSpec {
        Conv2dSpec {
            n: self.n,
            c: self.c_out,
            h: self.h_out(),
            w: self.w_out(),
            k: self.c_in,
            r: self.r,
            s: self.s,
            stride: self.stride,
            pad: self.pad,
            dilation: self.dilation,
        }
    }

    /// Panics, naming the shapes, when no transposed convolution has this shape. output_padding
    /// must be smaller than the stride (PyTorch also accepts it below the dilation; atelier does
    /// not, because then the convolution of `as_conv` would not map h_out back to h_in).
    pub fn validate(&self) {
        let fail = |why: &str| -> ! {
            panic!(
                "conv_transpose2d: impossible shape x [N, C_in, H, W] = [{}, {}, {}, {}], weight [C_in, C_out, R, S] = [{}, {}, {}, {}], stride {:?}, pad {:?}, output_padding {:?}, dilation {:?}: {why}",
                self.n,
                self.c_in,
                self.h_in,
                self.w_in,
                self.c_in,
                self.c_out,
                self.r,
                self.s,
                self.stride,
                self.pad,
                self.output_padding,
                self.dilation
            )
        };
        let dims = [
            self.n, self.c_in, self.h_in, self.w_in, self.c_out, self.r, self.s,
        ];
        if dims.contains(&0) {
            fail("every size must be at least 1");
        }
        if self.stride.0 == 0 || self.stride.1 == 0 || self.dilation.0 == 0 || self.dilation.1 == 0
        {
            fail("stride and dilation must be at least 1");
        }
        if self.output_padding.0 >= self.stride.0 || self.output_padding.1 >= self.stride.1 {
            fail("output_padding must be smaller than the stride");
        }
        let h = transposed_out_len(
            self.h_in,
            self.r,
            self.stride.0,
            self.pad.0,
            self.output_padding.0,
            self.dilation.0,
        );
        let w = transposed_out_len(
            self.w_in,
            self.s,
            self.stride.1,
            self.pad.1,
            self.output_padding.1,
            self.dilation.1,
        );
        let (Some(h), Some(w)) = (h, w) else {
            fail("the padding removes the whole output");
        };
        let conv = Conv2dSpec {
            n: self.n,
            c: self.c_out,
            h,
            w,
            k: self.c_in,
            r: self.r,
            s: self.s,
            stride: self.stride,
            pad: self.pad,
            dilation: self.dilation,
        };
        conv.validate();
        debug_assert_eq!(
            (conv.p(), conv.q()),
            (self.h_in, self.w_in),
            "as_conv maps the output back to the input"
        );
    }
}

/// The convolution directions that have two variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvDirection {
    Forward,
    BackwardData,
    BackwardWeight,
}

/// How the variant of each convolution is picked: `ATELIER_CONV=auto` (or unset) by
/// [`ConvVariant::auto`]'s rule, `ATELIER_CONV=<variant name>` always that one,
/// `ATELIER_CONV=tune` by timing the candidates the first time a shape is met
/// (`conv_tune.rs`, PyTorch's `cudnn.benchmark`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvMode {
    Auto,
    Fixed(ConvVariant),
    Tune,
}

impl ConvMode {
    /// Reads `ATELIER_CONV`.
    pub fn from_env() -> Result<ConvMode, Error> {
        match std::env::var("ATELIER_CONV") {
            Ok(value) => ConvMode::from_setting(&value),
            Err(_) => Ok(ConvMode::Auto),
        }
    }

    /// One value of `ATELIER_CONV`.
    pub fn from_setting(value: &str) -> Result<ConvMode, Error> {
        match value.to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(ConvMode::Auto),
            "tune" => Ok(ConvMode::Tune),
            name => ConvVariant::from_name(name)
                .map(ConvMode::Fixed)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "ATELIER_CONV={value:?} is not one of direct, implicit_gemm, \
                         implicit_gemm_8x8, auto, tune"
                    ))
                }),
        }
    }
}

/// Launches one convolution direction with the variant `ATELIER_CONV` asks for: `launch(v)`
/// records the kernels of variant `v`. Under `ATELIER_CONV=tune` the first call for a shape
/// and direction also runs and times every candidate (see `conv_tune.rs`).
pub fn run_conv(
    spec: &Conv2dSpec,
    direction: ConvDirection,
    mut launch: impl FnMut(ConvVariant),
) -> Result<(), Error> {
    let variant = match ConvMode::from_env()? {
        ConvMode::Fixed(v) => v,
        ConvMode::Auto => ConvVariant::auto(spec, direction),
        ConvMode::Tune => super::conv_tune::tuned(spec, direction, &mut launch),
    };
    launch(variant);
    Ok(())
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
}

impl ConvVariant {
    pub const ALL: [ConvVariant; 3] = [
        ConvVariant::Direct,
        ConvVariant::ImplicitGemm,
        ConvVariant::ImplicitGemm8x8,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ConvVariant::Direct => "direct",
            ConvVariant::ImplicitGemm => "implicit_gemm",
            ConvVariant::ImplicitGemm8x8 => "implicit_gemm_8x8",
        }
    }

    /// The kernels of an implicit-GEMM variant (`None` for the direct one).
    fn gemm(self) -> Option<&'static GemmKernels> {
        match self {
            ConvVariant::Direct => None,
            ConvVariant::ImplicitGemm => Some(&IMPLICIT_GEMM),
            ConvVariant::ImplicitGemm8x8 => Some(&IMPLICIT_GEMM_8X8),
        }
    }

    pub fn from_name(name: &str) -> Option<ConvVariant> {
        ConvVariant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The variants that compute this direction correctly on every device: all of them,
    /// except the direct backward-weight when its per-invocation reduction would be longer
    /// than [`MAX_SPLIT_LEN`] (see [`ConvVariant::auto`]).
    pub fn candidates(spec: &Conv2dSpec, direction: ConvDirection) -> Vec<ConvVariant> {
        let (_, _, k) = gemm_shape(spec, direction);
        let long_weight_sum = direction == ConvDirection::BackwardWeight && k > MAX_SPLIT_LEN;
        ConvVariant::ALL
            .into_iter()
            .filter(|v| !(long_weight_sum && *v == ConvVariant::Direct))
            .collect()
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
    pub fn auto(spec: &Conv2dSpec, direction: ConvDirection) -> ConvVariant {
        let (m, n, k) = gemm_shape(spec, direction);
        let covered = m.next_multiple_of(TILES.bm) * n.next_multiple_of(TILES.bn);
        let long_weight_sum = direction == ConvDirection::BackwardWeight && k > MAX_SPLIT_LEN;
        if (4 * m * n >= covered && k >= TILES.bk) || long_weight_sum {
            ConvVariant::ImplicitGemm
        } else {
            ConvVariant::Direct
        }
    }
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

    /// The shader's staging loops need WG to be a multiple of BM and BK; WebGPU's defaults
    /// cap WG at 256 and workgroup memory at 16 KiB.
    const fn fits(&self) -> bool {
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

    fn constants(&self) -> [(&'static str, f64); 3] {
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

/// backward-weight splits its reduction (N*P*Q, often long next to a small K x C*R*S output)
/// until about this many workgroups run...
const SPLIT_TARGET_WORKGROUPS: usize = 256;
/// ...while each split keeps at least this many reduction elements...
const MIN_SPLIT_LEN: usize = 256;
/// ...and at most this many: bounded serial work per workgroup, and well inside lavapipe's
/// loop cutoff (llvmpipe silently ends a shader's loops after about 65,535 iterations in all,
/// inner loops included: 1,024 steps of BK here are about 25,000).
const MAX_SPLIT_LEN: usize = 16_384;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    k: u32,
    r: u32,
    s: u32,
    p: u32,
    q: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    dil_h: u32,
    dil_w: u32,
    has_bias: u32,
    split_len: u32,
    splits: u32,
    len: u32,
    _pad: u32,
}

impl Params {
    fn new(spec: &Conv2dSpec, has_bias: bool) -> Params {
        // validate() has bounded every size below 2^31
        let u = |v: usize| v as u32;
        Params {
            n: u(spec.n),
            c: u(spec.c),
            h: u(spec.h),
            w: u(spec.w),
            k: u(spec.k),
            r: u(spec.r),
            s: u(spec.s),
            p: u(spec.p()),
            q: u(spec.q()),
            stride_h: u(spec.stride.0),
            stride_w: u(spec.stride.1),
            pad_h: u(spec.pad.0),
            pad_w: u(spec.pad.1),
            dil_h: u(spec.dilation.0),
            dil_w: u(spec.dilation.1),
            has_bias: has_bias as u32,
            split_len: 0,
            splits: 1,
            len: 0,
            _pad: 0,
        }
    }
}

fn check_len(op: &str, what: &str, b: &GpuBuffer, want: usize, shape: &dyn Fn() -> String) {
    assert!(
        b.len() == want,
        "{op}: {what} has {} elements, the shape needs {want} ({})",
        b.len(),
        shape()
    );
}

fn launch_direct(kernel: &Kernel, params: &Params, buffers: &[&GpuBuffer], outputs: usize) {
    gpu().launch(
        kernel,
        &[("WG", WG as f64)],
        params,
        buffers,
        groups_for(outputs),
    );
}

impl GemmTiles {
    /// Workgroups that cover an m x n output.
    fn count(&self, m: usize, n: usize) -> usize {
        m.div_ceil(self.bm) * n.div_ceil(self.bn)
    }
}

fn launch_gemm(
    kernel: &Kernel,
    tiles: &GemmTiles,
    params: &Params,
    buffers: &[&GpuBuffer],
    workgroups: usize,
) {
    let groups = u32::try_from(workgroups).expect("atelier: conv2d needs too many workgroups");
    gpu().launch(kernel, &tiles.constants(), params, buffers, groups);
}

/// y = conv2d(x, weight) (+ bias\[k\] when given).
pub fn conv2d_forward(
    variant: ConvVariant,
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    spec.validate();
    let shape = || spec.describe();
    check_len("conv2d_forward", "x", x, spec.x_len(), &shape);
    check_len("conv2d_forward", "weight", w, spec.w_len(), &shape);
    check_len("conv2d_forward", "y", y, spec.y_len(), &shape);
    if let Some(b) = bias {
        check_len("conv2d_forward", "bias", b, spec.k, &shape);
    }
    let params = Params::new(spec, bias.is_some());
    // without a bias the weight fills its binding; has_bias = 0 keeps it unread
    let buffers = [x, w, bias.unwrap_or(w), y];
    match variant.gemm() {
        None => launch_direct(&FORWARD_DIRECT, &params, &buffers, spec.y_len()),
        Some(g) => {
            let (m, n, _) = gemm_shape(spec, ConvDirection::Forward);
            launch_gemm(&g.forward, &g.tiles, &params, &buffers, g.tiles.count(m, n));
        }
    }
}

/// gx = the gradient of conv2d wrt x, given gy; plus bias\[c\] when given (which makes it
/// conv_transpose2d's forward).
fn backward_data(
    op: &str,
    variant: ConvVariant,
    spec: &Conv2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    gx: &GpuBuffer,
) {
    spec.validate();
    let shape = || spec.describe();
    check_len(op, "gy", gy, spec.y_len(), &shape);
    check_len(op, "weight", w, spec.w_len(), &shape);
    check_len(op, "gx", gx, spec.x_len(), &shape);
    if let Some(b) = bias {
        check_len(op, "bias", b, spec.c, &shape);
    }
    let params = Params::new(spec, bias.is_some());
    let buffers = [gy, w, bias.unwrap_or(w), gx];
    match variant.gemm() {
        None => launch_direct(&BACKWARD_DATA_DIRECT, &params, &buffers, spec.x_len()),
        Some(g) => {
            // one set of tiles per stride phase, each sized for the largest phase
            let (m, n, _) = gemm_shape(spec, ConvDirection::BackwardData);
            let phases = spec.stride.0 * spec.stride.1;
            launch_gemm(
                &g.backward_data,
                &g.tiles,
                &params,
                &buffers,
                phases * g.tiles.count(m, n),
            );
        }
    }
}

/// gx = the gradient of conv2d wrt x, given gy (a transposed convolution of gy).
pub fn conv2d_backward_data(
    variant: ConvVariant,
    spec: &Conv2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    gx: &GpuBuffer,
) {
    backward_data("conv2d_backward_data", variant, spec, gy, w, None, gx);
}

/// gw = the gradient of conv2d wrt the weight, given x and gy: a sum over the batch.
pub fn conv2d_backward_weight(
    variant: ConvVariant,
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    backward_weight("conv2d_backward_weight", variant, spec, x, gy, gw);
}

fn backward_weight(
    op: &str,
    variant: ConvVariant,
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    spec.validate();
    let shape = || spec.describe();
    check_len(op, "x", x, spec.x_len(), &shape);
    check_len(op, "gy", gy, spec.y_len(), &shape);
    check_len(op, "gw", gw, spec.w_len(), &shape);
    let mut params = Params::new(spec, false);
    let Some(g) = variant.gemm() else {
        launch_direct(&BACKWARD_WEIGHT_DIRECT, &params, &[x, gy, gw], spec.w_len());
        return;
    };
    let (m, n, k) = gemm_shape(spec, ConvDirection::BackwardWeight);
    let tiles = g.tiles.count(m, n);
    let (splits, split_len) = split_reduction(tiles, k, g.tiles.bk);
    params.splits = splits as u32;
    params.split_len = split_len as u32;
    if splits == 1 {
        launch_gemm(&g.backward_weight, &g.tiles, &params, &[x, gy, gw], tiles);
        return;
    }
    // each split writes its own slice of a scratch buffer; sum_splits adds them up
    let partials = GpuBuffer::uninit(splits * spec.w_len());
    launch_gemm(
        &g.backward_weight,
        &g.tiles,
        &params,
        &[x, gy, &partials],
        tiles * splits,
    );
    params.len = spec.w_len() as u32;
    let groups = spec.w_len().div_ceil(g.tiles.invocations());
    launch_gemm(&g.sum_splits, &g.tiles, &params, &[&partials, gw], groups);
}

/// How many slices (and how long each, a multiple of `bk`) backward-weight cuts its reduction
/// of length `k` into, when only `tiles` output tiles would otherwise keep the GPU busy.
fn split_reduction(tiles: usize, k: usize, bk: usize) -> (usize, usize) {
    let wanted = SPLIT_TARGET_WORKGROUPS.div_ceil(tiles);
    let most = (k / MIN_SPLIT_LEN).max(1);
    let fewest = k.div_ceil(MAX_SPLIT_LEN);
    let splits = wanted.clamp(1, most).max(fewest);
    let split_len = k.div_ceil(splits).div_ceil(bk) * bk;
    (k.div_ceil(split_len), split_len)
}

/// gb\[ch\] = sum over n and the plane of g\[n, ch, ...\], for g of shape [n, channels, plane].
fn channel_sum(n: usize, channels: usize, plane: usize, g: &GpuBuffer, gb: &GpuBuffer) {
    let params = Params {
        n: n as u32,
        k: channels as u32,
        p: plane as u32,
        q: 1,
        ..Params::zeroed()
    };
    gpu().launch(
        &CHANNEL_SUM,
        &[("WG", WG as f64)],
        &params,
        &[g, gb],
        channels as u32,
    );
}

/// gb\[k\] = sum over n, p, q of gy\[n, k, p, q\].
pub fn conv2d_backward_bias(spec: &Conv2dSpec, gy: &GpuBuffer, gb: &GpuBuffer) {
    spec.validate();
    let shape = || spec.describe();
    check_len("conv2d_backward_bias", "gy", gy, spec.y_len(), &shape);
    check_len("conv2d_backward_bias", "gb", gb, spec.k, &shape);
    channel_sum(spec.n, spec.k, spec.p() * spec.q(), gy, gb);
}

/// y = conv_transpose2d(x, weight) (+ bias\[c_out\] when given): conv2d's backward-data for
/// [`ConvTranspose2dSpec::as_conv`], with the bias added in the same kernel.
pub fn conv_transpose2d_forward(
    variant: ConvVariant,
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    spec.validate();
    backward_data(
        "conv_transpose2d_forward",
        variant,
        &spec.as_conv(),
        x,
        w,
        bias,
        y,
    );
}

/// gx = the gradient of conv_transpose2d wrt x, given gy: conv2d's forward for `as_conv`.
pub fn conv_transpose2d_backward_data(
    variant: ConvVariant,
    spec: &ConvTranspose2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    gx: &GpuBuffer,
) {
    spec.validate();
    conv2d_forward(variant, &spec.as_conv(), gy, w, None, gx);
}

/// gw = the gradient of conv_transpose2d wrt its weight `[c_in, c_out, r, s]`: conv2d's
/// backward-weight for `as_conv`, with the roles of x and gy swapped.
pub fn conv_transpose2d_backward_weight(
    variant: ConvVariant,
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    spec.validate();
    backward_weight(
        "conv_transpose2d_backward_weight",
        variant,
        &spec.as_conv(),
        gy,
        x,
        gw,
    );
}

/// gb\[c\] = sum over n, h, w of gy\[n, c, h, w\] (gy is the transposed conv's output gradient).
pub fn conv_transpose2d_backward_bias(spec: &ConvTranspose2dSpec, gy: &GpuBuffer, gb: &GpuBuffer) {
    spec.validate();
    let shape = || format!("{spec:?}");
    check_len(
        "conv_transpose2d_backward_bias",
        "gy",
        gy,
        spec.y_len(),
        &shape,
    );
    check_len(
        "conv_transpose2d_backward_bias",
        "gb",
        gb,
        spec.c_out,
        &shape,
    );
    channel_sum(spec.n, spec.c_out, spec.h_out() * spec.w_out(), gy, gb);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Conv2dSpec {
        Conv2dSpec {
            n: 2,
            c: 3,
            h: 7,
            w: 9,
            k: 4,
            r: 3,
            s: 2,
            stride: (2, 1),
            pad: (1, 0),
            dilation: (1, 2),
        }
    }

    #[test]
    fn output_size_follows_pytorch() {
        let s = spec();
        assert_eq!((s.p(), s.q()), ((7 + 2 - 2 - 1) / 2 + 1, (9 - 2 - 1) + 1));
    }

    #[test]
    #[should_panic(expected = "larger than the padded input")]
    fn impossible_shape_names_it() {
        Conv2dSpec {
            h: 2,
            r: 5,
            ..spec()
        }
        .validate();
    }

    #[test]
    fn transposed_conv_maps_back() {
        let t = ConvTranspose2dSpec {
            n: 1,
            c_in: 3,
            h_in: 5,
            w_in: 4,
            c_out: 2,
            r: 3,
            s: 3,
            stride: (2, 3),
            pad: (1, 1),
            output_padding: (1, 2),
            dilation: (1, 1),
        };
        assert_eq!(
            (t.h_out(), t.w_out()),
            (4 * 2 - 2 + 2 + 1 + 1, 3 * 3 - 2 + 2 + 2 + 1)
        );
        let c = t.as_conv();
        assert_eq!((c.p(), c.q(), c.k, c.c), (5, 4, 3, 2));
    }

    #[test]
    #[should_panic(expected = "output_padding must be smaller than the stride")]
    fn output_padding_below_stride() {
        ConvTranspose2dSpec {
            n: 1,
            c_in: 1,
            h_in: 3,
            w_in: 3,
            c_out: 1,
            r: 3,
            s: 3,
            stride: (1, 1),
            pad: (0, 0),
            output_padding: (1, 0),
            dilation: (2, 2),
        }
        .validate();
    }

    #[test]
    fn variant_names_round_trip() {
        for v in ConvVariant::ALL {
            assert_eq!(ConvVariant::from_name(v.name()), Some(v));
        }
        assert_eq!(ConvVariant::from_name("fft"), None);
    }

    #[test]
    fn env_values() {
        assert_eq!(ConvMode::from_setting("").unwrap(), ConvMode::Auto);
        assert_eq!(ConvMode::from_setting("auto").unwrap(), ConvMode::Auto);
        assert_eq!(ConvMode::from_setting("Tune").unwrap(), ConvMode::Tune);
        let forced = ConvMode::from_setting("Implicit_GEMM").unwrap();
        assert_eq!(forced, ConvMode::Fixed(ConvVariant::ImplicitGemm));
        let err = ConvMode::from_setting("fast").unwrap_err().to_string();
        assert!(
            err.contains("ATELIER_CONV") && err.contains("fast"),
            "{err}"
        );
    }

    #[test]
    fn splits_cover_the_reduction() {
        let cases = [
            (1, 1),
            (1, 100_000),
            (4, 1152),
            (300, 5000),
            (32, 65_536),
            (5000, 1 << 22),
        ];
        for (tiles, k) in cases {
            for bk in [TILES.bk, TILES_8X8.bk] {
                let (splits, len) = split_reduction(tiles, k, bk);
                assert!(len % bk == 0 && len <= MAX_SPLIT_LEN.max(bk));
                assert!(splits >= 1 && splits * len >= k && (splits - 1) * len < k);
            }
        }
    }
}
