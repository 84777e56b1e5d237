//! A CPU emulation of `coop_f16`'s arithmetic, and the test that its stated error bound
//! (`coop.rs`) holds: every input rounded to f16 (the `half` crate, round to nearest), each
//! product exact in f32, the products of one output accumulated in f32 in the shader's order
//! (j ascending, 16 per step) within each split-K slice the launcher would choose, the slices
//! summed in f32 in order and the bias added last, as `igemm_sum_splits` does. Compared with
//! the f64 reference at the DCGAN layers and at awkward sizes (odd, strided past the kernel,
//! dilated, split-K, inputs small enough to be f16 subnormals), element by element.
//!
//! Lavapipe cannot run the shader; this checks the bound itself, and `xtask validate` checks
//! the GPU's results against the same bound (with the accumulation's unit doubled) where an
//! adapter runs it.

use half::f16;

use super::Conv2dSpec;
use super::coop::{BM, BN, ErrorBound, F32_UNIT, magnitude_sums};
use super::igemm::split_k;
use super::launch_igemm::phase_taps;
use super::reference as r;
use super::variant::MAX_SPLIT_LEN;
use crate::harness::networks::{dcgan_discriminator, dcgan_generator};

fn round_f16(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| f16::from_f32(*x).to_f32()).collect()
}

fn tiles(m: usize, n: usize) -> usize {
    m.div_ceil(BM) * n.div_ceil(BN)
}

/// The split-K slice length the launcher picks (the partial sums' binding unbounded).
fn slice_len(workgroups_per_slice: usize, k: usize) -> usize {
    split_k(workgroups_per_slice, k, MAX_SPLIT_LEN, usize::MAX).1
}

/// The slices' f32 partial sums, summed in order, plus the bias.
fn finish(partials: &[f32], bias: f32) -> f32 {
    let mut acc = 0.0f32;
    for p in partials {
        acc += p;
    }
    acc + bias
}

/// The emulated result and, in f64, the sums its bound needs: Σ|ab| and Σ(|a| + |b|) over the
/// taps that land, per output.
struct Emulated {
    out: Vec<f32>,
    products: Vec<f64>,
    inputs: Vec<f64>,
}

impl Emulated {
    fn new(len: usize) -> Emulated {
        Emulated {
            out: vec![0.0; len],
            products: vec![0.0; len],
            inputs: vec![0.0; len],
        }
    }

    /// One tap of output `o` (the sums from the unrounded inputs).
    fn tap(&mut self, o: usize, a: f32, b: f32) {
        self.products[o] += (a as f64 * b as f64).abs();
        self.inputs[o] += (a as f64).abs() + (b as f64).abs();
    }
}

/// The forward's GEMM: M = N*P*Q, N = K, j = (c, r, s).
fn forward(spec: &Conv2dSpec, x: &[f32], w: &[f32], bias: &[f32]) -> Emulated {
    let (p_len, q_len) = (spec.p(), spec.q());
    let crs = spec.c * spec.r * spec.s;
    let len = slice_len(tiles(spec.n * p_len * q_len, spec.k), crs);
    let (xh, wh) = (round_f16(x), round_f16(w));
    let mut partials = vec![0.0f32; crs.div_ceil(len)];
    let mut y = Emulated::new(spec.y_len());
    for n in 0..spec.n {
        for k in 0..spec.k {
            for p in 0..p_len {
                for q in 0..q_len {
                    partials.fill(0.0);
                    let yi = ((n * spec.k + k) * p_len + p) * q_len + q;
                    for j in 0..crs {
                        let (c, rr, s) = (j / (spec.r * spec.s), (j / spec.s) % spec.r, j % spec.s);
                        let ih = (p * spec.stride.0 + rr * spec.dilation.0) as isize
                            - spec.pad.0 as isize;
                        let iw = (q * spec.stride.1 + s * spec.dilation.1) as isize
                            - spec.pad.1 as isize;
                        if ih < 0 || iw < 0 || ih >= spec.h as isize || iw >= spec.w as isize {
                            continue; // a zero of the padding adds exactly nothing
                        }
                        let xi = ((n * spec.c + c) * spec.h + ih as usize) * spec.w + iw as usize;
                        partials[j / len] += xh[xi] * wh[k * crs + j];
                        y.tap(yi, x[xi], w[k * crs + j]);
                    }
                    y.out[yi] = finish(&partials, bias[k]);
                }
            }
        }
    }
    y
}

/// The taps of one stride phase along an axis for input row `i`: r with r*dil ≡ i + pad
/// (mod stride), ascending (as `phase_of` numbers them), and the output rows they read.
fn phase_taps_of(
    i: usize,
    taps: usize,
    stride: usize,
    pad: usize,
    dil: usize,
    out: usize,
) -> Vec<(usize, Option<usize>)> {
    (0..taps)
        .filter(|t| (t * dil) % stride == (i + pad) % stride)
        .map(|t| {
            let o = (i + pad) as isize - (t * dil) as isize;
            let row = (o >= 0 && (o as usize) / stride < out).then(|| o as usize / stride);
            (t, row)
        })
        .collect()
}

/// Backward-data's GEMM, per stride phase: M = input pixels of the phase, N = C,
/// j = (k, tr, ts) over the phase's taps; plus bias\[c\] (conv_transpose2d's forward).
fn backward_data(spec: &Conv2dSpec, gy: &[f32], w: &[f32], bias: &[f32]) -> Emulated {
    let (p_len, q_len) = (spec.p(), spec.q());
    let (sh, sw) = spec.stride;
    let m = spec.n * spec.h.div_ceil(sh) * spec.w.div_ceil(sw);
    let k_max =
        spec.k * phase_taps(spec.r, sh, spec.dilation.0) * phase_taps(spec.s, sw, spec.dilation.1);
    let len = slice_len(sh * sw * tiles(m, spec.c), k_max);
    let (gyh, wh) = (round_f16(gy), round_f16(w));
    let mut partials = vec![0.0f32; k_max.div_ceil(len)];
    let mut gx = Emulated::new(spec.x_len());
    for ih in 0..spec.h {
        let rows = phase_taps_of(ih, spec.r, sh, spec.pad.0, spec.dilation.0, p_len);
        for iw in 0..spec.w {
            let cols = phase_taps_of(iw, spec.s, sw, spec.pad.1, spec.dilation.1, q_len);
            let (ny, nz) = (rows.len().max(1), cols.len().max(1));
            for n in 0..spec.n {
                for (c, &bias_c) in bias.iter().enumerate().take(spec.c) {
                    partials.fill(0.0);
                    let xi = ((n * spec.c + c) * spec.h + ih) * spec.w + iw;
                    for k in 0..spec.k {
                        for (tr, &(rr, p)) in rows.iter().enumerate() {
                            for (ts, &(s, q)) in cols.iter().enumerate() {
                                let (Some(p), Some(q)) = (p, q) else { continue };
                                let j = (k * ny + tr) * nz + ts;
                                let yi = ((n * spec.k + k) * p_len + p) * q_len + q;
                                let wi = ((k * spec.c + c) * spec.r + rr) * spec.s + s;
                                partials[j / len] += gyh[yi] * wh[wi];
                                gx.tap(xi, gy[yi], w[wi]);
                            }
                        }
                    }
                    gx.out[xi] = finish(&partials, bias_c);
                }
            }
        }
    }
    gx
}

/// Checks `got` against the f64 reference `want` within the bound; returns the worst
/// error / bound.
fn within_bound(
    what: &str,
    got: &[f32],
    want: &[f64],
    sums: (Vec<f64>, Vec<f64>),
    bias: &[f64],
    bound: ErrorBound,
) -> f64 {
    let (products, inputs) = sums;
    let mut worst = 0.0f64;
    for i in 0..want.len() {
        let err = (got[i] as f64 - want[i]).abs();
        let b = bound.of(products[i], inputs[i], bias[i].abs());
        assert!(
            err <= b,
            "{what}: element {i}: |{} - {}| = {err:e} exceeds the bound {b:e}",
            got[i],
            want[i]
        );
        worst = worst.max(err / b);
    }
    worst
}

/// Deterministic inputs in [-scale, scale): a small LCG, so the test needs no seed plumbing.
fn inputs(len: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|x| *x as f64).collect()
}

/// Both directions of `spec` (inputs scaled by `scale`), checked; the worst error / bound.
fn check_spec(name: &str, spec: &Conv2dSpec, scale: f32) -> f64 {
    let x = inputs(spec.x_len(), 1, scale);
    let w = inputs(spec.w_len(), 2, 1.0);
    let gy = inputs(spec.y_len(), 3, scale);
    let (xd, wd, gyd) = (f64s(&x), f64s(&w), f64s(&gy));

    let bias = inputs(spec.k, 4, 1.0);
    let bias_y: Vec<f64> = {
        let plane = spec.p() * spec.q();
        (0..spec.y_len())
            .map(|i| bias[(i / plane) % spec.k] as f64)
            .collect()
    };
    let mut want = vec![0.0; spec.y_len()];
    r::conv2d_forward(spec, &xd, &wd, Some(&f64s(&bias)), &mut want);
    let got = forward(spec, &x, &w, &bias);
    let sums = (got.products, got.inputs);
    let got = got.out;
    let terms = spec.c * spec.r * spec.s + 1;
    let bound = ErrorBound {
        accumulate_unit: F32_UNIT,
        terms,
    };
    let forward_worst = within_bound(
        &format!("{name} forward"),
        &got,
        &want,
        sums,
        &bias_y,
        bound,
    );

    let bias = inputs(spec.c, 5, 1.0);
    let bias_x: Vec<f64> = {
        let plane = spec.h * spec.w;
        (0..spec.x_len())
            .map(|i| bias[(i / plane) % spec.c] as f64)
            .collect()
    };
    let mut want = vec![0.0; spec.x_len()];
    r::conv2d_backward_data(spec, &gyd, &wd, &mut want);
    for (v, b) in want.iter_mut().zip(&bias_x) {
        *v += b;
    }
    let got = backward_data(spec, &gy, &w, &bias);
    let sums = (got.products, got.inputs);
    let got = got.out;
    let (sh, sw) = spec.stride;
    let terms =
        spec.k * phase_taps(spec.r, sh, spec.dilation.0) * phase_taps(spec.s, sw, spec.dilation.1)
            + 1;
    let bound = ErrorBound {
        accumulate_unit: F32_UNIT,
        terms,
    };
    let data_worst = within_bound(
        &format!("{name} backward-data"),
        &got,
        &want,
        sums,
        &bias_x,
        bound,
    );
    forward_worst.max(data_worst)
}

#[allow(clippy::too_many_arguments)]
fn conv(
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    rs: usize,
    stride: usize,
    pad: usize,
    dil: usize,
) -> Conv2dSpec {
    Conv2dSpec {
        n,
        c,
        h,
        w,
        k,
        r: rs,
        s: rs,
        stride: (stride, stride),
        pad: (pad, pad),
        dilation: (dil, dil),
    }
}

#[test]
fn the_emulated_f16_arithmetic_stays_within_its_bound_at_dcgan_layers() {
    use rayon::prelude::*;
    // the discriminator's convolutions both ways; of the generator, G1 (the latent, 1x1
    // input): G2-G5 as convolutions are D4-D1's shapes, whose backward-data runs here already
    // each at its full reduction (channels, kernel, stride, padding: the length and the
    // split-K of every output's sum), on an input cropped to 4x4 (a 2x2 output) so the test
    // stays fast
    let cropped = |mut spec: Conv2dSpec| {
        spec.h = spec.h.min(4);
        spec.w = spec.w.min(4);
        spec
    };
    let mut layers: Vec<(String, Conv2dSpec)> = dcgan_discriminator(1)
        .into_iter()
        .map(|l| (l.name, cropped(l.spec)))
        .collect();
    let g1 = &dcgan_generator(1)[0];
    layers.push((g1.name.clone(), g1.spec.as_conv()));
    let worst = layers
        .par_iter()
        .map(|(name, spec)| check_spec(name, spec, 1.0))
        .reduce(|| 0.0, f64::max);
    // the bound is not vacuous: the f16 rounding uses a visible part of it
    assert!(
        worst > 1e-3,
        "worst error / bound {worst:e}: is the rounding emulated?"
    );
}

#[test]
fn the_emulated_f16_arithmetic_stays_within_its_bound_at_awkward_sizes() {
    let cases = [
        ("odd 3x3 pad 1", conv(2, 5, 7, 9, 6, 3, 1, 1, 1), 1.0),
        (
            "stride 3 > kernel 2",
            conv(1, 3, 11, 10, 17, 2, 3, 0, 1),
            1.0,
        ),
        ("dilation 2 stride 2", conv(1, 4, 9, 9, 5, 3, 2, 2, 2), 1.0),
        (
            "long reduction (split-K)",
            conv(1, 300, 6, 6, 20, 3, 1, 1, 1),
            1.0,
        ),
        (
            "1x1, past a 64 tile",
            conv(1, 70, 9, 9, 67, 1, 1, 0, 1),
            1.0,
        ),
        // gradients and activations near f16's subnormals (2^-14 = 6.1e-5)
        ("small values", conv(1, 16, 8, 8, 8, 4, 2, 1, 1), 1e-5),
    ];
    for (name, spec, scale) in cases {
        check_spec(name, &spec, scale);
    }
}

#[test]
fn the_bound_catches_arithmetic_coarser_than_f16() {
    // rounding the inputs to 8 significant bits (bfloat16's) instead of f16's 11 breaks it
    let spec = conv(1, 32, 8, 8, 16, 3, 1, 1, 1);
    // positive inputs: the truncation's errors add up instead of cancelling
    let positive = |v: Vec<f32>| -> Vec<f32> { v.iter().map(|x| x.abs()).collect() };
    let x = positive(inputs(spec.x_len(), 1, 1.0));
    let w = positive(inputs(spec.w_len(), 2, 1.0));
    let coarse = |v: &[f32]| -> Vec<f32> {
        v.iter()
            .map(|x| f32::from_bits(x.to_bits() & !0xffff))
            .collect()
    };
    let (xd, wd) = (f64s(&x), f64s(&w));
    let mut want = vec![0.0; spec.y_len()];
    r::conv2d_forward(&spec, &xd, &wd, None, &mut want);
    let zero = vec![0.0f32; spec.k];
    let got = forward(&spec, &coarse(&x), &coarse(&w), &zero).out;
    let sums = magnitude_sums(&x, &w, spec.y_len(), |a, b, o| {
        r::conv2d_forward(&spec, a, b, None, o)
    });
    let bound = ErrorBound {
        accumulate_unit: F32_UNIT,
        terms: spec.c * 9 + 1,
    };
    let result = std::panic::catch_unwind(|| {
        within_bound("coarse", &got, &want, sums, &vec![0.0; spec.y_len()], bound)
    });
    assert!(result.is_err(), "the bound accepted 8-bit inputs");
}
