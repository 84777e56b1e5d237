//! Launchers for `direct.wgsl` (the direct variant, and the bias gradient) and
//! `implicit_gemm.wgsl` (the implicit-GEMM variants: 4x4 register blocks in 64x64 tiles, and
//! 8x8 blocks in 128x128 tiles).
//!
//! Each direction has a launcher that chooses the variant (`ATELIER_KERNELS=conv2d=...`, the
//! rule of [`ConvVariant::auto`] by default) and a `_with` launcher that takes it. A
//! transposed convolution is computed by the same kernels: its forward is conv2d's
//! backward-data and its backward-data is conv2d's forward (see
//! [`ConvTranspose2dSpec::as_conv`]).

use bytemuck::{Pod, Zeroable};

use super::channels;
use super::launch_igemm::{ConvGemm, gemm_kernel};
use super::spec::{Conv2dSpec, ConvTranspose2dSpec};
use super::variant::{
    ConvDirection, ConvProblem, ConvVariant, GemmTiles, MAX_SPLIT_LEN, gemm_shape,
};
use super::{BACKWARD_DATA_DIRECT, BACKWARD_WEIGHT_DIRECT, CHANNEL_SUM, FORWARD_DIRECT};
use crate::buffer_pool::GpuBuffer;
use crate::check::check_len;
use crate::chunk::{Batched, split_batch, split_batch_summed};
use crate::context::gpu;
use crate::pipeline::Kernel;

/// Runs `direction` of `spec` with the variant the settings choose: `launch(v)` records it.
fn run(spec: &Conv2dSpec, direction: ConvDirection, launch: impl FnMut(ConvVariant)) {
    crate::variant::run(&problem(spec, direction), launch);
}

fn problem(spec: &Conv2dSpec, direction: ConvDirection) -> ConvProblem {
    ConvProblem {
        spec: *spec,
        direction,
    }
}

/// backward-weight splits its reduction (N*P*Q, often long next to a small K x C*R*S output)
/// until about this many workgroups run...
const SPLIT_TARGET_WORKGROUPS: usize = 256;
/// ...while each split keeps at least this many reduction elements (and at most
/// [`MAX_SPLIT_LEN`]).
const MIN_SPLIT_LEN: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(super) struct Params {
    pub(super) n: u32,
    pub(super) c: u32,
    pub(super) h: u32,
    pub(super) w: u32,
    pub(super) k: u32,
    pub(super) r: u32,
    pub(super) s: u32,
    pub(super) p: u32,
    pub(super) q: u32,
    pub(super) stride_h: u32,
    pub(super) stride_w: u32,
    pub(super) pad_h: u32,
    pub(super) pad_w: u32,
    pub(super) dil_h: u32,
    pub(super) dil_w: u32,
    pub(super) has_bias: u32,
    pub(super) split_len: u32,
    pub(super) splits: u32,
    pub(super) len: u32,
    pub(super) _pad: u32,
}

impl Params {
    pub(super) fn new(spec: &Conv2dSpec, has_bias: bool) -> Params {
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

/// `b`, holding `len` f32s over the batch of `spec`, for [`split_batch`].
fn batched<'a>(what: &'a str, b: &'a GpuBuffer, len: usize, spec: &Conv2dSpec) -> Batched<'a> {
    Batched {
        what,
        buffer: b,
        per_item: len / spec.n.max(1),
    }
}

fn launch_direct(kernel: &Kernel, params: &Params, buffers: &[&GpuBuffer], outputs: usize) {
    gpu().launch_elements(kernel, &[], params, buffers, outputs);
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

/// y = conv2d(x, weight) (+ bias\[k\] when given), with the variant the settings choose.
pub fn conv2d_forward(
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    run(spec, ConvDirection::Forward, |v| {
        conv2d_forward_with(v, spec, x, w, bias, y)
    });
}

/// [`conv2d_forward`] with `variant`.
pub fn conv2d_forward_with(
    variant: ConvVariant,
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    let op = "conv2d_forward";
    spec.validate();
    check_len(op, "x", x, spec.x_len(), spec);
    check_len(op, "weight", w, spec.w_len(), spec);
    check_len(op, "y", y, spec.y_len(), spec);
    if let Some(b) = bias {
        check_len(op, "bias", b, spec.k, spec);
    }
    // one image larger than a binding runs in blocks of channels
    if channels::needed(spec, x, y, w) {
        return channels::forward(op, variant, spec, x, w, bias, y);
    }
    // a batch larger than a binding runs in chunks of images (each image is independent)
    let batched = [
        batched("x", x, spec.x_len(), spec),
        batched("y", y, spec.y_len(), spec),
    ];
    if split_batch(op, spec.n, &batched, |_, n, win| {
        conv2d_forward_with(
            variant,
            &Conv2dSpec { n, ..*spec },
            &win[0],
            w,
            bias,
            &win[1],
        )
    }) {
        return;
    }
    let params = Params::new(spec, bias.is_some());
    let variant = variant.for_problem(&problem(spec, ConvDirection::Forward));
    if let Some(k) = gemm_kernel(variant, ConvDirection::Forward, spec) {
        return ConvGemm::forward(spec, params, x, w, bias, y).run(k);
    }
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

/// gx = the gradient of conv2d wrt x, given gy (a transposed convolution of gy), with the
/// variant the settings choose.
pub fn conv2d_backward_data(spec: &Conv2dSpec, gy: &GpuBuffer, w: &GpuBuffer, gx: &GpuBuffer) {
    run(spec, ConvDirection::BackwardData, |v| {
        conv2d_backward_data_with(v, spec, gy, w, gx)
    });
}

/// [`conv2d_backward_data`] with `variant`.
pub fn conv2d_backward_data_with(
    variant: ConvVariant,
    spec: &Conv2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    gx: &GpuBuffer,
) {
    backward_data("conv2d_backward_data", variant, spec, gy, w, None, gx);
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
    check_len(op, "gy", gy, spec.y_len(), spec);
    check_len(op, "weight", w, spec.w_len(), spec);
    check_len(op, "gx", gx, spec.x_len(), spec);
    if let Some(b) = bias {
        check_len(op, "bias", b, spec.c, spec);
    }
    if channels::needed(spec, gx, gy, w) {
        let launch =
            |s: &Conv2dSpec,
             gy: &GpuBuffer,
             w: &GpuBuffer,
             b: Option<&GpuBuffer>,
             gx: &GpuBuffer| { backward_data(op, variant, s, gy, w, b, gx) };
        return channels::backward_data(op, spec, gy, w, bias, gx, launch);
    }
    let batched = [
        batched("gy", gy, spec.y_len(), spec),
        batched("gx", gx, spec.x_len(), spec),
    ];
    if split_batch(op, spec.n, &batched, |_, n, win| {
        let chunk = Conv2dSpec { n, ..*spec };
        backward_data(op, variant, &chunk, &win[0], w, bias, &win[1])
    }) {
        return;
    }
    let params = Params::new(spec, bias.is_some());
    let variant = variant.for_problem(&problem(spec, ConvDirection::BackwardData));
    if let Some(k) = gemm_kernel(variant, ConvDirection::BackwardData, spec) {
        return ConvGemm::backward_data(spec, params, gy, w, bias, gx).run(k);
    }
    let buffers = [gy, w, bias.unwrap_or(w), gx];
    match variant.gemm() {
        None => launch_direct(&BACKWARD_DATA_DIRECT, &params, &buffers, spec.x_len()),
        Some(g) => {
            // one set of tiles per stride phase, each sized for the largest phase
            let (m, n, _) = gemm_shape(spec, ConvDirection::BackwardData);
            let phases = spec.stride.0 * spec.stride.1;
            let tiles = phases * g.tiles.count(m, n);
            launch_gemm(&g.backward_data, &g.tiles, &params, &buffers, tiles);
        }
    }
}

/// gw = the gradient of conv2d wrt the weight, given x and gy (a sum over the batch), with
/// the variant the settings choose.
pub fn conv2d_backward_weight(spec: &Conv2dSpec, x: &GpuBuffer, gy: &GpuBuffer, gw: &GpuBuffer) {
    run(spec, ConvDirection::BackwardWeight, |v| {
        conv2d_backward_weight_with(v, spec, x, gy, gw)
    });
}

/// [`conv2d_backward_weight`] with `variant`.
pub fn conv2d_backward_weight_with(
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
    check_len(op, "x", x, spec.x_len(), spec);
    check_len(op, "gy", gy, spec.y_len(), spec);
    check_len(op, "gw", gw, spec.w_len(), spec);
    // coop_f16 computes forward and backward-data; the weight gradient stays in fp32
    let variant = if variant == ConvVariant::CoopF16 {
        let problem = ConvProblem {
            spec: *spec,
            direction: ConvDirection::BackwardWeight,
        };
        <ConvVariant as crate::variant::Variant>::auto(&problem)
    } else {
        variant
    };
    if channels::needed(spec, x, gy, gw) {
        let launch = |s: &Conv2dSpec, x: &GpuBuffer, gy: &GpuBuffer, gw: &GpuBuffer| {
            backward_weight(op, variant, s, x, gy, gw)
        };
        return channels::backward_weight(op, spec, x, gy, gw, launch);
    }
    // the gradient sums over the batch: chunks of images, their sums added up
    let batched = [
        batched("x", x, spec.x_len(), spec),
        batched("gy", gy, spec.y_len(), spec),
    ];
    if split_batch_summed(op, spec.n, &batched, &[gw], |_, n, win, out| {
        let chunk = Conv2dSpec { n, ..*spec };
        backward_weight(op, variant, &chunk, &win[0], &win[1], out[0])
    }) {
        return;
    }
    let mut params = Params::new(spec, false);
    let variant = variant.for_problem(&problem(spec, ConvDirection::BackwardWeight));
    if let Some(k) = gemm_kernel(variant, ConvDirection::BackwardWeight, spec) {
        return ConvGemm::backward_weight(spec, params, x, gy, gw).run(k);
    }
    let Some(g) = variant.gemm() else {
        launch_direct(&BACKWARD_WEIGHT_DIRECT, &params, &[x, gy, gw], spec.w_len());
        return;
    };
    let (m, n, k) = gemm_shape(spec, ConvDirection::BackwardWeight);
    let tiles = g.tiles.count(m, n);
    // the splits' partial gradients are bound as one buffer: no more splits than it binds
    let bound = (crate::chunk::binding_limit() / (spec.w_len() as u64 * 4)).max(1) as usize;
    let (splits, split_len) = split_reduction(tiles, k, g.tiles.bk, bound);
    params.splits = splits as u32;
    params.split_len = split_len as u32;
    if splits == 1 {
        launch_gemm(&g.backward_weight, &g.tiles, &params, &[x, gy, gw], tiles);
        return;
    }
    // each split writes its own slice of a scratch buffer; sum_splits adds them up
    let partials = GpuBuffer::uninit(splits * spec.w_len());
    let all = tiles * splits;
    launch_gemm(
        &g.backward_weight,
        &g.tiles,
        &params,
        &[x, gy, &partials],
        all,
    );
    params.len = spec.w_len() as u32;
    let groups = spec.w_len().div_ceil(g.tiles.invocations());
    launch_gemm(&g.sum_splits, &g.tiles, &params, &[&partials, gw], groups);
}

/// How many slices (and how long each, a multiple of `bk`) backward-weight cuts its reduction
/// of length `k` into, when only `tiles` output tiles would otherwise keep the GPU busy (at most
/// `bound` for the split itself; the longest slice may still ask for more).
fn split_reduction(tiles: usize, k: usize, bk: usize, bound: usize) -> (usize, usize) {
    let wanted = SPLIT_TARGET_WORKGROUPS.div_ceil(tiles).min(bound);
    let most = (k / MIN_SPLIT_LEN).max(1);
    let fewest = k.div_ceil(MAX_SPLIT_LEN);
    let splits = wanted.clamp(1, most).max(fewest);
    let split_len = k.div_ceil(splits).div_ceil(bk) * bk;
    (k.div_ceil(split_len), split_len)
}

/// gb\[ch\] = sum over n and the plane of g\[n, ch, ...\], for g of shape [n, channels, plane].
fn channel_sum(n: usize, channels: usize, plane: usize, g: &GpuBuffer, gb: &GpuBuffer) {
    if channels::sum_needed(g) {
        let launch = |c: usize, g: &GpuBuffer, gb: &GpuBuffer| channel_sum(1, c, plane, g, gb);
        return channels::channel_sum("conv2d bias gradient", n, channels, plane, g, gb, launch);
    }
    let params = Params {
        n: n as u32,
        k: channels as u32,
        p: plane as u32,
        q: 1,
        ..Params::zeroed()
    };
    gpu().launch(&CHANNEL_SUM, &[], &params, &[g, gb], channels as u32);
}

/// gb\[k\] = sum over n, p, q of gy\[n, k, p, q\].
pub fn conv2d_backward_bias(spec: &Conv2dSpec, gy: &GpuBuffer, gb: &GpuBuffer) {
    spec.validate();
    check_len("conv2d_backward_bias", "gy", gy, spec.y_len(), spec);
    check_len("conv2d_backward_bias", "gb", gb, spec.k, spec);
    channel_sum(spec.n, spec.k, spec.p() * spec.q(), gy, gb);
}

/// y = conv_transpose2d(x, weight) (+ bias\[c_out\] when given), with the variant the
/// settings choose for conv2d's backward-data of [`ConvTranspose2dSpec::as_conv`].
pub fn conv_transpose2d_forward(
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    run(&spec.as_conv(), ConvDirection::BackwardData, |v| {
        conv_transpose2d_forward_with(v, spec, x, w, bias, y)
    });
}

/// [`conv_transpose2d_forward`] with `variant`: conv2d's backward-data for `as_conv`, with the
/// bias added in the same kernel.
pub fn conv_transpose2d_forward_with(
    variant: ConvVariant,
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    spec.validate();
    let conv = spec.as_conv();
    backward_data("conv_transpose2d_forward", variant, &conv, x, w, bias, y);
}

/// gx = the gradient of conv_transpose2d wrt x, given gy: conv2d's forward for `as_conv`, with
/// the variant the settings choose for it.
pub fn conv_transpose2d_backward_data(
    spec: &ConvTranspose2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    gx: &GpuBuffer,
) {
    run(&spec.as_conv(), ConvDirection::Forward, |v| {
        conv_transpose2d_backward_data_with(v, spec, gy, w, gx)
    });
}

/// [`conv_transpose2d_backward_data`] with `variant`.
pub fn conv_transpose2d_backward_data_with(
    variant: ConvVariant,
    spec: &ConvTranspose2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    gx: &GpuBuffer,
) {
    spec.validate();
    conv2d_forward_with(variant, &spec.as_conv(), gy, w, None, gx);
}

/// gw = the gradient of conv_transpose2d wrt its weight `[c_in, c_out, r, s]`: conv2d's
/// backward-weight for `as_conv` with the roles of x and gy swapped, with the variant the
/// settings choose for it.
pub fn conv_transpose2d_backward_weight(
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    run(&spec.as_conv(), ConvDirection::BackwardWeight, |v| {
        conv_transpose2d_backward_weight_with(v, spec, x, gy, gw)
    });
}

/// [`conv_transpose2d_backward_weight`] with `variant`.
pub fn conv_transpose2d_backward_weight_with(
    variant: ConvVariant,
    spec: &ConvTranspose2dSpec,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
) {
    spec.validate();
    let conv = spec.as_conv();
    backward_weight(
        "conv_transpose2d_backward_weight",
        variant,
        &conv,
        gy,
        x,
        gw,
    );
}

/// gb\[c\] = sum over n, h, w of gy\[n, c, h, w\] (gy is the transposed conv's output gradient).
pub fn conv_transpose2d_backward_bias(spec: &ConvTranspose2dSpec, gy: &GpuBuffer, gb: &GpuBuffer) {
    spec.validate();
    let op = "conv_transpose2d_backward_bias";
    check_len(op, "gy", gy, spec.y_len(), spec);
    check_len(op, "gb", gb, spec.c_out, spec);
    channel_sum(spec.n, spec.c_out, spec.h_out() * spec.w_out(), gy, gb);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv2d::{TILES, TILES_8X8};

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
                let (splits, len) = split_reduction(tiles, k, bk, usize::MAX);
                assert!(len % bk == 0 && len <= MAX_SPLIT_LEN.max(bk));
                assert!(splits >= 1 && splits * len >= k && (splits - 1) * len < k);
            }
        }
    }
}
