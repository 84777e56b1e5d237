//! One image larger than a storage binding: a convolution split over blocks of channels.
//!
//! When even one image of x or y is larger than a binding (VGG's 64-channel first block at
//! 1024 px is 192 MiB), batch chunks cannot help. In NCHW a range of channels of one image is
//! contiguous, and one channel plane is small (1024² f32 = 4 MiB), so each image runs as
//! blocks of input channels × blocks of output channels, each block an ordinary convolution
//! over windows of x and y:
//!
//! - forward: y\[k-block\] = Σ over c-blocks of conv(x\[c-block\], w\[k-block, c-block\]),
//!   the bias added by the first c-block;
//! - backward-data: gx\[c-block\] = Σ over k-blocks of the same sub-convolutions' transpose;
//! - backward-weight: gw\[k-block, c-block\] from x\[c-block\] and gy\[k-block\], summed over
//!   the images;
//! - the bias gradient: per block of channels, summed over the images.
//!
//! The weight block `[kb, cb, R, S]` is copied out of the weight (rows of `cb·R·S` f32s;
//! weights are small next to activations, and a weight larger than a binding is split the
//! same way, with blocks small enough); partial sums go to scratch buffers and are added up
//! with [`add_into`]. The kernels see ordinary, smaller convolutions.

use super::spec::Conv2dSpec;
use super::variant::ConvVariant;
use crate::buffer_pool::GpuBuffer;
use crate::chunk::{
    Batched, add_into, aligned_items, chunk_items, count_chunk, items_too_big, mark_parents,
};
use crate::context::gpu;

/// Whether the images of `spec` must be split inside: one image of x (`x_len` over the
/// batch) or y (`y_len`) does not fit one binding, even alone, or the weight `w` does not.
pub(super) fn needed(spec: &Conv2dSpec, x: &GpuBuffer, y: &GpuBuffer, w: &GpuBuffer) -> bool {
    if w.binding_bytes() > crate::chunk::binding_limit() {
        return true;
    }
    let n = spec.n.max(1);
    let batched = [
        Batched {
            what: "x",
            buffer: x,
            per_item: spec.x_len() / n,
        },
        Batched {
            what: "y",
            buffer: y,
            per_item: spec.y_len() / n,
        },
    ];
    items_too_big(spec.n, &batched)
}

/// Channels per block of one image's `channels` planes of `plane` f32s (the image being
/// `image`, a window of one image), so that each block's window fits one binding.
fn block(op: &str, what: &str, image: &GpuBuffer, channels: usize, plane: usize) -> usize {
    let b = [Batched {
        what,
        buffer: image,
        per_item: plane,
    }];
    chunk_items(op, channels, &b).unwrap_or(channels)
}

/// Blocks `(first, len)` of `total` channels, `step` at a time.
fn blocks(total: usize, step: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..total)
        .step_by(step)
        .map(move |first| (first, step.min(total - first)))
}

/// The image `i` of a buffer of `per_image` f32s per image, as a window.
fn image(b: &GpuBuffer, i: usize, per_image: usize) -> GpuBuffer {
    b.window(i * per_image, per_image)
}

/// The weight block `w[k0..k0+kl, c0..c0+cl, :, :]`, copied into a buffer of its own.
fn weight_block(
    spec: &Conv2dSpec,
    w: &GpuBuffer,
    k: (usize, usize),
    c: (usize, usize),
) -> GpuBuffer {
    let rs = spec.r * spec.s;
    let ((k0, kl), (c0, cl)) = (k, c);
    let sub = GpuBuffer::uninit(kl * cl * rs);
    if cl == spec.c {
        gpu().copy(w, k0 * spec.c * rs, &sub, 0, kl * cl * rs);
    } else {
        for row in 0..kl {
            gpu().copy(
                w,
                ((k0 + row) * spec.c + c0) * rs,
                &sub,
                row * cl * rs,
                cl * rs,
            );
        }
    }
    sub
}

/// `b[first..first+len]` copied into a buffer of its own (a bias block).
fn part_of(b: &GpuBuffer, (first, len): (usize, usize)) -> GpuBuffer {
    let sub = GpuBuffer::uninit(len);
    gpu().copy(b, first, &sub, 0, len);
    sub
}

/// The planes of one image in blocks: `(x blocks, y blocks)` of channels.
struct Plan {
    cb: usize,
    kb: usize,
}

fn plan(op: &str, spec: &Conv2dSpec, x0: &GpuBuffer, y0: &GpuBuffer) -> Plan {
    let (hw, pq) = (spec.h * spec.w, spec.p() * spec.q());
    let (mut cb, mut kb) = (
        block(op, "x", x0, spec.c, hw),
        block(op, "y", y0, spec.k, pq),
    );
    // the weight block [kb, cb, R, S] (a buffer of its own) must fit one binding too: fewer
    // output channels first, then fewer input channels, each keeping windows aligned
    let limit = crate::chunk::binding_limit() as usize;
    let rs4 = spec.r * spec.s * 4;
    if kb * cb * rs4 > limit {
        // aligned blocks where they fit; where not, any block (its windows are then launched
        // on aligned copies)
        let round = |n: usize, step: usize| if n >= step { n / step * step } else { n };
        kb = kb.min(round(limit / (cb * rs4), aligned_items(pq)));
        if kb == 0 {
            kb = aligned_items(pq).min(spec.k);
            if kb * rs4 > limit {
                kb = 1;
            }
            cb = cb.min(round(limit / (kb * rs4), aligned_items(hw)));
        }
    }
    assert!(
        kb > 0 && cb > 0,
        "{op}: cannot split the weight {:?} into blocks that fit one binding of {limit} bytes",
        [spec.k, spec.c, spec.r, spec.s]
    );
    Plan { cb, kb }
}

/// The sub-convolution of one image over channel blocks `c` and `k`.
fn sub_spec(spec: &Conv2dSpec, c: (usize, usize), k: (usize, usize)) -> Conv2dSpec {
    Conv2dSpec {
        n: 1,
        c: c.1,
        k: k.1,
        ..*spec
    }
}

/// y = conv2d(x, w) (+ bias) image by image, over blocks of channels.
pub(super) fn forward(
    op: &str,
    variant: ConvVariant,
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    y: &GpuBuffer,
) {
    let (xl, yl, hw, pq) = (
        spec.x_len() / spec.n,
        spec.y_len() / spec.n,
        spec.h * spec.w,
        spec.p() * spec.q(),
    );
    for i in 0..spec.n {
        let (xi, yi) = (image(x, i, xl), image(y, i, yl));
        let Plan { cb, kb } = plan(op, spec, &xi, &yi);
        for k in blocks(spec.k, kb) {
            let y_blk = yi.window(k.0 * pq, k.1 * pq);
            let b_blk = bias.map(|b| part_of(b, k));
            for c in blocks(spec.c, cb) {
                let x_blk = xi.window(c.0 * hw, c.1 * hw);
                let (sub, wb) = (sub_spec(spec, c, k), weight_block(spec, w, k, c));
                if c.0 == 0 {
                    super::conv2d_forward_with(variant, &sub, &x_blk, &wb, b_blk.as_ref(), &y_blk);
                } else {
                    let part = GpuBuffer::uninit(y_blk.len());
                    super::conv2d_forward_with(variant, &sub, &x_blk, &wb, None, &part);
                    add_into(&y_blk, &part);
                }
                count_chunk();
            }
        }
    }
    mark_parents(&[x, y]);
}

/// gx = the gradient of conv2d wrt x (+ bias\[c\]: a transposed convolution's forward),
/// image by image, over blocks of channels. `run` is the launcher for one block.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward_data(
    op: &str,
    spec: &Conv2dSpec,
    gy: &GpuBuffer,
    w: &GpuBuffer,
    bias: Option<&GpuBuffer>,
    gx: &GpuBuffer,
    mut run: impl FnMut(&Conv2dSpec, &GpuBuffer, &GpuBuffer, Option<&GpuBuffer>, &GpuBuffer),
) {
    let (xl, yl, hw, pq) = (
        spec.x_len() / spec.n,
        spec.y_len() / spec.n,
        spec.h * spec.w,
        spec.p() * spec.q(),
    );
    for i in 0..spec.n {
        let (gxi, gyi) = (image(gx, i, xl), image(gy, i, yl));
        let Plan { cb, kb } = plan(op, spec, &gxi, &gyi);
        for c in blocks(spec.c, cb) {
            let gx_blk = gxi.window(c.0 * hw, c.1 * hw);
            let b_blk = bias.map(|b| part_of(b, c));
            for k in blocks(spec.k, kb) {
                let gy_blk = gyi.window(k.0 * pq, k.1 * pq);
                let (sub, wb) = (sub_spec(spec, c, k), weight_block(spec, w, k, c));
                if k.0 == 0 {
                    run(&sub, &gy_blk, &wb, b_blk.as_ref(), &gx_blk);
                } else {
                    let part = GpuBuffer::uninit(gx_blk.len());
                    run(&sub, &gy_blk, &wb, None, &part);
                    add_into(&gx_blk, &part);
                }
                count_chunk();
            }
        }
    }
    mark_parents(&[gy, gx]);
}

/// gw = the gradient of conv2d wrt its weight, summed over the images: each image's blocks
/// `[kb, cb, R, S]` are placed into a whole weight-sized buffer, which is added into `gw`.
/// `run` is the launcher for one block.
pub(super) fn backward_weight(
    op: &str,
    spec: &Conv2dSpec,
    x: &GpuBuffer,
    gy: &GpuBuffer,
    gw: &GpuBuffer,
    mut run: impl FnMut(&Conv2dSpec, &GpuBuffer, &GpuBuffer, &GpuBuffer),
) {
    let (xl, yl, hw, pq, rs) = (
        spec.x_len() / spec.n,
        spec.y_len() / spec.n,
        spec.h * spec.w,
        spec.p() * spec.q(),
        spec.r * spec.s,
    );
    for i in 0..spec.n {
        let (xi, gyi) = (image(x, i, xl), image(gy, i, yl));
        let Plan { cb, kb } = plan(op, spec, &xi, &gyi);
        let whole = if i == 0 {
            None
        } else {
            Some(GpuBuffer::uninit(gw.len()))
        };
        let dst = whole.as_ref().unwrap_or(gw);
        for k in blocks(spec.k, kb) {
            let gy_blk = gyi.window(k.0 * pq, k.1 * pq);
            for c in blocks(spec.c, cb) {
                let x_blk = xi.window(c.0 * hw, c.1 * hw);
                let part = GpuBuffer::uninit(k.1 * c.1 * rs);
                run(&sub_spec(spec, c, k), &x_blk, &gy_blk, &part);
                for row in 0..k.1 {
                    let at = ((k.0 + row) * spec.c + c.0) * rs;
                    gpu().copy(&part, row * c.1 * rs, dst, at, c.1 * rs);
                }
                count_chunk();
            }
        }
        if let Some(w) = &whole {
            add_into(gw, w);
        }
    }
    mark_parents(&[x, gy]);
}

/// gb\[ch\] = Σ over images and the plane of g\[n, ch, ...\] (g: `channels` planes of `plane`
/// f32s per image), image by image over blocks of channels. `run(channels, g, gb)` sums one
/// block of one image.
pub(super) fn channel_sum(
    op: &str,
    n: usize,
    channels: usize,
    plane: usize,
    g: &GpuBuffer,
    gb: &GpuBuffer,
    mut run: impl FnMut(usize, &GpuBuffer, &GpuBuffer),
) {
    let per_image = channels * plane;
    for i in 0..n {
        let gi = image(g, i, per_image);
        let step = block(op, "gy", &gi, channels, plane);
        let whole = GpuBuffer::uninit(channels);
        for c in blocks(channels, step) {
            let part = GpuBuffer::uninit(c.1);
            run(c.1, &gi.window(c.0 * plane, c.1 * plane), &part);
            gpu().copy(&part, 0, &whole, c.0, c.1);
            count_chunk();
        }
        if i == 0 {
            gpu().copy(&whole, 0, gb, 0, channels);
        } else {
            add_into(gb, &whole);
        }
    }
    mark_parents(&[g]);
}

/// Whether a bias gradient over `g` must be summed in blocks (the kernel binds it whole).
pub(super) fn sum_needed(g: &GpuBuffer) -> bool {
    g.binding_bytes() > crate::chunk::binding_limit()
}
