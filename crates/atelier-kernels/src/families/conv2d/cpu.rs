//! The fast CPU device's convolutions: each direction as GEMMs over an im2col matrix, in
//! f32, on the shared thread pool.
//!
//! For one image n, the im2col matrix `col` is `[C·R·S, P·Q]`: row (c, r, s), column (p, q)
//! holds the input element that tap meets (zero on the padding). Then
//! - forward: `y[n] = W · col` (W is `[K, C·R·S]`, y\[n\] is `[K, P·Q]`), plus the bias;
//! - backward-data: `dcol = Wᵀ · gy[n]`, scattered back onto gx\[n\] (col2im);
//! - backward-weight: `gw = Σₙ gy[n] · colₙᵀ`.
//!
//! Images are split over the threads when there are at least as many as threads (each GEMM
//! then runs on one thread); otherwise the GEMMs themselves run on every thread. The im2col
//! matrix lives in a per-thread scratch vector ([`crate::cpu::scratch`]), so repeating shapes
//! allocate nothing. A transposed convolution is conv2d run the other way
//! ([`ConvTranspose2dSpec::as_conv`]): its forward is backward-data, and so on, as on the GPU.

use rayon::prelude::*;

use crate::conv2d::{Conv2dSpec, ConvTranspose2dSpec};
use crate::cpu::gemm::{Strided, sgemm};
use crate::cpu::scratch::with_scratch;
use crate::cpu::{install, threads};

fn check(op: &str, what: &str, got: usize, want: usize) {
    assert_eq!(
        got, want,
        "{op} (fast CPU): {what} has {got} elements, the shape needs {want}"
    );
}

/// Rows of the im2col matrix (C·R·S) and its columns (P·Q).
fn col_shape(spec: &Conv2dSpec) -> (usize, usize) {
    (spec.c * spec.r * spec.s, spec.p() * spec.q())
}

/// Whether the im2col matrix of one image is the image itself (a 1x1 kernel, stride 1, no
/// padding): then no copy is made.
fn col_is_input(spec: &Conv2dSpec) -> bool {
    spec.r == 1 && spec.s == 1 && spec.stride == (1, 1) && spec.pad == (0, 0)
}

/// The output positions `o` in `0..len` whose input position `o·stride + tap·dil − pad` lies
/// in `0..size`.
fn valid_range(
    len: usize,
    size: usize,
    tap: usize,
    stride: usize,
    dil: usize,
    pad: usize,
) -> std::ops::Range<usize> {
    let offset = (tap * dil) as isize - pad as isize;
    // smallest o with o·stride + offset >= 0
    let lo = if offset >= 0 {
        0
    } else {
        ((-offset) as usize).div_ceil(stride)
    };
    // largest o with o·stride + offset <= size − 1, plus one
    let top = size as isize - 1 - offset;
    let hi = if top < 0 {
        0
    } else {
        (top as usize / stride + 1).min(len)
    };
    lo.min(hi)..hi
}

/// Fills `col` (`[C·R·S, P·Q]`) from one image `x` (`[C, H, W]`).
fn im2col(spec: &Conv2dSpec, x: &[f32], col: &mut [f32]) {
    let (p_len, q_len) = (spec.p(), spec.q());
    let plane = p_len * q_len;
    for c in 0..spec.c {
        let xc = &x[c * spec.h * spec.w..(c + 1) * spec.h * spec.w];
        for r in 0..spec.r {
            let ps = valid_range(p_len, spec.h, r, spec.stride.0, spec.dilation.0, spec.pad.0);
            for s in 0..spec.s {
                let qs = valid_range(q_len, spec.w, s, spec.stride.1, spec.dilation.1, spec.pad.1);
                let row = ((c * spec.r + r) * spec.s + s) * plane;
                let dst = &mut col[row..row + plane];
                for p in 0..p_len {
                    let line = &mut dst[p * q_len..(p + 1) * q_len];
                    if !ps.contains(&p) || qs.is_empty() {
                        line.fill(0.0);
                        continue;
                    }
                    let ih = p * spec.stride.0 + r * spec.dilation.0 - spec.pad.0;
                    let iw0 = qs.start * spec.stride.1 + s * spec.dilation.1 - spec.pad.1;
                    let src = &xc[ih * spec.w..(ih + 1) * spec.w];
                    line[..qs.start].fill(0.0);
                    line[qs.end..].fill(0.0);
                    if spec.stride.1 == 1 {
                        line[qs.clone()].copy_from_slice(&src[iw0..iw0 + qs.len()]);
                    } else {
                        for (j, v) in line[qs.clone()].iter_mut().enumerate() {
                            *v = src[iw0 + j * spec.stride.1];
                        }
                    }
                }
            }
        }
    }
}

/// Adds `col` (`[C·R·S, P·Q]`) onto one image `gx` (`[C, H, W]`): the adjoint of [`im2col`].
fn col2im_add(spec: &Conv2dSpec, col: &[f32], gx: &mut [f32]) {
    let (p_len, q_len) = (spec.p(), spec.q());
    let plane = p_len * q_len;
    for c in 0..spec.c {
        let gc = &mut gx[c * spec.h * spec.w..(c + 1) * spec.h * spec.w];
        for r in 0..spec.r {
            let ps = valid_range(p_len, spec.h, r, spec.stride.0, spec.dilation.0, spec.pad.0);
            for s in 0..spec.s {
                let qs = valid_range(q_len, spec.w, s, spec.stride.1, spec.dilation.1, spec.pad.1);
                if qs.is_empty() {
                    continue;
                }
                let row = ((c * spec.r + r) * spec.s + s) * plane;
                for p in ps.clone() {
                    let ih = p * spec.stride.0 + r * spec.dilation.0 - spec.pad.0;
                    let iw0 = qs.start * spec.stride.1 + s * spec.dilation.1 - spec.pad.1;
                    let src = &col[row + p * q_len + qs.start..row + p * q_len + qs.end];
                    let dst = &mut gc[ih * spec.w..(ih + 1) * spec.w];
                    if spec.stride.1 == 1 {
                        for (d, &v) in dst[iw0..iw0 + src.len()].iter_mut().zip(src) {
                            *d += v;
                        }
                    } else {
                        for (j, &v) in src.iter().enumerate() {
                            dst[iw0 + j * spec.stride.1] += v;
                        }
                    }
                }
            }
        }
    }
}

/// Whether to split the batch over the threads (each GEMM on one thread) rather than run
/// each image's GEMMs on all of them.
fn split_batch(n: usize) -> bool {
    let t = threads();
    t > 1 && n >= t
}

/// Calls `f(image index, that image's slice of out)` for every image, in parallel over the
/// batch when [`split_batch`]; `f`'s bool says whether its GEMMs may use the threads.
fn per_image(n: usize, out: &mut [f32], f: impl Fn(usize, &mut [f32], bool) + Sync + Send) {
    let per = out.len() / n.max(1);
    if per == 0 {
        return;
    }
    if split_batch(n) {
        install(|| {
            out.par_chunks_mut(per)
                .enumerate()
                .for_each(|(i, o)| f(i, o, false))
        });
    } else {
        for (i, o) in out.chunks_mut(per).enumerate() {
            f(i, o, true);
        }
    }
}

/// `y = W · col` for one image (`y` is `[K, P·Q]`).
fn forward_image(spec: &Conv2dSpec, x: &[f32], w: &[f32], y: &mut [f32], threaded: bool) {
    let (crs, pq) = col_shape(spec);
    let product = |col: &[f32], y: &mut [f32]| {
        sgemm(
            (spec.k, pq, crs),
            w,
            Strided::rows(0, crs),
            col,
            Strided::rows(0, pq),
            y,
            Strided::rows(0, pq),
            false,
            threaded,
        )
    };
    if col_is_input(spec) {
        product(x, y);
    } else {
        with_scratch(crs * pq, |col| {
            im2col(spec, x, col);
            product(col, y);
        });
    }
}

/// y = conv2d(x, w) (+ bias\[k\]), as [`crate::conv2d::reference::conv2d_forward`].
pub fn conv2d_forward(
    spec: &Conv2dSpec,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    let op = "conv2d_forward";
    check(op, "x", x.len(), spec.x_len());
    check(op, "weight", w.len(), spec.w_len());
    check(op, "y", y.len(), spec.y_len());
    let x_img = spec.c * spec.h * spec.w;
    let plane = spec.p() * spec.q();
    per_image(spec.n, y, |i, yi, threaded| {
        forward_image(spec, &x[i * x_img..(i + 1) * x_img], w, yi, threaded);
        if let Some(b) = bias {
            add_bias(b, plane, yi);
        }
    });
    if let Some(b) = bias {
        check(op, "bias", b.len(), spec.k);
    }
}

/// Adds `bias[k]` to every element of plane k of one image (`[K, plane]`).
fn add_bias(bias: &[f32], plane: usize, y: &mut [f32]) {
    for (yk, &b) in y.chunks_mut(plane).zip(bias) {
        for v in yk {
            *v += b;
        }
    }
}

/// gx = the gradient of conv2d wrt x: `Wᵀ · gy[n]` scattered by col2im.
pub fn conv2d_backward_data(spec: &Conv2dSpec, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    let op = "conv2d_backward_data";
    check(op, "gy", gy.len(), spec.y_len());
    check(op, "weight", w.len(), spec.w_len());
    check(op, "gx", gx.len(), spec.x_len());
    let (crs, pq) = col_shape(spec);
    let y_img = spec.k * pq;
    per_image(spec.n, gx, |i, gxi, threaded| {
        let gyi = &gy[i * y_img..(i + 1) * y_img];
        let product = |dcol: &mut [f32]| {
            sgemm(
                (crs, pq, spec.k),
                w,
                Strided::transposed(0, crs),
                gyi,
                Strided::rows(0, pq),
                dcol,
                Strided::rows(0, pq),
                false,
                threaded,
            )
        };
        if col_is_input(spec) {
            product(gxi);
        } else {
            with_scratch(crs * pq, |dcol| {
                product(dcol);
                gxi.fill(0.0);
                col2im_add(spec, dcol, gxi);
            });
        }
    });
}

/// `gw += Σ gy[n] · colₙᵀ` over the images `first..first + count`.
fn accumulate_weight_grad(
    spec: &Conv2dSpec,
    x: &[f32],
    gy: &[f32],
    images: std::ops::Range<usize>,
    gw: &mut [f32],
    threaded: bool,
) {
    let (crs, pq) = col_shape(spec);
    let (x_img, y_img) = (spec.c * spec.h * spec.w, spec.k * pq);
    gw.fill(0.0);
    for i in images {
        let gyi = &gy[i * y_img..(i + 1) * y_img];
        let xi = &x[i * x_img..(i + 1) * x_img];
        let product = |col: &[f32], gw: &mut [f32]| {
            sgemm(
                (spec.k, crs, pq),
                gyi,
                Strided::rows(0, pq),
                col,
                Strided::transposed(0, pq),
                gw,
                Strided::rows(0, crs),
                true,
                threaded,
            )
        };
        if col_is_input(spec) {
            product(xi, gw);
        } else {
            with_scratch(crs * pq, |col| {
                im2col(spec, xi, col);
                product(col, gw);
            });
        }
    }
}

/// gw = the gradient of conv2d wrt w, summed over the batch. With the batch split over the
/// threads, each thread sums its images into a partial gradient, and the partials are added.
pub fn conv2d_backward_weight(spec: &Conv2dSpec, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    let op = "conv2d_backward_weight";
    check(op, "x", x.len(), spec.x_len());
    check(op, "gy", gy.len(), spec.y_len());
    check(op, "gw", gw.len(), spec.w_len());
    if !split_batch(spec.n) {
        accumulate_weight_grad(spec, x, gy, 0..spec.n, gw, true);
        return;
    }
    let parts = threads().min(spec.n);
    let per = spec.n.div_ceil(parts);
    let len = gw.len();
    with_scratch(len * (parts - 1), |partials| {
        install(|| {
            std::iter::once(&mut *gw)
                .chain(partials.chunks_mut(len))
                .collect::<Vec<_>>()
                .into_par_iter()
                .enumerate()
                .for_each(|(p, out)| {
                    let images = (p * per).min(spec.n)..((p + 1) * per).min(spec.n);
                    accumulate_weight_grad(spec, x, gy, images, out, false);
                })
        });
        for part in partials.chunks(len) {
            for (g, &v) in gw.iter_mut().zip(part) {
                *g += v;
            }
        }
    });
}

/// gb\[k\] = sum over n, p, q of gy\[n, k, p, q\].
pub fn conv2d_backward_bias(spec: &Conv2dSpec, gy: &[f32], gb: &mut [f32]) {
    check("conv2d_backward_bias", "gy", gy.len(), spec.y_len());
    check("conv2d_backward_bias", "gb", gb.len(), spec.k);
    channel_sum(spec.k, spec.p() * spec.q(), gy, gb);
}

/// gb\[c\] = sum over the planes of channel c (`g` is `[N, channels, plane]`).
fn channel_sum(channels: usize, plane: usize, g: &[f32], gb: &mut [f32]) {
    gb.fill(0.0);
    if plane == 0 {
        return;
    }
    for (i, p) in g.chunks(plane).enumerate() {
        gb[i % channels] += p.iter().sum::<f32>();
    }
}

/// y = conv_transpose2d(x, w) (+ bias): conv2d's backward-data for `as_conv`.
pub fn conv_transpose2d_forward(
    spec: &ConvTranspose2dSpec,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    spec.validate();
    conv2d_backward_data(&spec.as_conv(), x, w, y);
    if let Some(b) = bias {
        check("conv_transpose2d_forward", "bias", b.len(), spec.c_out);
        let plane = spec.h_out() * spec.w_out();
        for (i, yp) in y.chunks_mut(plane).enumerate() {
            let bi = b[i % spec.c_out];
            for v in yp {
                *v += bi;
            }
        }
    }
}

/// gx = the gradient of conv_transpose2d wrt x: conv2d's forward for `as_conv`.
pub fn conv_transpose2d_backward_data(
    spec: &ConvTranspose2dSpec,
    gy: &[f32],
    w: &[f32],
    gx: &mut [f32],
) {
    spec.validate();
    conv2d_forward(&spec.as_conv(), gy, w, None, gx);
}

/// gw = the gradient of conv_transpose2d wrt w: conv2d's backward-weight for `as_conv` with
/// the roles of x and gy swapped.
pub fn conv_transpose2d_backward_weight(
    spec: &ConvTranspose2dSpec,
    x: &[f32],
    gy: &[f32],
    gw: &mut [f32],
) {
    spec.validate();
    conv2d_backward_weight(&spec.as_conv(), gy, x, gw);
}

/// gb\[c\] = sum over n, h, w of gy\[n, c, h, w\].
pub fn conv_transpose2d_backward_bias(spec: &ConvTranspose2dSpec, gy: &[f32], gb: &mut [f32]) {
    check(
        "conv_transpose2d_backward_bias",
        "gy",
        gy.len(),
        spec.y_len(),
    );
    check("conv_transpose2d_backward_bias", "gb", gb.len(), spec.c_out);
    channel_sum(spec.c_out, spec.h_out() * spec.w_out(), gy, gb);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv2d::reference as r;
    use crate::harness::relative_error;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn err(a: &[f32], b: &[f32]) -> f64 {
        let a: Vec<f64> = a.iter().map(|&v| v as f64).collect();
        relative_error(&b.iter().map(|&v| v as f64).collect::<Vec<_>>(), &a)
    }

    /// Every direction against the reference on a strided, padded, dilated shape, with the
    /// batch both split over threads and not.
    #[test]
    fn every_direction_matches_the_reference() {
        for n in [1, 5] {
            let s = Conv2dSpec {
                n,
                c: 3,
                h: 9,
                w: 7,
                k: 5,
                r: 3,
                s: 2,
                stride: (2, 1),
                pad: (2, 1),
                dilation: (1, 2),
            };
            let (x, w, b, gy) = (
                values(s.x_len(), 1),
                values(s.w_len(), 2),
                values(s.k, 3),
                values(s.y_len(), 4),
            );
            let (mut y, mut yr) = (vec![f32::NAN; s.y_len()], vec![0.0; s.y_len()]);
            conv2d_forward(&s, &x, &w, Some(&b), &mut y);
            r::conv2d_forward(&s, &x, &w, Some(&b), &mut yr);
            assert!(err(&y, &yr) < 1e-6, "forward n={n}");
            let (mut gx, mut gxr) = (vec![f32::NAN; s.x_len()], vec![0.0; s.x_len()]);
            conv2d_backward_data(&s, &gy, &w, &mut gx);
            r::conv2d_backward_data(&s, &gy, &w, &mut gxr);
            assert!(err(&gx, &gxr) < 1e-6, "backward_data n={n}");
            let (mut gw, mut gwr) = (vec![f32::NAN; s.w_len()], vec![0.0; s.w_len()]);
            conv2d_backward_weight(&s, &x, &gy, &mut gw);
            r::conv2d_backward_weight(&s, &x, &gy, &mut gwr);
            assert!(err(&gw, &gwr) < 1e-6, "backward_weight n={n}");
        }
    }
}
