//! conv_transpose2d at the DCGAN generator's layers (batch 64 and 128): forward,
//! backward-data and backward-weight, each `direct` and `implicit_gemm` (the same kernels as
//! conv2d: forward is conv2d's backward-data, backward-data is conv2d's forward).
//!
//! FLOPs: 2·N·C_in·H_in·W_in·C_out·R·S in every direction; backward-bias N·C_out·H_out·W_out.
//! Bytes: x, weight and y once each (`atelier_benches::work::conv_transpose2d`).

use atelier_benches::inputs::Inputs;
use atelier_benches::shapes::{self, ConvTransposeLayer};
use atelier_benches::work;
use atelier_kernels::GpuBuffer;
use atelier_kernels::kernels::conv2d::{
    self as k, ConvDirection, ConvTranspose2dSpec, ConvVariant,
};

use super::Suite;
use super::conv2d::DIRECTIONS;

fn layers(suite: &Suite) -> Vec<ConvTransposeLayer> {
    suite
        .dcgan_batches()
        .iter()
        .flat_map(|&b| shapes::dcgan_generator(b))
        .collect()
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
    fn new(inputs: &mut Inputs, spec: &ConvTranspose2dSpec) -> Buffers {
        Buffers {
            x: inputs.random(spec.x_len()),
            w: inputs.random(spec.w_len()),
            gy: inputs.random(spec.y_len()),
            y: inputs.output(spec.y_len()),
            gx: inputs.output(spec.x_len()),
            gw: inputs.output(spec.w_len()),
            gb: inputs.output(spec.c_out),
        }
    }
}

fn launch(direction: ConvDirection, variant: ConvVariant, spec: &ConvTranspose2dSpec, b: &Buffers) {
    match direction {
        ConvDirection::Forward => {
            k::conv_transpose2d_forward(variant, spec, &b.x, &b.w, None, &b.y)
        }
        ConvDirection::BackwardData => {
            k::conv_transpose2d_backward_data(variant, spec, &b.gy, &b.w, &b.gx)
        }
        ConvDirection::BackwardWeight => {
            k::conv_transpose2d_backward_weight(variant, spec, &b.x, &b.gy, &b.gw)
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
                let kernel = format!("conv_transpose2d.{dname}");
                rows.push((kernel, variant.name(), Some((direction, variant))));
            }
        }
        rows.push(("conv_transpose2d.backward_bias".into(), "channel_sum", None));
        rows.retain(|(kernel, variant, _)| suite.wants(kernel, variant, &shape));
        if rows.is_empty() {
            continue;
        }
        let bytes = 8.0 * (spec.x_len() + spec.w_len() + spec.y_len()) as f64;
        let copies = suite.copies_for(bytes);
        let sets: Vec<Buffers> = (0..copies)
            .map(|_| Buffers::new(&mut suite.inputs, &spec))
            .collect();
        for (kernel, variant_name, which) in rows {
            let family = "conv_transpose2d";
            match which {
                Some((direction, variant)) => {
                    let work = work::conv_transpose2d(&spec);
                    suite.measure(family, &kernel, variant_name, &shape, work, copies, |i| {
                        launch(direction, variant, &spec, &sets[i])
                    });
                }
                None => {
                    let work = work::conv_transpose2d_backward_bias(&spec);
                    suite.measure(family, &kernel, variant_name, &shape, work, copies, |i| {
                        k::conv_transpose2d_backward_bias(&spec, &sets[i].gy, &sets[i].gb)
                    });
                }
            }
        }
    }
}
