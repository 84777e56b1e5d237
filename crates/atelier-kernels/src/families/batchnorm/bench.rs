//! batchnorm (training mode) at the DCGAN layers that have one (after G1–G4 and D2–D4, batch
//! 64 and 128): the statistics, the normalisation, and the two backward kernels. The two
//! per-channel reductions (stats, backward_reduce) run in each `BatchNormReduction` variant
//! the device has (`workgroup`; `subgroup` where it has subgroups).
//!
//! FLOPs per element: stats 4, apply 4, backward_reduce 5, backward_apply 8. Bytes: each
//! full-size tensor once (stats reads x; apply x and y; backward_reduce x and gy;
//! backward_apply x, gy and gx) plus the per-channel vectors (`harness::work`).
//! On the fast CPU device (`xtask bench --device cpu`): the four kernels of `cpu.rs`, variant
//! `cpu`.

use super::{self as k, BatchNormConfig, BatchNormMode, BatchNormReduction};
use crate::GpuBuffer;
use crate::harness::bench::copies_for;
use crate::harness::networks::{self, NormLayer};
use crate::harness::work::{self, BatchNormKernel};
use crate::harness::{BenchDevice, BenchRow, Bencher, CPU_VARIANT, Inputs, TorchOp};
use crate::variant::Variant;

const KERNELS: [(BatchNormKernel, &str); 4] = [
    (BatchNormKernel::Stats, "batchnorm.stats"),
    (BatchNormKernel::Apply, "batchnorm.apply"),
    (BatchNormKernel::BackwardReduce, "batchnorm.backward_reduce"),
    (BatchNormKernel::BackwardApply, "batchnorm.backward_apply"),
];
/// The variant name of the kernels that have one variant (an invocation per element).
const ONLY_VARIANT: &str = "default";

/// The variants of `kernel`: the reductions' `BatchNormReduction`s this device has, or the
/// one variant of the others (`None`).
fn variants(kernel: BatchNormKernel) -> Vec<Option<BatchNormReduction>> {
    match kernel {
        BatchNormKernel::Stats | BatchNormKernel::BackwardReduce => BatchNormReduction::available()
            .into_iter()
            .map(Some)
            .collect(),
        BatchNormKernel::Apply | BatchNormKernel::BackwardApply => vec![None],
    }
}

fn variant_name(variant: Option<BatchNormReduction>) -> &'static str {
    variant.map_or(ONLY_VARIANT, BatchNormReduction::name)
}

fn layers(bench: &dyn Bencher) -> Vec<NormLayer> {
    bench
        .dcgan_batches()
        .iter()
        .flat_map(|&b| networks::dcgan_batchnorms(b))
        .collect()
}

/// The same work in PyTorch: the CUDA kernels of SyncBatchNorm (the same four-kernel split),
/// and on a CPU, where those do not exist, the same arithmetic in plain ops.
fn torch(kernel: BatchNormKernel, cfg: &BatchNormConfig, side: usize) -> TorchOp {
    let (n, c, hw) = (cfg.n, cfg.c, cfg.hw);
    let nchw = [n, c, side, side];
    let bc = "[None, :, None, None]";
    let xhat = format!("((x - mean{bc}) * invstd{bc})");
    let (expr, cpu) = match kernel {
        BatchNormKernel::Stats => (
            format!("torch.batch_norm_stats(x, {})", cfg.eps),
            "torch.var_mean(x, (0, 2, 3), unbiased=False)".to_string(),
        ),
        BatchNormKernel::Apply => (
            format!("torch.batch_norm_elemt(x, weight, bias, mean, invstd, {})", cfg.eps),
            format!("{xhat} * weight{bc} + bias{bc}"),
        ),
        BatchNormKernel::BackwardReduce => (
            "torch.batch_norm_backward_reduce(gy, x, mean, invstd, weight, True, True, True)"
                .to_string(),
            format!("(gy.sum((0, 2, 3)), (gy * {xhat}).sum((0, 2, 3)))"),
        ),
        BatchNormKernel::BackwardApply => (
            "torch.batch_norm_backward_elemt(gy, x, mean, invstd, weight, sum_dy, sum_dy_xmu, count)"
                .to_string(),
            format!(
                "(gy - (sum_dy / count){bc} - {xhat} * (sum_dy_xmu / count * invstd){bc}) * (invstd * weight){bc}"
            ),
        ),
    };
    TorchOp::new(expr)
        .on_cpu(cpu)
        .rand("x", &nchw)
        .rand("gy", &nchw)
        .rand("weight", &[c])
        .rand("bias", &[c])
        .rand("mean", &[c])
        .positive("invstd", &[c])
        .rand("sum_dy", &[c])
        .rand("sum_dy_xmu", &[c])
        .count("count", n * hw)
}

struct Buffers<B> {
    x: B,
    gy: B,
    y: B,
    gx: B,
    mean: B,
    invstd: B,
    running_mean: B,
    running_var: B,
    gamma: B,
    beta: B,
    ggamma: B,
    gbeta: B,
}

impl Buffers<Vec<f32>> {
    fn host(inputs: &mut Inputs, cfg: &BatchNormConfig) -> Self {
        let c = cfg.c;
        Buffers {
            x: inputs.host_random(cfg.len()),
            gy: inputs.host_random(cfg.len()),
            y: inputs.host_output(cfg.len()),
            gx: inputs.host_output(cfg.len()),
            mean: inputs.host_random(c),
            invstd: inputs.host_random_in(c, 0.5, 2.0),
            running_mean: inputs.host_random(c),
            running_var: inputs.host_random_in(c, 0.5, 2.0),
            gamma: inputs.host_random(c),
            beta: inputs.host_random(c),
            ggamma: inputs.host_random(c),
            gbeta: inputs.host_random(c),
        }
    }
}

/// One run of `kernel` on the fast CPU device.
fn launch_cpu(kernel: BatchNormKernel, cfg: &BatchNormConfig, b: &mut Buffers<Vec<f32>>) {
    use super::cpu;
    match kernel {
        BatchNormKernel::Stats => cpu::batchnorm_stats(
            cfg,
            &b.x,
            &mut b.mean,
            &mut b.invstd,
            &mut b.running_mean,
            &mut b.running_var,
        ),
        BatchNormKernel::Apply => {
            cpu::batchnorm_apply(cfg, &b.x, &b.mean, &b.invstd, &b.gamma, &b.beta, &mut b.y)
        }
        BatchNormKernel::BackwardReduce => cpu::batchnorm_backward_reduce(
            cfg,
            &b.x,
            &b.gy,
            &b.mean,
            &b.invstd,
            &mut b.ggamma,
            &mut b.gbeta,
        ),
        BatchNormKernel::BackwardApply => cpu::batchnorm_backward_apply(
            cfg,
            BatchNormMode::Training,
            &b.x,
            &b.gy,
            &b.mean,
            &b.invstd,
            &b.gamma,
            &b.ggamma,
            &b.gbeta,
            &mut b.gx,
        ),
    }
}

/// The fast CPU device's four kernels at the same layers.
fn run_cpu(bench: &mut dyn Bencher) {
    for layer in layers(bench) {
        let cfg = layer.cfg;
        let shape = layer.label();
        let runs: Vec<_> = KERNELS
            .into_iter()
            .filter(|&(_, name)| bench.wants(name, CPU_VARIANT, &shape))
            .collect();
        if runs.is_empty() {
            continue;
        }
        let copies = copies_for(16.0 * cfg.len() as f64);
        let mut sets: Vec<Buffers<Vec<f32>>> = (0..copies)
            .map(|_| Buffers::host(bench.inputs(), &cfg))
            .collect();
        for (kernel, name) in runs {
            let row = BenchRow {
                family: "batchnorm",
                kernel: name.into(),
                variant: CPU_VARIANT.into(),
                shape: shape.clone(),
                work: work::batchnorm(kernel, cfg.len(), cfg.c),
                torch: Some(torch(kernel, &cfg, layer.side)),
            };
            bench.measure(row, copies, &mut |i| launch_cpu(kernel, &cfg, &mut sets[i]));
        }
    }
}

impl Buffers<GpuBuffer> {
    fn new(inputs: &mut Inputs, cfg: &BatchNormConfig) -> Self {
        let c = cfg.c;
        Buffers {
            x: inputs.random(cfg.len()),
            gy: inputs.random(cfg.len()),
            y: inputs.output(cfg.len()),
            gx: inputs.output(cfg.len()),
            mean: inputs.random(c),
            invstd: inputs.random_in(c, 0.5, 2.0),
            running_mean: inputs.random(c),
            running_var: inputs.random_in(c, 0.5, 2.0),
            gamma: inputs.random(c),
            beta: inputs.random(c),
            ggamma: inputs.random(c),
            gbeta: inputs.random(c),
        }
    }
}

fn launch(
    kernel: BatchNormKernel,
    variant: Option<BatchNormReduction>,
    cfg: &BatchNormConfig,
    b: &Buffers<GpuBuffer>,
) {
    let reduction = variant.unwrap_or(BatchNormReduction::Workgroup);
    match kernel {
        BatchNormKernel::Stats => k::batchnorm_stats_with(
            reduction,
            cfg,
            &b.x,
            &b.mean,
            &b.invstd,
            &b.running_mean,
            &b.running_var,
        ),
        BatchNormKernel::Apply => {
            k::batchnorm_apply(cfg, &b.x, &b.mean, &b.invstd, &b.gamma, &b.beta, &b.y)
        }
        BatchNormKernel::BackwardReduce => k::batchnorm_backward_reduce_with(
            reduction, cfg, &b.x, &b.gy, &b.mean, &b.invstd, &b.ggamma, &b.gbeta,
        ),
        BatchNormKernel::BackwardApply => k::batchnorm_backward_apply(
            cfg,
            BatchNormMode::Training,
            &b.x,
            &b.gy,
            &b.mean,
            &b.invstd,
            &b.gamma,
            &b.ggamma,
            &b.gbeta,
            &b.gx,
        ),
    }
}

pub fn run(bench: &mut dyn Bencher) {
    if bench.device() == BenchDevice::Cpu {
        return run_cpu(bench);
    }
    for layer in layers(bench) {
        let cfg = layer.cfg;
        let shape = layer.label();
        let runs: Vec<_> = KERNELS
            .into_iter()
            .flat_map(|(kernel, name)| variants(kernel).into_iter().map(move |v| (kernel, name, v)))
            .filter(|&(_, name, v)| bench.wants(name, variant_name(v), &shape))
            .collect();
        if runs.is_empty() {
            continue;
        }
        let copies = copies_for(16.0 * cfg.len() as f64);
        let sets: Vec<Buffers<GpuBuffer>> = (0..copies)
            .map(|_| Buffers::new(bench.inputs(), &cfg))
            .collect();
        for (kernel, name, variant) in runs {
            let row = BenchRow {
                family: "batchnorm",
                kernel: name.into(),
                variant: variant_name(variant).into(),
                shape: shape.clone(),
                work: work::batchnorm(kernel, cfg.len(), cfg.c),
                torch: Some(torch(kernel, &cfg, layer.side)),
            };
            bench.measure(row, copies, &mut |i| {
                launch(kernel, variant, &cfg, &sets[i])
            });
        }
    }
}
