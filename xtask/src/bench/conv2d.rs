//! conv2d at the DCGAN discriminator's layers (batch 64 and 128) and VGG-19's 3×3 layers
//! (256 and 512 px, batch 1): forward, backward-data and backward-weight, each `direct` and
//! `implicit_gemm`, and the bias gradient.
//!
//! FLOPs: 2·N·K·P·Q·C·R·S in every direction (padded taps included); backward-bias N·K·P·Q.
//! Bytes: x, weight and y once each (`atelier_benches::work::conv2d`).

use atelier_benches::inputs::Inputs;
use atelier_benches::shapes::{self, ConvLayer, VGG_SIDES};
use atelier_benches::work;
use atelier_kernels::GpuBuffer;
use atelier_kernels::kernels::conv2d::{self as k, Conv2dSpec, ConvDirection, ConvVariant};

use super::Suite;

/// `--quick`: the two deepest VGG shapes, at a 32 px image.
const QUICK_VGG_SIDE: usize = 32;

pub const DIRECTIONS: [(ConvDirection, &str); 3] = [
    (ConvDirection::Forward, "forward"),
    (ConvDirection::BackwardData, "backward_data"),
    (ConvDirection::BackwardWeight, "backward_weight"),
];

fn layers(suite: &Suite) -> Vec<ConvLayer> {
    let batches = suite.dcgan_batches();
    let dcgan = batches.iter().flat_map(|&b| shapes::dcgan_discriminator(b));
    let vgg: Vec<ConvLayer> = if suite.quick {
        shapes::vgg19_convs(QUICK_VGG_SIDE)
            .into_iter()
            .skip(7)
            .collect()
    } else {
        VGG_SIDES
            .iter()
            .flat_map(|&s| shapes::vgg19_convs(s))
            .collect()
    };
    dcgan.chain(vgg).collect()
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
    fn new(inputs: &mut Inputs, spec: &Conv2dSpec) -> Buffers {
        Buffers {
            x: inputs.random(spec.x_len()),
            w: inputs.random(spec.w_len()),
            gy: inputs.random(spec.y_len()),
            y: inputs.output(spec.y_len()),
            gx: inputs.output(spec.x_len()),
            gw: inputs.output(spec.w_len()),
            gb: inputs.output(spec.k),
        }
    }
}

/// Runs one conv2d direction with `variant` on buffers `b`.
fn launch(direction: ConvDirection, variant: ConvVariant, spec: &Conv2dSpec, b: &Buffers) {
    match direction {
        ConvDirection::Forward => k::conv2d_forward(variant, spec, &b.x, &b.w, None, &b.y),
        ConvDirection::BackwardData => k::conv2d_backward_data(variant, spec, &b.gy, &b.w, &b.gx),
        ConvDirection::BackwardWeight => {
            k::conv2d_backward_weight(variant, spec, &b.x, &b.gy, &b.gw)
        }
    }
}

pub fn run(suite: &mut Suite) {
    for layer in layers(suite) {
        let spec = layer.spec;
        let shape = layer.label();
        let mut rows = Vec::new();
        for (direction, dname) in DIRECTIONS {
            for variant in ConvVariant::ALL {
                rows.push((
                    format!("conv2d.{dname}"),
                    variant.name(),
                    Some((direction, variant)),
                ));
            }
        }
        rows.push(("conv2d.backward_bias".to_string(), "channel_sum", None));
        rows.retain(|(kernel, variant, _)| suite.wants(kernel, variant, &shape));
        if rows.is_empty() {
            continue;
        }
        // buffers for every row of the layer: x, w, y and their gradients
        let bytes = 8.0 * (spec.x_len() + spec.w_len() + spec.y_len()) as f64;
        let copies = suite.copies_for(bytes);
        let sets: Vec<Buffers> = (0..copies)
            .map(|_| Buffers::new(&mut suite.inputs, &spec))
            .collect();
        for (kernel, variant_name, which) in rows {
            match which {
                Some((direction, variant)) => {
                    suite.measure(
                        "conv2d",
                        &kernel,
                        variant_name,
                        &shape,
                        work::conv2d(&spec),
                        copies,
                        |i| launch(direction, variant, &spec, &sets[i]),
                    );
                }
                None => {
                    suite.measure(
                        "conv2d",
                        &kernel,
                        variant_name,
                        &shape,
                        work::conv2d_backward_bias(&spec),
                        copies,
                        |i| k::conv2d_backward_bias(&spec, &sets[i].gy, &sets[i].gb),
                    );
                }
            }
        }
    }
}
