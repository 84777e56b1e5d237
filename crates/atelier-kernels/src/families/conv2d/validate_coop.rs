//! Validation of variant `coop_f16` (`coop.rs`): forward and backward-data of conv2d, forward
//! and backward-data of conv_transpose2d, each output within the variant's stated error bound
//! of the f64 reference (with the accumulation's unit doubled for the matrix units), run with
//! `ATELIER_PRECISION=f16` on this thread whatever the environment says. Where the adapter
//! cannot run it (lavapipe: no cooperative matrices) its rows are listed as skipped with the
//! reason; backward-weight is listed as skipped because it stays in fp32.

use super::coop::{self, ErrorBound, F32_UNIT, magnitude_sums};
use super::reference as r;
use super::{self as k, Conv2dSpec, ConvTranspose2dSpec, ConvVariant};
use crate::harness::Validator;
use crate::harness::numeric::to_f64;
use crate::precision::{Precision, with_precision};
use crate::variant::Variant;
use crate::{GpuBuffer, gpu};

const FP32_WEIGHTS: &str = "coop_f16 computes forward and backward-data; the weight gradient \
                            stays on the fp32 rule";

/// The inputs of one case, on the host and on the GPU.
pub(super) struct Case<'a> {
    pub name: &'a str,
    pub x: &'a [f32],
    pub w: &'a [f32],
    pub bias: &'a [f32],
    pub gy: &'a [f32],
    pub buffers: [&'a GpuBuffer; 4],
}

/// Whether the variant runs here; records the skipped rows (`rows`: forward, backward-data,
/// backward-weight) when it does not.
fn runs(v: &mut Validator, rows: &[&str]) -> bool {
    let name = ConvVariant::CoopF16.name();
    v.skip(rows[2], name, FP32_WEIGHTS);
    if let Some(why) = coop::device_unavailable(gpu()) {
        for row in &rows[..2] {
            v.skip(row, name, &why);
        }
        return false;
    }
    true
}

/// Per element: the bound given the magnitude sums, |bias| per element and the reduction's
/// length (the bias is one more term).
fn bounds(sums: (Vec<f64>, Vec<f64>), bias: &[f64], reduction: usize) -> Vec<f64> {
    let bound = ErrorBound {
        accumulate_unit: 2.0 * F32_UNIT,
        terms: reduction + 1,
    };
    let (products, inputs) = sums;
    (0..products.len())
        .map(|i| bound.of(products[i], inputs[i], bias[i].abs()))
        .collect()
}

/// bias\[c\] of every element of an NCHW tensor.
fn per_element(bias: &[f32], n: usize, plane: usize) -> Vec<f64> {
    let c = bias.len();
    (0..n * c * plane)
        .map(|i| bias[(i / plane) % c] as f64)
        .collect()
}

pub(super) fn conv(v: &mut Validator, spec: &Conv2dSpec, case: Case) {
    if !runs(
        v,
        &[
            "conv2d.forward",
            "conv2d.backward_data",
            "conv2d.backward_weight",
        ],
    ) {
        return;
    }
    let name = ConvVariant::CoopF16.name();
    let (xd, wd, gyd) = (to_f64(case.x), to_f64(case.w), to_f64(case.gy));
    let [xb, wb, bb, gyb] = case.buffers;

    let bias = per_element(case.bias, spec.n, spec.p() * spec.q());
    let mut want = vec![0.0; spec.y_len()];
    r::conv2d_forward(spec, &xd, &wd, Some(&to_f64(case.bias)), &mut want);
    let sums = magnitude_sums(case.x, case.w, spec.y_len(), |a, b, o| {
        r::conv2d_forward(spec, a, b, None, o)
    });
    let bound = bounds(sums, &bias, spec.c * spec.r * spec.s);
    let y = v.poisoned(spec.y_len());
    with_precision(Precision::F16, || {
        k::conv2d_forward_with(ConvVariant::CoopF16, spec, xb, wb, Some(bb), &y)
    });
    let got = v.read(&y);
    let label = format!("{} +bias", case.name);
    v.check_bound("conv2d.forward", name, &label, &got, &want, &bound);

    let mut want = vec![0.0; spec.x_len()];
    r::conv2d_backward_data(spec, &gyd, &wd, &mut want);
    let sums = magnitude_sums(case.gy, case.w, spec.x_len(), |a, b, o| {
        r::conv2d_backward_data(spec, a, b, o)
    });
    let bound = bounds(sums, &vec![0.0; spec.x_len()], spec.k * spec.r * spec.s);
    let gx = v.poisoned(spec.x_len());
    with_precision(Precision::F16, || {
        k::conv2d_backward_data_with(ConvVariant::CoopF16, spec, gyb, wb, &gx)
    });
    let got = v.read(&gx);
    v.check_bound("conv2d.backward_data", name, case.name, &got, &want, &bound);
}

pub(super) fn transposed(v: &mut Validator, spec: &ConvTranspose2dSpec, case: Case) {
    let rows = [
        "conv_transpose2d.forward",
        "conv_transpose2d.backward_data",
        "conv_transpose2d.backward_weight",
    ];
    if !runs(v, &rows) {
        return;
    }
    let name = ConvVariant::CoopF16.name();
    let (xd, wd, gyd) = (to_f64(case.x), to_f64(case.w), to_f64(case.gy));
    let [xb, wb, bb, gyb] = case.buffers;
    let taps = spec.r * spec.s;

    let bias = per_element(case.bias, spec.n, spec.y_len() / (spec.n * spec.c_out));
    let mut want = vec![0.0; spec.y_len()];
    r::conv_transpose2d_forward(spec, &xd, &wd, Some(&to_f64(case.bias)), &mut want);
    let sums = magnitude_sums(case.x, case.w, spec.y_len(), |a, b, o| {
        r::conv_transpose2d_forward(spec, a, b, None, o)
    });
    let bound = bounds(sums, &bias, spec.c_in * taps);
    let y = v.poisoned(spec.y_len());
    with_precision(Precision::F16, || {
        k::conv_transpose2d_forward_with(ConvVariant::CoopF16, spec, xb, wb, Some(bb), &y)
    });
    let got = v.read(&y);
    let label = format!("{} +bias", case.name);
    v.check_bound(rows[0], name, &label, &got, &want, &bound);

    let mut want = vec![0.0; spec.x_len()];
    r::conv_transpose2d_backward_data(spec, &gyd, &wd, &mut want);
    let sums = magnitude_sums(case.gy, case.w, spec.x_len(), |a, b, o| {
        r::conv_transpose2d_backward_data(spec, a, b, o)
    });
    let bound = bounds(sums, &vec![0.0; spec.x_len()], spec.c_out * taps);
    let gx = v.poisoned(spec.x_len());
    with_precision(Precision::F16, || {
        k::conv_transpose2d_backward_data_with(ConvVariant::CoopF16, spec, gyb, wb, &gx)
    });
    let got = v.read(&gx);
    v.check_bound(rows[1], name, case.name, &got, &want, &bound);
}
