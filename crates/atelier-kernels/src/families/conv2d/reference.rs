//! CPU reference of `direct.wgsl` and `implicit_gemm.wgsl`.
//!
//! Every conv2d direction walks the same list of taps, "input element xi meets weight element
//! wi in output element yi" ([`for_each_tap`]), so forward and backward are adjoint by
//! construction. The transposed convolution has its own walk, written from its definition
//! (every input element scatters the kernel into the output), so that the GPU's route through
//! conv2d's backward-data is checked against something independent.

use crate::Real;
use crate::conv2d::{Conv2dSpec, ConvTranspose2dSpec};

fn check(op: &str, what: &str, got: usize, want: usize) {
    assert_eq!(
        got, want,
        "{op} (reference): {what} has {got} elements, the shape needs {want}"
    );
}

/// Calls `f(yi, xi, wi)` for every (n, k, p, q, c, r, s) whose input position lies inside the
/// image (taps on the zero padding contribute nothing and are skipped).
fn for_each_tap(spec: &Conv2dSpec, mut f: impl FnMut(usize, usize, usize)) {
    let (p_len, q_len) = (spec.p(), spec.q());
    for n in 0..spec.n {
        for k in 0..spec.k {
            for p in 0..p_len {
                for q in 0..q_len {
                    let yi = ((n * spec.k + k) * p_len + p) * q_len + q;
                    for c in 0..spec.c {
                        for r in 0..spec.r {
                            let ih = (p * spec.stride.0 + r * spec.dilation.0) as isize
                                - spec.pad.0 as isize;
                            if ih < 0 || ih >= spec.h as isize {
                                continue;
                            }
                            for s in 0..spec.s {
                                let iw = (q * spec.stride.1 + s * spec.dilation.1) as isize
                                    - spec.pad.1 as isize;
                                if iw < 0 || iw >= spec.w as isize {
                                    continue;
                                }
                                let xi = ((n * spec.c + c) * spec.h + ih as usize) * spec.w
                                    + iw as usize;
                                let wi = ((k * spec.c + c) * spec.r + r) * spec.s + s;
                                f(yi, xi, wi);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// y = conv2d(x, w) (+ bias\[k\]).
pub fn conv2d_forward<T: Real>(
    spec: &Conv2dSpec,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) {
    check("conv2d_forward", "x", x.len(), spec.x_len());
    check("conv2d_forward", "weight", w.len(), spec.w_len());
    check("conv2d_forward", "y", y.len(), spec.y_len());
    y.fill(T::zero());
    for_each_tap(spec, |yi, xi, wi| y[yi] += x[xi] * w[wi]);
    if let Some(b) = bias {
        check("conv2d_forward", "bias", b.len(), spec.k);
        add_channel_bias(spec.k, spec.p() * spec.q(), b, y);
    }
}

/// gx = d(sum gy * y) / dx.
pub fn conv2d_backward_data<T: Real>(spec: &Conv2dSpec, gy: &[T], w: &[T], gx: &mut [T]) {
    check("conv2d_backward_data", "gy", gy.len(), spec.y_len());
    check("conv2d_backward_data", "weight", w.len(), spec.w_len());
    check("conv2d_backward_data", "gx", gx.len(), spec.x_len());
    gx.fill(T::zero());
    for_each_tap(spec, |yi, xi, wi| gx[xi] += gy[yi] * w[wi]);
}

/// gw = d(sum gy * y) / dw, summed over the batch.
pub fn conv2d_backward_weight<T: Real>(spec: &Conv2dSpec, x: &[T], gy: &[T], gw: &mut [T]) {
    check("conv2d_backward_weight", "x", x.len(), spec.x_len());
    check("conv2d_backward_weight", "gy", gy.len(), spec.y_len());
    check("conv2d_backward_weight", "gw", gw.len(), spec.w_len());
    gw.fill(T::zero());
    for_each_tap(spec, |yi, xi, wi| gw[wi] += gy[yi] * x[xi]);
}

/// gb\[k\] = sum over n, p, q of gy\[n, k, p, q\].
pub fn conv2d_backward_bias<T: Real>(spec: &Conv2dSpec, gy: &[T], gb: &mut [T]) {
    check("conv2d_backward_bias", "gy", gy.len(), spec.y_len());
    check("conv2d_backward_bias", "gb", gb.len(), spec.k);
    channel_sum(spec.k, spec.p() * spec.q(), gy, gb);
}

fn add_channel_bias<T: Real>(channels: usize, plane: usize, bias: &[T], y: &mut [T]) {
    for (i, v) in y.iter_mut().enumerate() {
        *v += bias[(i / plane) % channels];
    }
}

fn channel_sum<T: Real>(channels: usize, plane: usize, g: &[T], gb: &mut [T]) {
    gb.fill(T::zero());
    for (i, &v) in g.iter().enumerate() {
        gb[(i / plane) % channels] += v;
    }
}

/// Calls `f(xi, yi, wi)` for every input element (n, ci, i, j) and kernel tap (co, r, s) of a
/// transposed convolution whose output position (i*stride - pad + r*dil, ...) is inside the
/// output: PyTorch's definition, a scatter of the kernel, scaled by x, into y.
fn for_each_transposed_tap(spec: &ConvTranspose2dSpec, mut f: impl FnMut(usize, usize, usize)) {
    let (h_out, w_out) = (spec.h_out(), spec.w_out());
    for n in 0..spec.n {
        for ci in 0..spec.c_in {
            for i in 0..spec.h_in {
                for j in 0..spec.w_in {
                    let xi = ((n * spec.c_in + ci) * spec.h_in + i) * spec.w_in + j;
                    for co in 0..spec.c_out {
                        for r in 0..spec.r {
                            let oh = (i * spec.stride.0 + r * spec.dilation.0) as isize
                                - spec.pad.0 as isize;
                            if oh < 0 || oh >= h_out as isize {
                                continue;
                            }
                            for s in 0..spec.s {
                                let ow = (j * spec.stride.1 + s * spec.dilation.1) as isize
                                    - spec.pad.1 as isize;
                                if ow < 0 || ow >= w_out as isize {
                                    continue;
                                }
                                let yi = ((n * spec.c_out + co) * h_out + oh as usize) * w_out
                                    + ow as usize;
                                let wi = ((ci * spec.c_out + co) * spec.r + r) * spec.s + s;
                                f(xi, yi, wi);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// y = conv_transpose2d(x, w) (+ bias\[c_out\]); w is `[c_in, c_out, r, s]`.
pub fn conv_transpose2d_forward<T: Real>(
    spec: &ConvTranspose2dSpec,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) {
    check("conv_transpose2d_forward", "x", x.len(), spec.x_len());
    check("conv_transpose2d_forward", "weight", w.len(), spec.w_len());
    check("conv_transpose2d_forward", "y", y.len(), spec.y_len());
    y.fill(T::zero());
    for_each_transposed_tap(spec, |xi, yi, wi| y[yi] += x[xi] * w[wi]);
    if let Some(b) = bias {
        check("conv_transpose2d_forward", "bias", b.len(), spec.c_out);
        add_channel_bias(spec.c_out, spec.h_out() * spec.w_out(), b, y);
    }
}

/// gx = d(sum gy * y) / dx for the transposed convolution.
pub fn conv_transpose2d_backward_data<T: Real>(
    spec: &ConvTranspose2dSpec,
    gy: &[T],
    w: &[T],
    gx: &mut [T],
) {
    check(
        "conv_transpose2d_backward_data",
        "gy",
        gy.len(),
        spec.y_len(),
    );
    check(
        "conv_transpose2d_backward_data",
        "weight",
        w.len(),
        spec.w_len(),
    );
    check(
        "conv_transpose2d_backward_data",
        "gx",
        gx.len(),
        spec.x_len(),
    );
    gx.fill(T::zero());
    for_each_transposed_tap(spec, |xi, yi, wi| gx[xi] += gy[yi] * w[wi]);
}

/// gw = d(sum gy * y) / dw for the transposed convolution, summed over the batch.
pub fn conv_transpose2d_backward_weight<T: Real>(
    spec: &ConvTranspose2dSpec,
    x: &[T],
    gy: &[T],
    gw: &mut [T],
) {
    check(
        "conv_transpose2d_backward_weight",
        "x",
        x.len(),
        spec.x_len(),
    );
    check(
        "conv_transpose2d_backward_weight",
        "gy",
        gy.len(),
        spec.y_len(),
    );
    check(
        "conv_transpose2d_backward_weight",
        "gw",
        gw.len(),
        spec.w_len(),
    );
    gw.fill(T::zero());
    for_each_transposed_tap(spec, |xi, yi, wi| gw[wi] += gy[yi] * x[xi]);
}

/// gb\[c\] = sum over n, h, w of gy\[n, c, h, w\].
pub fn conv_transpose2d_backward_bias<T: Real>(spec: &ConvTranspose2dSpec, gy: &[T], gb: &mut [T]) {
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

    /// A small deterministic pseudo-random sequence (no rand dependency in this crate).
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn spec() -> Conv2dSpec {
        Conv2dSpec {
            n: 2,
            c: 3,
            h: 7,
            w: 6,
            k: 4,
            r: 3,
            s: 2,
            stride: (2, 1),
            pad: (2, 1),
            dilation: (1, 2),
        }
    }

    #[test]
    fn hand_computed_3x3() {
        // one 3x3 input, a 2x2 kernel of ones, pad 0: each output is the sum of a 2x2 window
        let s = Conv2dSpec {
            n: 1,
            c: 1,
            h: 3,
            w: 3,
            k: 1,
            r: 2,
            s: 2,
            stride: (1, 1),
            pad: (0, 0),
            dilation: (1, 1),
        };
        let x: Vec<f64> = (1..=9).map(|v| v as f64).collect();
        let mut y = vec![0.0; 4];
        conv2d_forward(&s, &x, &[1.0; 4], Some(&[0.5]), &mut y);
        assert_eq!(y, vec![12.5, 16.5, 24.5, 28.5]);
    }

    /// The backward passes are the adjoints of the forward, which is linear in x and in w:
    /// <conv(x, w), gy> = <x, backward_data(gy, w)> = <w, backward_weight(x, gy)>.
    #[test]
    fn backward_is_the_adjoint_of_forward() {
        let s = spec();
        let (x, w, gy) = (
            values(s.x_len(), 1),
            values(s.w_len(), 2),
            values(s.y_len(), 3),
        );
        let mut y = vec![0.0; s.y_len()];
        conv2d_forward(&s, &x, &w, None, &mut y);
        let mut gx = vec![0.0; s.x_len()];
        conv2d_backward_data(&s, &gy, &w, &mut gx);
        let mut gw = vec![0.0; s.w_len()];
        conv2d_backward_weight(&s, &x, &gy, &mut gw);
        let lhs = dot(&y, &gy);
        assert!((lhs - dot(&x, &gx)).abs() < 1e-12 * lhs.abs().max(1.0));
        assert!((lhs - dot(&w, &gw)).abs() < 1e-12 * lhs.abs().max(1.0));
    }

    #[test]
    fn bias_gradient_by_finite_difference() {
        let s = spec();
        let (x, w, b, gy) = (
            values(s.x_len(), 4),
            values(s.w_len(), 5),
            values(s.k, 6),
            values(s.y_len(), 7),
        );
        let mut gb = vec![0.0; s.k];
        conv2d_backward_bias(&s, &gy, &mut gb);
        let loss = |b: &[f64]| {
            let mut y = vec![0.0; s.y_len()];
            conv2d_forward(&s, &x, &w, Some(b), &mut y);
            dot(&y, &gy)
        };
        for k in 0..s.k {
            let (mut up, mut down) = (b.clone(), b.clone());
            up[k] += 1e-6;
            down[k] -= 1e-6;
            assert!(((loss(&up) - loss(&down)) / 2e-6 - gb[k]).abs() < 1e-6);
        }
    }

    /// The transposed convolution (its own scatter) equals conv2d's backward-data for as_conv.
    #[test]
    fn transposed_forward_is_conv_backward_data() {
        let t = ConvTranspose2dSpec {
            n: 2,
            c_in: 3,
            h_in: 4,
            w_in: 5,
            c_out: 2,
            r: 3,
            s: 4,
            stride: (2, 3),
            pad: (1, 2),
            output_padding: (1, 2),
            dilation: (2, 1),
        };
        let (x, w) = (values(t.x_len(), 8), values(t.w_len(), 9));
        let mut y = vec![0.0; t.y_len()];
        conv_transpose2d_forward(&t, &x, &w, None, &mut y);
        let mut via_conv = vec![0.0; t.y_len()];
        conv2d_backward_data(&t.as_conv(), &x, &w, &mut via_conv);
        assert!(y.iter().zip(&via_conv).all(|(a, b)| (a - b).abs() < 1e-12));
    }
}
