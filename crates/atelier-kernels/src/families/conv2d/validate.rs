//! Validation of `direct.wgsl` and `implicit_gemm.wgsl`: conv2d and
//! conv_transpose2d, every direction, every variant, against the CPU reference in f64. The
//! reference's backward is itself checked against finite differences of its forward.

use super::cpu as f;
use super::reference as r;
use super::validate_coop;
use super::{self as k, Conv2dSpec, ConvDirection, ConvProblem, ConvTranspose2dSpec, ConvVariant};
use crate::variant::Variant;
use crate::{GpuBuffer, gpu};

use crate::harness::numeric::{TOL_FINITE_DIFF, dot, numeric_gradient, to_f32, to_f64};
use crate::harness::{TOL_FORWARD, TOL_GRAD, Validator};

/// The rows this file reports; a family runs when the filter matches any of its rows.
const CONV_ROWS: [&str; 5] = [
    "conv2d.forward",
    "conv2d.backward_data",
    "conv2d.backward_weight",
    "conv2d.backward_bias",
    "conv2d.reference_backward",
];
const TRANSPOSED_ROWS: [&str; 5] = [
    "conv_transpose2d.forward",
    "conv_transpose2d.backward_data",
    "conv_transpose2d.backward_weight",
    "conv_transpose2d.backward_bias",
    "conv_transpose2d.reference_backward",
];

/// The cases `cargo test` runs (every variant, every direction).
const SMOKE_CASES: [&str; 4] = [
    "odd 3x3 pad 1",
    "stride 3 > kernel 2",
    "DCGAN 4x4 stride 2 pad 1",
    "D's last layer, split dot",
];

/// The cases the generated `igemm*` variants run. Each case compiles a pipeline per
/// direction (the geometry is override constants), and lavapipe takes seconds to compile an
/// unrolled 8x8 inner product, so they run a chosen set: small odd shapes, dilation with
/// stride (phases without taps), outputs and reductions past every tile, split-K in every
/// direction, primes. The 128x64 and 64x128 tiles share every line of code but the tile
/// constants with the other two and run the cases past every tile; the smoke level (`cargo
/// test`) runs each tile on one DCGAN layer.
fn igemm_runs(v: &Validator, variant: ConvVariant, case: &str) -> bool {
    const FULL: [&str; 7] = [
        "odd 3x3 pad 1",
        "dilation 2 stride 2 (taps skip odd phases)",
        "larger than a 128 tile",
        "larger than a 128 tile, 1x1",
        "larger than a 128 tile, whole quads (vec4 loads)",
        "long reduction (split-K)",
        "long reductions, primes",
    ];
    const TRANSPOSED: [&str; 2] = ["DCGAN 4x4 stride 2 pad 1", "3x3 stride 2 output_padding 1"];
    if variant.igemm().is_none() {
        return true;
    }
    let square = matches!(variant, ConvVariant::Igemm128x128 | ConvVariant::Igemm64x64);
    if v.smoke() {
        return case == "DCGAN 4x4 stride 2 pad 1";
    }
    if TRANSPOSED.contains(&case) {
        return square || case == TRANSPOSED[0];
    }
    if square {
        FULL.contains(&case)
    } else {
        case.starts_with("larger than a 128 tile")
    }
}

#[allow(clippy::too_many_arguments)]
fn conv(
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    r: usize,
    s: usize,
    stride: usize,
    pad: usize,
) -> Conv2dSpec {
    Conv2dSpec {
        n,
        c,
        h,
        w,
        k,
        r,
        s,
        stride: (stride, stride),
        pad: (pad, pad),
        dilation: (1, 1),
    }
}

/// Awkward shapes: odd sizes, stride > kernel, padding >= kernel/2, 1x1 kernels, dilation,
/// batch 1, more rows, columns and reduction than one 64x64x16 tile (and than one 128x128x8
/// tile, in every direction), a DCGAN layer, and a reduction long enough for backward-weight
/// to split it.
fn conv_cases(v: &mut Validator) -> Vec<(String, Conv2dSpec)> {
    let mut cases = vec![
        ("odd 3x3 pad 1", conv(2, 3, 7, 9, 5, 3, 3, 1, 1)),
        ("stride 3 > kernel 2", conv(2, 4, 11, 10, 3, 2, 2, 3, 0)),
        (
            "5x5 pad (3, 2)",
            Conv2dSpec {
                pad: (3, 2),
                ..conv(2, 2, 8, 7, 4, 5, 5, 1, 0)
            },
        ),
        (
            "3x5 stride (2, 1) pad (1, 2)",
            Conv2dSpec {
                stride: (2, 1),
                pad: (1, 2),
                ..conv(1, 3, 9, 13, 6, 3, 5, 1, 0)
            },
        ),
        ("1x1", conv(3, 17, 5, 5, 19, 1, 1, 1, 0)),
        ("1x1 stride 2", conv(2, 8, 9, 9, 5, 1, 1, 2, 0)),
        (
            "3x3 dilation 2 pad 2",
            Conv2dSpec {
                dilation: (2, 2),
                ..conv(2, 3, 12, 11, 4, 3, 3, 1, 2)
            },
        ),
        (
            "dilation (1, 3) stride 2",
            Conv2dSpec {
                dilation: (1, 3),
                ..conv(2, 3, 10, 12, 5, 2, 3, 2, 1)
            },
        ),
        (
            "dilation 2 stride 2 (taps skip odd phases)",
            Conv2dSpec {
                dilation: (2, 2),
                ..conv(2, 3, 11, 10, 4, 3, 3, 2, 1)
            },
        ),
        (
            "stride (4, 3) > input 3x7",
            Conv2dSpec {
                stride: (4, 3),
                ..conv(1, 2, 3, 7, 3, 1, 2, 1, 0)
            },
        ),
        (
            "batch 1, 3x2 pad (1, 0)",
            Conv2dSpec {
                pad: (1, 0),
                ..conv(1, 5, 13, 6, 7, 3, 2, 1, 0)
            },
        ),
        ("larger than a tile", conv(2, 20, 19, 19, 70, 3, 3, 1, 1)),
        // forward 169 x 131 (x 81), backward-weight 131 x 81 (x 169)
        (
            "larger than a 128 tile",
            conv(1, 9, 13, 13, 131, 3, 3, 1, 1),
        ),
        // backward-data 144 x 130 (x 3)
        (
            "larger than a 128 tile, 1x1",
            conv(1, 130, 12, 12, 3, 1, 1, 1, 0),
        ),
        // C*R*S = 128 and P*Q = 196: the igemm `_vec4` entries; forward 196 x 130 (x 128),
        // backward-weight 130 x 128 (x 196)
        (
            "larger than a 128 tile, whole quads (vec4 loads)",
            conv(1, 8, 13, 13, 130, 4, 4, 1, 2),
        ),
        (
            "DCGAN 4x4 stride 2 pad 1",
            conv(2, 16, 16, 16, 32, 4, 4, 2, 1),
        ),
        ("kernel covers the input", conv(2, 3, 5, 5, 4, 5, 5, 1, 0)),
        // the igemm variants split forward's and backward-data's reductions here too
        ("long reductions, primes", conv(1, 41, 7, 5, 37, 3, 3, 1, 1)),
        ("1x1 image", conv(4, 6, 1, 1, 9, 1, 1, 1, 0)),
        (
            "long reduction (split-K)",
            conv(2, 3, 24, 24, 8, 3, 3, 1, 1),
        ),
        // skinny_n: forward (3 outputs) and backward-data (3 inputs) past a 1,024-row tile
        (
            "skinny, past a 1024-row tile",
            conv(3, 3, 23, 25, 3, 3, 3, 1, 1),
        ),
        // skinny_n split-K: forward 77 x 3 (x 333), then backward-data per phase ~20 x 3 (x 268)
        (
            "skinny, long reduction, primes",
            conv(1, 37, 11, 7, 3, 3, 3, 1, 1),
        ),
        (
            "skinny backward-data split-K",
            conv(1, 3, 9, 7, 67, 4, 4, 2, 1),
        ),
        // split_dot: D's last layer (4x4 to 1x1, one channel), batch 5, split reduction; and
        // 2 channels of 2x2 with padding and stride
        (
            "D's last layer, split dot",
            conv(5, 67, 4, 4, 1, 4, 4, 1, 0),
        ),
        (
            "split dot, padded, 2 channels",
            conv(3, 41, 5, 5, 2, 4, 4, 2, 1),
        ),
    ]
    .into_iter()
    .map(|(name, spec)| (name.to_string(), spec))
    .collect::<Vec<_>>();
    // and a few random shapes from the seed
    for _ in 0..6 {
        let (r, s) = (v.int(1, 5), v.int(1, 5));
        let dilation = (v.int(1, 2), v.int(1, 2));
        let pad = (v.int(0, r), v.int(0, s));
        let spec = Conv2dSpec {
            n: v.int(1, 3),
            c: v.int(1, 9),
            h: v.int(dilation.0 * (r - 1) + 1, 14),
            w: v.int(dilation.1 * (s - 1) + 1, 14),
            k: v.int(1, 9),
            r,
            s,
            stride: (v.int(1, 3), v.int(1, 3)),
            pad,
            dilation,
        };
        cases.push((format!("random {spec:?}"), spec));
    }
    cases
}

#[allow(clippy::too_many_arguments)]
fn transposed(
    n: usize,
    c_in: usize,
    h_in: usize,
    w_in: usize,
    c_out: usize,
    r: usize,
    stride: usize,
    pad: usize,
    output_padding: usize,
) -> ConvTranspose2dSpec {
    ConvTranspose2dSpec {
        n,
        c_in,
        h_in,
        w_in,
        c_out,
        r,
        s: r,
        stride: (stride, stride),
        pad: (pad, pad),
        output_padding: (output_padding, output_padding),
        dilation: (1, 1),
    }
}

fn transposed_cases() -> Vec<(&'static str, ConvTranspose2dSpec)> {
    vec![
        (
            "DCGAN 4x4 stride 2 pad 1",
            transposed(2, 32, 8, 8, 16, 4, 2, 1, 0),
        ),
        (
            "DCGAN first layer, 1x1 -> 4x4",
            transposed(2, 20, 1, 1, 70, 4, 1, 0, 0),
        ),
        (
            "3x3 stride 2 output_padding 1",
            transposed(2, 5, 5, 6, 3, 3, 2, 1, 1),
        ),
        // G's last layer: to 3 channels (skinny_n), each phase past a 1,024-row tile
        (
            "G's last layer, 4x4 stride 2 to 3 channels",
            transposed(3, 8, 19, 20, 3, 4, 2, 1, 0),
        ),
        (
            "stride 3 output_padding (2, 1) dilation 2",
            ConvTranspose2dSpec {
                s: 2,
                pad: (1, 0),
                output_padding: (2, 1),
                dilation: (2, 2),
                ..transposed(1, 4, 4, 3, 6, 3, 3, 0, 0)
            },
        ),
        ("1x1", transposed(3, 7, 5, 5, 11, 1, 1, 0, 0)),
        (
            "larger than a tile, output_padding 1",
            transposed(2, 24, 9, 9, 66, 3, 2, 1, 1),
        ),
        (
            "1x1 input, stride 2, odd sizes",
            transposed(5, 33, 1, 1, 19, 3, 2, 0, 0),
        ),
    ]
}

/// Runs the f64 reference on f32 inputs and rounds the result to f32.
fn in_f64(f: impl FnOnce(&mut [f64]), len: usize) -> Vec<f32> {
    let mut out = vec![0.0f64; len];
    f(&mut out);
    to_f32(&out)
}

fn validate_conv(v: &mut Validator, case: &str, spec: &Conv2dSpec) {
    let g = gpu();
    let (x, w, b, gy) = (
        v.rand(spec.x_len()),
        v.rand(spec.w_len()),
        v.rand(spec.k),
        v.rand(spec.y_len()),
    );
    let (xd, wd, bd, gyd) = (to_f64(&x), to_f64(&w), to_f64(&b), to_f64(&gy));
    let y_bias = in_f64(
        |y| r::conv2d_forward(spec, &xd, &wd, Some(&bd), y),
        spec.y_len(),
    );
    let y_plain = in_f64(|y| r::conv2d_forward(spec, &xd, &wd, None, y), spec.y_len());
    let gx_want = in_f64(
        |gx| r::conv2d_backward_data(spec, &gyd, &wd, gx),
        spec.x_len(),
    );
    let gw_want = in_f64(
        |gw| r::conv2d_backward_weight(spec, &xd, &gyd, gw),
        spec.w_len(),
    );
    let gb_want = in_f64(|gb| r::conv2d_backward_bias(spec, &gyd, gb), spec.k);
    let (xb, wb, bb, gyb): (GpuBuffer, GpuBuffer, GpuBuffer, GpuBuffer) =
        (g.upload(&x), g.upload(&w), g.upload(&b), g.upload(&gy));

    for &variant in ConvVariant::ALL {
        let name = variant.name();
        if variant == ConvVariant::CoopF16 {
            let buffers = [&xb, &wb, &bb, &gyb];
            let c = validate_coop::Case {
                name: case,
                x: &x,
                w: &w,
                bias: &b,
                gy: &gy,
                buffers,
            };
            validate_coop::conv(v, spec, c);
            continue;
        }
        if let Some(why) = variant.unavailable() {
            for row in &CONV_ROWS[..3] {
                v.skip(row, name, &why);
            }
            continue;
        }
        if !igemm_runs(v, variant, case) {
            continue;
        }
        // the shape special cases run only the directions and shapes they serve
        let runs = |direction| {
            variant.handles(&ConvProblem {
                spec: *spec,
                direction,
            })
        };
        if runs(ConvDirection::Forward) {
            let y = v.poisoned(spec.y_len());
            k::conv2d_forward_with(variant, spec, &xb, &wb, Some(&bb), &y);
            let got = v.read(&y);
            v.check(
                "conv2d.forward",
                name,
                &format!("{case} +bias"),
                &got,
                &y_bias,
                TOL_FORWARD,
            );

            let y = v.poisoned(spec.y_len());
            k::conv2d_forward_with(variant, spec, &xb, &wb, None, &y);
            let got = v.read(&y);
            v.check("conv2d.forward", name, case, &got, &y_plain, TOL_FORWARD);
        }

        if runs(ConvDirection::BackwardData) {
            let gx = v.poisoned(spec.x_len());
            k::conv2d_backward_data_with(variant, spec, &gyb, &wb, &gx);
            let got = v.read(&gx);
            v.check("conv2d.backward_data", name, case, &got, &gx_want, TOL_GRAD);
        }

        if runs(ConvDirection::BackwardWeight) {
            let gw = v.poisoned(spec.w_len());
            k::conv2d_backward_weight_with(variant, spec, &xb, &gyb, &gw);
            let got = v.read(&gw);
            v.check(
                "conv2d.backward_weight",
                name,
                case,
                &got,
                &gw_want,
                TOL_GRAD,
            );
        }
    }
    // the fast CPU device (each output starts as NaN, so an unwritten element fails)
    let mut y = vec![f32::NAN; spec.y_len()];
    f::conv2d_forward(spec, &x, &w, Some(&b), &mut y);
    v.check(
        "conv2d.forward",
        "cpu",
        &format!("{case} +bias"),
        &y,
        &y_bias,
        TOL_FORWARD,
    );
    let mut y = vec![f32::NAN; spec.y_len()];
    f::conv2d_forward(spec, &x, &w, None, &mut y);
    v.check("conv2d.forward", "cpu", case, &y, &y_plain, TOL_FORWARD);
    let mut gx = vec![f32::NAN; spec.x_len()];
    f::conv2d_backward_data(spec, &gy, &w, &mut gx);
    v.check("conv2d.backward_data", "cpu", case, &gx, &gx_want, TOL_GRAD);
    let mut gw = vec![f32::NAN; spec.w_len()];
    f::conv2d_backward_weight(spec, &x, &gy, &mut gw);
    v.check(
        "conv2d.backward_weight",
        "cpu",
        case,
        &gw,
        &gw_want,
        TOL_GRAD,
    );
    let mut gb = vec![f32::NAN; spec.k];
    f::conv2d_backward_bias(spec, &gy, &mut gb);
    v.check("conv2d.backward_bias", "cpu", case, &gb, &gb_want, TOL_GRAD);

    let gb = v.poisoned(spec.k);
    k::conv2d_backward_bias(spec, &gyb, &gb);
    let got = v.read(&gb);
    v.check(
        "conv2d.backward_bias",
        "reduce",
        case,
        &got,
        &gb_want,
        TOL_GRAD,
    );
}

fn validate_transposed(v: &mut Validator, case: &str, spec: &ConvTranspose2dSpec) {
    let g = gpu();
    let (x, w, b, gy) = (
        v.rand(spec.x_len()),
        v.rand(spec.w_len()),
        v.rand(spec.c_out),
        v.rand(spec.y_len()),
    );
    let (xd, wd, bd, gyd) = (to_f64(&x), to_f64(&w), to_f64(&b), to_f64(&gy));
    let y_bias = in_f64(
        |y| r::conv_transpose2d_forward(spec, &xd, &wd, Some(&bd), y),
        spec.y_len(),
    );
    let y_plain = in_f64(
        |y| r::conv_transpose2d_forward(spec, &xd, &wd, None, y),
        spec.y_len(),
    );
    let gx_want = in_f64(
        |gx| r::conv_transpose2d_backward_data(spec, &gyd, &wd, gx),
        spec.x_len(),
    );
    let gw_want = in_f64(
        |gw| r::conv_transpose2d_backward_weight(spec, &xd, &gyd, gw),
        spec.w_len(),
    );
    let gb_want = in_f64(
        |gb| r::conv_transpose2d_backward_bias(spec, &gyd, gb),
        spec.c_out,
    );
    let (xb, wb, bb, gyb) = (g.upload(&x), g.upload(&w), g.upload(&b), g.upload(&gy));

    for &variant in ConvVariant::ALL {
        let name = variant.name();
        if variant == ConvVariant::CoopF16 {
            let buffers = [&xb, &wb, &bb, &gyb];
            let c = validate_coop::Case {
                name: case,
                x: &x,
                w: &w,
                bias: &b,
                gy: &gy,
                buffers,
            };
            validate_coop::transposed(v, spec, c);
            continue;
        }
        if let Some(why) = variant.unavailable() {
            for row in &TRANSPOSED_ROWS[..3] {
                v.skip(row, name, &why);
            }
            continue;
        }
        if !igemm_runs(v, variant, case) {
            continue;
        }
        // the transposed convolution's forward is conv2d's backward-data, and the reverse
        let conv = spec.as_conv();
        let runs = |direction| {
            variant.handles(&ConvProblem {
                spec: conv,
                direction,
            })
        };
        if runs(ConvDirection::BackwardData) {
            let y = v.poisoned(spec.y_len());
            k::conv_transpose2d_forward_with(variant, spec, &xb, &wb, Some(&bb), &y);
            let got = v.read(&y);
            v.check(
                "conv_transpose2d.forward",
                name,
                &format!("{case} +bias"),
                &got,
                &y_bias,
                TOL_FORWARD,
            );

            let y = v.poisoned(spec.y_len());
            k::conv_transpose2d_forward_with(variant, spec, &xb, &wb, None, &y);
            let got = v.read(&y);
            v.check(
                "conv_transpose2d.forward",
                name,
                case,
                &got,
                &y_plain,
                TOL_FORWARD,
            );
        }

        if runs(ConvDirection::Forward) {
            let gx = v.poisoned(spec.x_len());
            k::conv_transpose2d_backward_data_with(variant, spec, &gyb, &wb, &gx);
            let got = v.read(&gx);
            v.check(
                "conv_transpose2d.backward_data",
                name,
                case,
                &got,
                &gx_want,
                TOL_GRAD,
            );
        }

        if runs(ConvDirection::BackwardWeight) {
            let gw = v.poisoned(spec.w_len());
            k::conv_transpose2d_backward_weight_with(variant, spec, &xb, &gyb, &gw);
            let got = v.read(&gw);
            v.check(
                "conv_transpose2d.backward_weight",
                name,
                case,
                &got,
                &gw_want,
                TOL_GRAD,
            );
        }
    }
    if super::latent_gemm::is_plain_gemm(spec) {
        // such a layer as plain matrix products (latent_gemm.rs)
        let y = v.poisoned(spec.y_len());
        super::latent_gemm::forward(spec, &xb, &wb, &y);
        let got = v.read(&y);
        v.check(
            "conv_transpose2d.forward",
            "gemm",
            case,
            &got,
            &y_plain,
            TOL_FORWARD,
        );
        let gx = v.poisoned(spec.x_len());
        super::latent_gemm::backward_data(spec, &gyb, &wb, &gx);
        let got = v.read(&gx);
        v.check(
            "conv_transpose2d.backward_data",
            "gemm",
            case,
            &got,
            &gx_want,
            TOL_GRAD,
        );
        let gw = v.poisoned(spec.w_len());
        super::latent_gemm::backward_weight(spec, &xb, &gyb, &gw);
        let got = v.read(&gw);
        v.check(
            "conv_transpose2d.backward_weight",
            "gemm",
            case,
            &got,
            &gw_want,
            TOL_GRAD,
        );
    }
    // the fast CPU device
    let mut y = vec![f32::NAN; spec.y_len()];
    f::conv_transpose2d_forward(spec, &x, &w, Some(&b), &mut y);
    let bias_case = format!("{case} +bias");
    v.check(
        "conv_transpose2d.forward",
        "cpu",
        &bias_case,
        &y,
        &y_bias,
        TOL_FORWARD,
    );
    let mut y = vec![f32::NAN; spec.y_len()];
    f::conv_transpose2d_forward(spec, &x, &w, None, &mut y);
    v.check(
        "conv_transpose2d.forward",
        "cpu",
        case,
        &y,
        &y_plain,
        TOL_FORWARD,
    );
    let mut gx = vec![f32::NAN; spec.x_len()];
    f::conv_transpose2d_backward_data(spec, &gy, &w, &mut gx);
    v.check(
        "conv_transpose2d.backward_data",
        "cpu",
        case,
        &gx,
        &gx_want,
        TOL_GRAD,
    );
    let mut gw = vec![f32::NAN; spec.w_len()];
    f::conv_transpose2d_backward_weight(spec, &x, &gy, &mut gw);
    v.check(
        "conv_transpose2d.backward_weight",
        "cpu",
        case,
        &gw,
        &gw_want,
        TOL_GRAD,
    );
    let mut gb = vec![f32::NAN; spec.c_out];
    f::conv_transpose2d_backward_bias(spec, &gy, &mut gb);
    v.check(
        "conv_transpose2d.backward_bias",
        "cpu",
        case,
        &gb,
        &gb_want,
        TOL_GRAD,
    );

    let gb = v.poisoned(spec.c_out);
    k::conv_transpose2d_backward_bias(spec, &gyb, &gb);
    let got = v.read(&gb);
    v.check(
        "conv_transpose2d.backward_bias",
        "reduce",
        case,
        &got,
        &gb_want,
        TOL_GRAD,
    );
}

/// Checks the reference's gx, gw and gb against central differences of
/// loss(x, w, b) = sum(forward(x, w, b) * gy), on shapes small enough to perturb every input.
fn check_reference_gradients(
    v: &mut Validator,
    kernel: &str,
    case: &str,
    lens: [usize; 4],
    forward: impl Fn(&[f64], &[f64], &[f64], &mut [f64]),
    backward: impl Fn(&[f64], &[f64], &[f64], &mut [f64], &mut [f64], &mut [f64]),
) {
    let [x_len, w_len, b_len, y_len] = lens;
    let (x, w, b, gy) = (
        to_f64(&v.rand(x_len)),
        to_f64(&v.rand(w_len)),
        to_f64(&v.rand(b_len)),
        to_f64(&v.rand(y_len)),
    );
    let loss = |x: &[f64], w: &[f64], b: &[f64]| {
        let mut y = vec![0.0; y_len];
        forward(x, w, b, &mut y);
        dot(&y, &gy)
    };
    let (mut gx, mut gw, mut gb) = (vec![0.0; x_len], vec![0.0; w_len], vec![0.0; b_len]);
    backward(&x, &w, &gy, &mut gx, &mut gw, &mut gb);
    let fd_x = numeric_gradient(&x, |x| loss(x, &w, &b));
    let fd_w = numeric_gradient(&w, |w| loss(&x, w, &b));
    let fd_b = numeric_gradient(&b, |b| loss(&x, &w, b));
    for (what, analytic, numeric) in [("gx", &gx, &fd_x), ("gw", &gw, &fd_w), ("gb", &gb, &fd_b)] {
        let case = format!("{case} {what}");
        v.check(
            kernel,
            "finite_diff",
            &case,
            &to_f32(analytic),
            &to_f32(numeric),
            TOL_FINITE_DIFF,
        );
    }
}

fn check_conv_reference(v: &mut Validator) {
    let spec = Conv2dSpec {
        stride: (2, 1),
        pad: (1, 2),
        dilation: (1, 2),
        ..conv(2, 2, 5, 6, 3, 3, 2, 1, 0)
    };
    let lens = [spec.x_len(), spec.w_len(), spec.k, spec.y_len()];
    check_reference_gradients(
        v,
        "conv2d.reference_backward",
        &format!("{spec:?}"),
        lens,
        |x, w, b, y| r::conv2d_forward(&spec, x, w, Some(b), y),
        |x, w, gy, gx, gw, gb| {
            r::conv2d_backward_data(&spec, gy, w, gx);
            r::conv2d_backward_weight(&spec, x, gy, gw);
            r::conv2d_backward_bias(&spec, gy, gb);
        },
    );
}

fn check_transposed_reference(v: &mut Validator) {
    let spec = ConvTranspose2dSpec {
        s: 2,
        pad: (1, 0),
        output_padding: (1, 0),
        dilation: (1, 2),
        ..transposed(2, 3, 3, 4, 2, 3, 2, 0, 0)
    };
    let lens = [spec.x_len(), spec.w_len(), spec.c_out, spec.y_len()];
    check_reference_gradients(
        v,
        "conv_transpose2d.reference_backward",
        &format!("{spec:?}"),
        lens,
        |x, w, b, y| r::conv_transpose2d_forward(&spec, x, w, Some(b), y),
        |x, w, gy, gx, gw, gb| {
            r::conv_transpose2d_backward_data(&spec, gy, w, gx);
            r::conv_transpose2d_backward_weight(&spec, x, gy, gw);
            r::conv_transpose2d_backward_bias(&spec, gy, gb);
        },
    );
}

/// The binding limit of the chunked cases: 2 KiB, two images of 256 f32 (one item is a
/// multiple of every storage offset alignment), so a batch of 5 runs as 2 + 2 + 1, and an
/// image of 12 planes of 8x8 (3 KiB) runs in blocks of 8 + 4 channels.
const CHUNKED_LIMIT: u64 = 2048;

pub fn run(v: &mut Validator) {
    if CONV_ROWS.iter().any(|row| v.wants(row)) {
        let cases = conv_cases(v);
        // smoke: a padded 3x3, a stride past the kernel, a DCGAN layer
        let cases = if v.smoke() {
            cases
                .into_iter()
                .filter(|(name, _)| SMOKE_CASES.contains(&name.as_str()))
                .collect()
        } else {
            cases
        };
        for (case, spec) in cases {
            validate_conv(v, &case, &spec);
        }
        // a batch larger than one binding (lowered for the case) runs in chunks of images
        let spec = Conv2dSpec {
            n: 5,
            c: 4,
            h: 8,
            w: 8,
            k: 4,
            r: 3,
            s: 3,
            stride: (1, 1),
            pad: (1, 1),
            dilation: (1, 1),
        };
        crate::chunk::with_binding_limit(CHUNKED_LIMIT, || {
            validate_conv(v, "5x4x8x8 k4 3x3 in batch chunks", &spec)
        });
        // one image larger than a binding runs in blocks of channels (12 = 8 + 4 planes of
        // 256 bytes on each side), partial sums added up
        let one = Conv2dSpec {
            n: 2,
            c: 12,
            k: 12,
            ..spec
        };
        crate::chunk::with_binding_limit(CHUNKED_LIMIT, || {
            validate_conv(v, "2x12x8x8 k12 3x3 in channel blocks", &one)
        });
        // planes of an odd size (13×13) in blocks that start unaligned: launched on copies
        let odd = Conv2dSpec {
            n: 2,
            c: 6,
            h: 13,
            w: 13,
            k: 6,
            ..spec
        };
        crate::chunk::with_binding_limit(CHUNKED_LIMIT, || {
            validate_conv(v, "2x6x13x13 k6 3x3 in unaligned channel blocks", &odd)
        });
        check_conv_reference(v);
    }
    if TRANSPOSED_ROWS.iter().any(|row| v.wants(row)) {
        for (case, spec) in v.pick(transposed_cases(), 3) {
            validate_transposed(v, case, &spec);
        }
        let spec = ConvTranspose2dSpec {
            n: 5,
            c_in: 16,
            h_in: 4,
            w_in: 4,
            c_out: 4,
            r: 4,
            s: 4,
            stride: (2, 2),
            pad: (1, 1),
            output_padding: (0, 0),
            dilation: (1, 1),
        };
        crate::chunk::with_binding_limit(CHUNKED_LIMIT, || {
            validate_transposed(v, "5x16x4x4 to 4 in batch chunks", &spec)
        });
        let one = ConvTranspose2dSpec {
            n: 2,
            c_in: 12,
            c_out: 12,
            ..spec
        };
        crate::chunk::with_binding_limit(CHUNKED_LIMIT, || {
            validate_transposed(v, "2x12x4x4 to 12 in channel blocks", &one)
        });
        check_transposed_reference(v);
    }
}
