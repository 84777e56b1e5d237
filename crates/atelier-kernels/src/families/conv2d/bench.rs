//! conv2d at the DCGAN discriminator's layers (batch 64 and 128) and VGG-19's 3×3 layers
//! (256 and 512 px, batch 1), and conv_transpose2d at the DCGAN generator's layers: forward,
//! backward-data and backward-weight in every variant, and the bias gradients.
//!
//! At the largest DCGAN batch every variant but `direct` is timed twice: with wgpu's runtime
//! checks in its module (the default) and as a trusted module (`ATELIER_SHADER_CHECKS=off`,
//! variant names ending in `+trusted`), the measurement that decides the default. `--quick`
//! times only `implicit_gemm+trusted` (its pipelines serve every shape, so CI compiles few).
//! The shape special cases (`skinny_n`, `split_dot`) get rows only where they serve: the
//! 3-channel layers (D's first backward-data, G's last forward) and D's last forward.
//! G's first layer (a 1×1 input) also gets rows `gemm`: the same layer as plain matmuls
//! (`latent_gemm.rs`), not yet chosen automatically (a GPU measurement decides).
//!
//! FLOPs: 2·N·K·P·Q·C·R·S in every direction (padded taps included), 2·N·C_in·H_in·W_in·C_out·R·S
//! for the transposed convolution; the bias gradients one add per element of gy. Bytes: x,
//! weight and y once each (`harness::work`).
//!
//! On the fast CPU device (`xtask bench --device cpu`) the same layers run `cpu.rs` (im2col
//! GEMMs) on host vectors, one row per direction with variant `cpu` (`cpu_layer`).

use super::{
    ConvDirection, ConvProblem, ConvTranspose2dSpec, ConvVariant, conv_transpose2d_backward_bias,
    conv_transpose2d_backward_data_with, conv_transpose2d_backward_weight_with,
    conv_transpose2d_forward_with, conv2d_backward_bias, conv2d_backward_data_with,
    conv2d_backward_weight_with, conv2d_forward_with,
};
use super::{cpu, latent_gemm};
use crate::GpuBuffer;
use crate::conv2d::Conv2dSpec;
use crate::harness::bench::copies_for;
use crate::harness::networks::{self, ConvLayer, VGG_SIDES};
use crate::harness::work::{self, Work};
use crate::harness::{BenchDevice, BenchRow, Bencher, CPU_VARIANT, Inputs, TorchOp};
use crate::shader_checks::{ShaderChecks, with_shader_checks};
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
    let trusted_batch = batches.iter().copied().max();
    for layer in dcgan {
        let set = VariantSet::all(trusted_batch == Some(layer.spec.n));
        conv2d_layer(bench, &layer.spec, &layer.label(), set);
    }
    for layer in vgg {
        conv2d_layer(bench, &layer.spec, &layer.label(), VariantSet::NO_IGEMM);
    }
    for &b in &batches {
        for layer in networks::dcgan_generator(b) {
            let set = VariantSet::all(trusted_batch == Some(b));
            transposed_layer(bench, &layer.spec, &layer.label(), set);
        }
    }
}

/// One copy of everything a layer's kernels read and write.
struct Buffers {
    x: GpuBuffer,
    w: GpuBuffer,
    gy: GpuBuffer,
    y: GpuBuffer,
    gx: GpuBuffer,
    gw: GpuBuffer,
    gb: GpuBuffer,
}

impl Buffers {
    /// x, weight and y of these lengths, and a bias gradient of `bias`.
    fn new(inputs: &mut Inputs, [x, w, y, bias]: [usize; 4]) -> Buffers {
        Buffers {
            x: inputs.random(x),
            w: inputs.random(w),
            gy: inputs.random(y),
            y: inputs.output(y),
            gx: inputs.output(x),
            gw: inputs.output(w),
            gb: inputs.output(bias),
        }
    }
}

/// Which variants a layer times.
#[derive(Clone, Copy)]
struct VariantSet {
    /// The generated `igemm*` tiles. They are timed at the DCGAN layers (the targets),
    /// not at VGG's: four more variants at every VGG layer would push the device script past
    /// its 7 minutes. With `--quick` (CI, on lavapipe, which takes seconds to compile each of
    /// their pipelines) only igemm128x128 runs.
    igemm: bool,
    /// A second row of each variant (but `direct`) with trusted modules.
    trusted: bool,
}

impl VariantSet {
    const NO_IGEMM: VariantSet = VariantSet {
        igemm: false,
        trusted: false,
    };

    const fn all(trusted: bool) -> VariantSet {
        VariantSet {
            igemm: true,
            trusted,
        }
    }
}

/// One row of a layer: its kernel, variant name, what it runs (direction and variant; `None`
/// for the bias gradient) and the modules' runtime checks.
struct LayerRow {
    kernel: String,
    variant_name: String,
    which: Option<(ConvDirection, ConvVariant)>,
    checks: ShaderChecks,
    /// A 1×1-input transposed convolution as plain matmuls (`latent_gemm.rs`; variant
    /// `gemm`), whatever `which`'s variant.
    gemm: bool,
}

/// Whether `variant` also gets a trusted row: every one but `direct` (the readable baseline),
/// and with `--quick` only `implicit_gemm`.
fn times_trusted(bench: &dyn Bencher, variant: ConvVariant) -> bool {
    if bench.quick() {
        variant == ConvVariant::ImplicitGemm
    } else {
        variant != ConvVariant::Direct
    }
}

/// The variants the benchmarks time: those available, and `coop_f16` wherever the adapter
/// runs it, whatever `ATELIER_PRECISION` says (its rows carry its name: f16 inputs).
fn timed_variants() -> Vec<ConvVariant> {
    ConvVariant::ALL
        .iter()
        .copied()
        .filter(|v| match v {
            ConvVariant::CoopF16 => super::coop::device_unavailable(crate::gpu()).is_none(),
            _ => v.unavailable().is_none(),
        })
        .collect()
}

/// A layer's rows the filter wants: every timed variant that handles the direction of `conv`
/// (the shape special cases only where they serve, `coop_f16` not for weight gradients),
/// conv2d's direction being `direction_of(d)`.
fn rows(
    bench: &dyn Bencher,
    op: &str,
    shape: &str,
    set: VariantSet,
    conv: &Conv2dSpec,
    direction_of: fn(ConvDirection) -> ConvDirection,
) -> Vec<LayerRow> {
    let mut rows = Vec::new();
    for (direction, dname) in DIRECTIONS {
        let problem = ConvProblem {
            spec: *conv,
            direction: direction_of(direction),
        };
        for variant in timed_variants() {
            if !variant.handles(&problem) {
                continue;
            }
            let igemm = variant.igemm().is_some();
            if igemm && (!set.igemm || (bench.quick() && variant != ConvVariant::Igemm128x128)) {
                continue;
            }
            let mut checks = vec![ShaderChecks::On];
            if set.trusted && times_trusted(bench, variant) {
                checks.push(ShaderChecks::Off);
            }
            for c in checks {
                let suffix = if c == ShaderChecks::Off {
                    "+trusted"
                } else {
                    ""
                };
                rows.push(LayerRow {
                    kernel: format!("{op}.{dname}"),
                    variant_name: format!("{}{suffix}", variant.name()),
                    which: Some((direction, variant)),
                    checks: c,
                    gemm: false,
                });
            }
        }
    }
    rows.push(LayerRow {
        kernel: format!("{op}.backward_bias"),
        variant_name: "channel_sum".into(),
        which: None,
        checks: ShaderChecks::On,
        gemm: false,
    });
    rows.retain(|r| bench.wants(&r.kernel, &r.variant_name, shape));
    rows
}

/// `aten.convolution_backward` for one gradient (input, weight) of a convolution.
fn torch_backward(
    stride: (usize, usize),
    pad: (usize, usize),
    transposed: bool,
    out_pad: (usize, usize),
    mask: &str,
) -> String {
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
    TorchOp::new(expr)
        .rand("x", &x)
        .rand("w", &w)
        .rand("gy", &y)
}

fn conv2d_layer(bench: &mut dyn Bencher, spec: &Conv2dSpec, shape: &str, set: VariantSet) {
    if bench.device() == BenchDevice::Cpu {
        return cpu_layer(bench, CpuLayer::Conv(spec), shape);
    }
    let rows = rows(bench, "conv2d", shape, set, spec, |d| d);
    if rows.is_empty() {
        return;
    }
    let lens = [spec.x_len(), spec.w_len(), spec.y_len(), spec.k];
    let copies = copies_for(8.0 * (lens[0] + lens[1] + lens[2]) as f64);
    let sets: Vec<Buffers> = (0..copies)
        .map(|_| Buffers::new(bench.inputs(), lens))
        .collect();
    let shapes = [
        vec![spec.n, spec.c, spec.h, spec.w],
        vec![spec.k, spec.c, spec.r, spec.s],
        vec![spec.n, spec.k, spec.p(), spec.q()],
    ];
    let forward = format!(
        "F.conv2d(x, w, stride=({}, {}), padding=({}, {}), dilation=({}, {}))",
        spec.stride.0, spec.stride.1, spec.pad.0, spec.pad.1, spec.dilation.0, spec.dilation.1
    );
    for LayerRow {
        kernel,
        variant_name,
        which,
        checks,
        gemm: _,
    } in rows
    {
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
            variant: variant_name,
            shape: shape.into(),
            work,
            torch: Some(torch),
        };
        bench.measure(row, copies, &mut |i| {
            let b = &sets[i];
            with_shader_checks(checks, || match which {
                Some((ConvDirection::Forward, v)) => {
                    conv2d_forward_with(v, spec, &b.x, &b.w, None, &b.y)
                }
                Some((ConvDirection::BackwardData, v)) => {
                    conv2d_backward_data_with(v, spec, &b.gy, &b.w, &b.gx)
                }
                Some((ConvDirection::BackwardWeight, v)) => {
                    conv2d_backward_weight_with(v, spec, &b.x, &b.gy, &b.gw)
                }
                None => conv2d_backward_bias(spec, &b.gy, &b.gb),
            })
        });
    }
}

fn transposed_layer(
    bench: &mut dyn Bencher,
    spec: &ConvTranspose2dSpec,
    shape: &str,
    set: VariantSet,
) {
    if bench.device() == BenchDevice::Cpu {
        return cpu_layer(bench, CpuLayer::Transposed(spec), shape);
    }
    // the transposed convolution's forward is conv2d's backward-data, and the reverse
    let as_conv = |d| match d {
        ConvDirection::Forward => ConvDirection::BackwardData,
        ConvDirection::BackwardData => ConvDirection::Forward,
        ConvDirection::BackwardWeight => ConvDirection::BackwardWeight,
    };
    let mut rows = rows(
        bench,
        "conv_transpose2d",
        shape,
        set,
        &spec.as_conv(),
        as_conv,
    );
    if super::latent_gemm::is_plain_gemm(spec) {
        for (direction, dname) in DIRECTIONS {
            let kernel = format!("conv_transpose2d.{dname}");
            if bench.wants(&kernel, "gemm", shape) {
                rows.push(LayerRow {
                    kernel,
                    variant_name: "gemm".into(),
                    which: Some((direction, ConvVariant::Direct)),
                    checks: ShaderChecks::On,
                    gemm: true,
                });
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    let lens = [spec.x_len(), spec.w_len(), spec.y_len(), spec.c_out];
    let copies = copies_for(8.0 * (lens[0] + lens[1] + lens[2]) as f64);
    let sets: Vec<Buffers> = (0..copies)
        .map(|_| Buffers::new(bench.inputs(), lens))
        .collect();
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
    for LayerRow {
        kernel,
        variant_name,
        which,
        checks,
        gemm,
    } in rows
    {
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
            variant: variant_name,
            shape: shape.into(),
            work,
            torch: Some(torch),
        };
        bench.measure(row, copies, &mut |i| {
            let b = &sets[i];
            with_shader_checks(checks, || match which {
                Some((direction, _)) if gemm => match direction {
                    ConvDirection::Forward => latent_gemm::forward(spec, &b.x, &b.w, &b.y),
                    ConvDirection::BackwardData => {
                        latent_gemm::backward_data(spec, &b.gy, &b.w, &b.gx)
                    }
                    ConvDirection::BackwardWeight => {
                        latent_gemm::backward_weight(spec, &b.x, &b.gy, &b.gw)
                    }
                },
                Some((ConvDirection::Forward, v)) => {
                    conv_transpose2d_forward_with(v, spec, &b.x, &b.w, None, &b.y)
                }
                Some((ConvDirection::BackwardData, v)) => {
                    conv_transpose2d_backward_data_with(v, spec, &b.gy, &b.w, &b.gx)
                }
                Some((ConvDirection::BackwardWeight, v)) => {
                    conv_transpose2d_backward_weight_with(v, spec, &b.x, &b.gy, &b.gw)
                }
                None => conv_transpose2d_backward_bias(spec, &b.gy, &b.gb),
            })
        });
    }
}

/// A layer the fast CPU device times.
#[derive(Clone, Copy)]
enum CpuLayer<'a> {
    Conv(&'a Conv2dSpec),
    Transposed(&'a ConvTranspose2dSpec),
}

/// The fast CPU device's kernels (`cpu.rs`) at one layer: the three directions and the bias
/// gradient, variant `cpu`, on host vectors.
fn cpu_layer(bench: &mut dyn Bencher, layer: CpuLayer, shape: &str) {
    let (op, lens, shapes, forward, backward, work, bias_work) = match layer {
        CpuLayer::Conv(spec) => (
            "conv2d",
            [spec.x_len(), spec.w_len(), spec.y_len(), spec.k],
            [
                vec![spec.n, spec.c, spec.h, spec.w],
                vec![spec.k, spec.c, spec.r, spec.s],
                vec![spec.n, spec.k, spec.p(), spec.q()],
            ],
            format!(
                "F.conv2d(x, w, stride=({}, {}), padding=({}, {}), dilation=({}, {}))",
                spec.stride.0,
                spec.stride.1,
                spec.pad.0,
                spec.pad.1,
                spec.dilation.0,
                spec.dilation.1
            ),
            (spec.stride, spec.pad, false, (0, 0)),
            work::conv2d(spec),
            work::conv2d_backward_bias(spec),
        ),
        CpuLayer::Transposed(spec) => (
            "conv_transpose2d",
            [spec.x_len(), spec.w_len(), spec.y_len(), spec.c_out],
            [
                vec![spec.n, spec.c_in, spec.h_in, spec.w_in],
                vec![spec.c_in, spec.c_out, spec.r, spec.s],
                vec![spec.n, spec.c_out, spec.h_out(), spec.w_out()],
            ],
            format!(
                "F.conv_transpose2d(x, w, stride=({}, {}), padding=({}, {}), output_padding=({}, {}))",
                spec.stride.0,
                spec.stride.1,
                spec.pad.0,
                spec.pad.1,
                spec.output_padding.0,
                spec.output_padding.1
            ),
            (spec.stride, spec.pad, true, spec.output_padding),
            work::conv_transpose2d(spec),
            work::conv_transpose2d_backward_bias(spec),
        ),
    };
    let mut kernels: Vec<(String, Option<ConvDirection>)> = DIRECTIONS
        .iter()
        .map(|&(d, dname)| (format!("{op}.{dname}"), Some(d)))
        .collect();
    kernels.push((format!("{op}.backward_bias"), None));
    kernels.retain(|(kernel, _)| bench.wants(kernel, CPU_VARIANT, shape));
    if kernels.is_empty() {
        return;
    }
    let copies = copies_for(8.0 * (lens[0] + lens[1] + lens[2]) as f64);
    let [x, w, y, bias] = lens;
    let mut sets: Vec<[Vec<f32>; 7]> = (0..copies)
        .map(|_| {
            let inputs: &mut Inputs = bench.inputs();
            [
                inputs.host_random(x),
                inputs.host_random(w),
                inputs.host_random(y),
                inputs.host_output(y),
                inputs.host_output(x),
                inputs.host_output(w),
                inputs.host_output(bias),
            ]
        })
        .collect();
    let (stride, pad, transposed, out_pad) = backward;
    for (kernel, direction) in kernels {
        let dname = kernel.split_once('.').map(|(_, d)| d.to_string());
        let backward = |mask: &str| torch_backward(stride, pad, transposed, out_pad, mask);
        let torch = torch(
            direction.and(dname.as_deref()),
            forward.clone(),
            backward,
            shapes.clone(),
        );
        let row = BenchRow {
            family: op,
            kernel,
            variant: CPU_VARIANT.into(),
            shape: shape.into(),
            work: if direction.is_some() { work } else { bias_work },
            torch: Some(torch),
        };
        bench.measure(row, copies, &mut |i| {
            let [x, w, gy, y, gx, gw, gb] = &mut sets[i];
            match (layer, direction) {
                (CpuLayer::Conv(s), Some(ConvDirection::Forward)) => {
                    cpu::conv2d_forward(s, x, w, None, y)
                }
                (CpuLayer::Conv(s), Some(ConvDirection::BackwardData)) => {
                    cpu::conv2d_backward_data(s, gy, w, gx)
                }
                (CpuLayer::Conv(s), Some(ConvDirection::BackwardWeight)) => {
                    cpu::conv2d_backward_weight(s, x, gy, gw)
                }
                (CpuLayer::Conv(s), None) => cpu::conv2d_backward_bias(s, gy, gb),
                (CpuLayer::Transposed(s), Some(ConvDirection::Forward)) => {
                    cpu::conv_transpose2d_forward(s, x, w, None, y)
                }
                (CpuLayer::Transposed(s), Some(ConvDirection::BackwardData)) => {
                    cpu::conv_transpose2d_backward_data(s, gy, w, gx)
                }
                (CpuLayer::Transposed(s), Some(ConvDirection::BackwardWeight)) => {
                    cpu::conv_transpose2d_backward_weight(s, x, gy, gw)
                }
                (CpuLayer::Transposed(s), None) => cpu::conv_transpose2d_backward_bias(s, gy, gb),
            }
        });
    }
}
