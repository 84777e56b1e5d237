//! conv2d at the DCGAN discriminator's layers (batch 64 and 128) and VGG-19's 3×3 layers
//! (256 and 512 px, batch 1), and conv_transpose2d at the DCGAN generator's layers: forward,
//! backward-data and backward-weight in every variant, and the bias gradients.
//!
//! FLOPs: 2·N·K·P·Q·C·R·S in every direction (padded taps included), 2·N·C_in·H_in·W_in·C_out·R·S
//! for the transposed convolution; the bias gradients one add per element of gy. Bytes: x,
//! weight and y once each (`harness::work`).
//!
//! On the fast CPU device (`xtask bench --device cpu`) the same layers run `cpu.rs` (im2col
//! GEMMs), one row per direction with variant `cpu`.

use super::cpu;
use super::{
    ConvDirection, ConvTranspose2dSpec, ConvVariant, conv_transpose2d_backward_bias,
    conv_transpose2d_backward_data_with, conv_transpose2d_backward_weight_with,
    conv_transpose2d_forward_with, conv2d_backward_bias, conv2d_backward_data_with,
    conv2d_backward_weight_with, conv2d_forward_with,
};
use crate::GpuBuffer;
use crate::conv2d::Conv2dSpec;
use crate::harness::bench::copies_for;
use crate::harness::networks::{self, ConvLayer, VGG_SIDES};
use crate::harness::work::{self, Work};
use crate::harness::{BenchDevice, BenchRow, Bencher, CPU_VARIANT, Inputs, TorchOp};
use crate::variant::Variant;

/// `--quick`: the two deepest VGG shapes, at a 32 px image.
const QUICK_VGG_SIDE: usize = 32;

const DIRECTIONS: [(ConvDirection, &str); 3] = [
    (ConvDirection::Forward, "forward"),
    (ConvDirection::BackwardData, "backward_data"),
    (ConvDirection::BackwardWeight, "backward_weight"),
];

pub fn run(bench: &mut dyn Bencher) {
    let batches = bench.dcgan_batches();
    let dcgan = batches
        .iter()
        .flat_map(|&b| networks::dcgan_discriminator(b));
    let vgg: Vec<ConvLayer> = if bench.quick() {
        networks::vgg19_convs(QUICK_VGG_SIDE)
            .into_iter()
            .skip(7)
            .collect()
    } else {
        VGG_SIDES
            .iter()
            .flat_map(|&s| networks::vgg19_convs(s))
            .collect()
    };
    for layer in dcgan {
        conv2d_layer(bench, &layer.spec, &layer.label(), true);
    }
    for layer in vgg {
        conv2d_layer(bench, &layer.spec, &layer.label(), false);
    }
    for &b in &batches {
        for layer in networks::dcgan_generator(b) {
            transposed_layer(bench, &layer.spec, &layer.label());
        }
    }
}

/// One copy of everything a layer's kernels read and write.
struct Buffers<B> {
    x: B,
    w: B,
    gy: B,
    y: B,
    gx: B,
    gw: B,
    gb: B,
}

/// The copies of a layer's buffers, on the device the suite times.
enum Sets {
    Gpu(Vec<Buffers<GpuBuffer>>),
    Cpu(Vec<Buffers<Vec<f32>>>),
}

impl Sets {
    /// `copies` sets of x, weight and y of these lengths, and a bias gradient of `bias`.
    fn new(bench: &mut dyn Bencher, copies: usize, [x, w, y, bias]: [usize; 4]) -> Sets {
        let cpu = bench.device() == BenchDevice::Cpu;
        let inputs: &mut Inputs = bench.inputs();
        if cpu {
            Sets::Cpu(
                (0..copies)
                    .map(|_| Buffers {
                        x: inputs.host_random(x),
                        w: inputs.host_random(w),
                        gy: inputs.host_random(y),
                        y: inputs.host_output(y),
                        gx: inputs.host_output(x),
                        gw: inputs.host_output(w),
                        gb: inputs.host_output(bias),
                    })
                    .collect(),
            )
        } else {
            Sets::Gpu(
                (0..copies)
                    .map(|_| Buffers {
                        x: inputs.random(x),
                        w: inputs.random(w),
                        gy: inputs.random(y),
                        y: inputs.output(y),
                        gx: inputs.output(x),
                        gw: inputs.output(w),
                        gb: inputs.output(bias),
                    })
                    .collect(),
            )
        }
    }
}

/// What runs a row: a GPU variant, or the fast CPU device's kernel.
#[derive(Clone, Copy)]
enum Runner {
    Gpu(ConvVariant),
    Cpu,
}

/// A layer's rows the filter wants: (kernel, variant, direction and runner; `None` for the
/// bias gradient).
type Rows = Vec<(String, &'static str, Option<(ConvDirection, Runner)>)>;

/// `all_variants`: every variant; else the generated `igemm*` tiles are left out. They are
/// timed at the DCGAN layers (the targets), not at VGG's: four more variants at every
/// VGG layer would push the device script past its 7 minutes. With `--quick` (CI, on
/// lavapipe, which takes seconds to compile each of their pipelines) only igemm128x128 runs.
fn rows(bench: &dyn Bencher, op: &str, shape: &str, all_variants: bool) -> Rows {
    let mut rows = Vec::new();
    if bench.device() == BenchDevice::Cpu {
        for (direction, dname) in DIRECTIONS {
            rows.push((format!("{op}.{dname}"), CPU_VARIANT, Some((direction, Runner::Cpu))));
        }
        rows.push((format!("{op}.backward_bias"), CPU_VARIANT, None));
        rows.retain(|(kernel, variant, _)| bench.wants(kernel, variant, shape));
        return rows;
    }
    for (direction, dname) in DIRECTIONS {
        for variant in ConvVariant::available() {
            let igemm = variant.igemm().is_some();
            if igemm
                && (!all_variants || (bench.quick() && variant != ConvVariant::Igemm128x128))
            {
                continue;
            }
            rows.push((
                format!("{op}.{dname}"),
                variant.name(),
                Some((direction, Runner::Gpu(variant))),
            ));
        }
    }
    rows.push((format!("{op}.backward_bias"), "channel_sum", None));
    rows.retain(|(kernel, variant, _)| bench.wants(kernel, variant, shape));
    rows
}

/// `aten.convolution_backward` for one gradient (input, weight) of a convolution.
fn torch_backward(stride: (usize, usize), pad: (usize, usize), transposed: bool, out_pad: (usize, usize), mask: &str) -> String {
    format!(
        "aten.convolution_backward(gy, x, w, None, [{}, {}], [{}, {}], [1, 1], {}, [{}, {}], 1, {mask})",
        stride.0,
        stride.1,
        pad.0,
        pad.1,
        if transposed { "True" } else { "False" },
        out_pad.0,
        out_pad.1
    )
}

/// A row's PyTorch equivalent, given its forward expression and the tensors' shapes.
fn torch(
    dname: Option<&str>,
    forward: String,
    backward: impl Fn(&str) -> String,
    [x, w, y]: [Vec<usize>; 3],
) -> TorchOp {
    let expr = match dname {
        Some("forward") => forward,
        Some("backward_data") => backward("[True, False, False]"),
        Some("backward_weight") => backward("[False, True, False]"),
        _ => "gy.sum((0, 2, 3))".to_string(),
    };
    TorchOp::new(expr).rand("x", &x).rand("w", &w).rand("gy", &y)
}

fn conv2d_layer(bench: &mut dyn Bencher, spec: &Conv2dSpec, shape: &str, all_variants: bool) {
    let rows = rows(bench, "conv2d", shape, all_variants);
    if rows.is_empty() {
        return;
    }
    let lens = [spec.x_len(), spec.w_len(), spec.y_len(), spec.k];
    let copies = copies_for(8.0 * (lens[0] + lens[1] + lens[2]) as f64);
    let mut sets = Sets::new(bench, copies, lens);
    let shapes = [
        vec![spec.n, spec.c, spec.h, spec.w],
        vec![spec.k, spec.c, spec.r, spec.s],
        vec![spec.n, spec.k, spec.p(), spec.q()],
    ];
    let forward = format!(
        "F.conv2d(x, w, stride=({}, {}), padding=({}, {}), dilation=({}, {}))",
        spec.stride.0, spec.stride.1, spec.pad.0, spec.pad.1, spec.dilation.0, spec.dilation.1
    );
    for (kernel, variant_name, which) in rows {
        let dname = kernel.split_once('.').map(|(_, d)| d);
        let backward = |mask: &str| torch_backward(spec.stride, spec.pad, false, (0, 0), mask);
        let (work, torch): (Work, TorchOp) = match which {
            Some(_) => (
                work::conv2d(spec),
                torch(dname, forward.clone(), backward, shapes.clone()),
            ),
            None => (
                work::conv2d_backward_bias(spec),
                torch(None, String::new(), backward, shapes.clone()),
            ),
        };
        let row = BenchRow {
            family: "conv2d",
            kernel,
            variant: variant_name.into(),
            shape: shape.into(),
            work,
            torch: Some(torch),
        };
        bench.measure(row, copies, &mut |i| match &mut sets {
            Sets::Gpu(sets) => {
                let b = &sets[i];
                match which {
                    Some((ConvDirection::Forward, Runner::Gpu(v))) => {
                        conv2d_forward_with(v, spec, &b.x, &b.w, None, &b.y)
                    }
                    Some((ConvDirection::BackwardData, Runner::Gpu(v))) => {
                        conv2d_backward_data_with(v, spec, &b.gy, &b.w, &b.gx)
                    }
                    Some((ConvDirection::BackwardWeight, Runner::Gpu(v))) => {
                        conv2d_backward_weight_with(v, spec, &b.x, &b.gy, &b.gw)
                    }
                    Some((_, Runner::Cpu)) => unreachable!("a CPU row on GPU buffers"),
                    None => conv2d_backward_bias(spec, &b.gy, &b.gb),
                }
            }
            Sets::Cpu(sets) => {
                let b = &mut sets[i];
                match which.map(|(direction, _)| direction) {
                    Some(ConvDirection::Forward) => {
                        cpu::conv2d_forward(spec, &b.x, &b.w, None, &mut b.y)
                    }
                    Some(ConvDirection::BackwardData) => {
                        cpu::conv2d_backward_data(spec, &b.gy, &b.w, &mut b.gx)
                    }
                    Some(ConvDirection::BackwardWeight) => {
                        cpu::conv2d_backward_weight(spec, &b.x, &b.gy, &mut b.gw)
                    }
                    None => cpu::conv2d_backward_bias(spec, &b.gy, &mut b.gb),
                }
            }
        });
    }
}

fn transposed_layer(bench: &mut dyn Bencher, spec: &ConvTranspose2dSpec, shape: &str) {
    let rows = rows(bench, "conv_transpose2d", shape, true);
    if rows.is_empty() {
        return;
    }
    let lens = [spec.x_len(), spec.w_len(), spec.y_len(), spec.c_out];
    let copies = copies_for(8.0 * (lens[0] + lens[1] + lens[2]) as f64);
    let mut sets = Sets::new(bench, copies, lens);
    let shapes = [
        vec![spec.n, spec.c_in, spec.h_in, spec.w_in],
        vec![spec.c_in, spec.c_out, spec.r, spec.s],
        vec![spec.n, spec.c_out, spec.h_out(), spec.w_out()],
    ];
    let forward = format!(
        "F.conv_transpose2d(x, w, stride=({}, {}), padding=({}, {}), output_padding=({}, {}))",
        spec.stride.0,
        spec.stride.1,
        spec.pad.0,
        spec.pad.1,
        spec.output_padding.0,
        spec.output_padding.1
    );
    for (kernel, variant_name, which) in rows {
        let dname = kernel.split_once('.').map(|(_, d)| d);
        let backward =
            |mask: &str| torch_backward(spec.stride, spec.pad, true, spec.output_padding, mask);
        let (work, torch) = match which {
            Some(_) => (
                work::conv_transpose2d(spec),
                torch(dname, forward.clone(), backward, shapes.clone()),
            ),
            None => (
                work::conv_transpose2d_backward_bias(spec),
                torch(None, String::new(), backward, shapes.clone()),
            ),
        };
        let row = BenchRow {
            family: "conv_transpose2d",
            kernel,
            variant: variant_name.into(),
            shape: shape.into(),
            work,
            torch: Some(torch),
        };
        bench.measure(row, copies, &mut |i| match &mut sets {
            Sets::Gpu(sets) => {
                let b = &sets[i];
                match which {
                    Some((ConvDirection::Forward, Runner::Gpu(v))) => {
                        conv_transpose2d_forward_with(v, spec, &b.x, &b.w, None, &b.y)
                    }
                    Some((ConvDirection::BackwardData, Runner::Gpu(v))) => {
                        conv_transpose2d_backward_data_with(v, spec, &b.gy, &b.w, &b.gx)
                    }
                    Some((ConvDirection::BackwardWeight, Runner::Gpu(v))) => {
                        conv_transpose2d_backward_weight_with(v, spec, &b.x, &b.gy, &b.gw)
                    }
                    Some((_, Runner::Cpu)) => unreachable!("a CPU row on GPU buffers"),
                    None => conv_transpose2d_backward_bias(spec, &b.gy, &b.gb),
                }
            }
            Sets::Cpu(sets) => {
                let b = &mut sets[i];
                match which.map(|(direction, _)| direction) {
                    Some(ConvDirection::Forward) => {
                        cpu::conv_transpose2d_forward(spec, &b.x, &b.w, None, &mut b.y)
                    }
                    Some(ConvDirection::BackwardData) => {
                        cpu::conv_transpose2d_backward_data(spec, &b.gy, &b.w, &mut b.gx)
                    }
                    Some(ConvDirection::BackwardWeight) => {
                        cpu::conv_transpose2d_backward_weight(spec, &b.x, &b.gy, &mut b.gw)
                    }
                    None => cpu::conv_transpose2d_backward_bias(spec, &b.gy, &mut b.gb),
                }
            }
        });
    }
}
