//! The whole DCGAN training step (`atelier_gan::Dcgan::step`: D on a real and a fake batch,
//! D's Adam step, G through D, G's Adam step), the number to put beside PyTorch's
//! (`scripts/torch_bench.py` times pytorch/examples' step the same way).
//!
//! Unlike the kernel rows this one is always timed with the wall clock around a synchronised
//! step, as PyTorch's baseline is: a step's cost includes recording and submitting its
//! dispatches and any gap between them, which GPU timestamps would leave out. Profiling is
//! turned off first, so no timestamp is written inside the step.
//!
//! Each configuration runs twice, with the convolution variants chosen per shape
//! (`conv2d=auto`, variant `conv=auto`) and tuned on the device (`conv2d=tune`, `conv=tune`:
//! the warm-up step times every candidate); or once, as `conv=<value>`, when the environment
//! sets conv2d's selection (`ATELIER_KERNELS=conv2d=...`). The first of them runs once more
//! with trusted shader modules (`conv=auto+trusted`: every kernel without wgpu's runtime
//! checks, see `atelier_kernels::shader_checks`); the others keep the checks.
//!
//! The full suite runs pytorch/examples' DCGAN (64×64, ngf = ndf = 64) at each DCGAN batch
//! (64 and 128, or `--batch`); `--quick` runs the README demo's network (32×32, width 16,
//! batch 8). FLOPs: the convolutions the step needs (`step_flops`); bytes are not counted, so
//! the row stays off the roofline. `images/s` is batch / median time.
//!
//! With `--device cpu` the step runs on CPU tensors (the fast CPU device), variant `cpu`, at
//! the fast CPU issue's two networks: the README demo's and pytorch/examples' (64×64, width
//! 64), both at batch 8 (`--batch` runs pytorch/examples' at those batches instead); no
//! timeline is written.
//!
//! After the timed steps of the last configuration (the largest batch), one more step runs
//! with the timestamp profiler on and keeps its timeline (`--trace FILE`, Chrome trace-event
//! JSON: every dispatch on the GPU, its recording on the CPU); its per-kernel profile is
//! printed at the end of the suite.

use std::path::Path;

use atelier_benches::timing::Clock;
use atelier_gan::{Dcgan, DcganConfig, latent};
use atelier_kernels::conv2d::Conv2dSpec;
use atelier_kernels::gpu;
use atelier_kernels::harness::BenchDevice;
use atelier_kernels::harness::work::{Work, conv2d_macs};
use atelier_kernels::shader_checks::{ShaderChecks, with_shader_checks};
use atelier_kernels::variant::{env_settings, with_kernels};
use atelier_tensor::{Device, Tensor};

use super::{Suite, own_row};

pub const KERNEL: &str = "dcgan.step";

/// The `--quick` network: the README demo's.
const QUICK: (DcganConfig, usize) = (
    DcganConfig {
        nz: 100,
        ngf: 16,
        ndf: 16,
        channels: 3,
        image_size: 32,
    },
    8,
);

/// The row's shape label, which `cargo xtask compare` parses: `64x64 ngf64 ndf64 N128`.
pub fn label(config: &DcganConfig, batch: usize) -> String {
    format!(
        "{s}x{s} ngf{} ndf{} N{batch}",
        config.ngf,
        config.ndf,
        s = config.image_size
    )
}

fn conv(n: usize, c: usize, side: usize, k: usize, stride: usize, pad: usize) -> Conv2dSpec {
    Conv2dSpec {
        n,
        c,
        h: side,
        w: side,
        k,
        r: 4,
        s: 4,
        stride: (stride, stride),
        pad: (pad, pad),
        dilation: (1, 1),
    }
}

/// Multiply-adds of one forward pass of D and of G, and of their first layers, at `batch`.
/// A transposed convolution does the multiply-adds of the convolution it is the backward of,
/// so G's layers are counted as D-shaped convolutions from the image back to the latent.
fn forward_macs(config: &DcganConfig, batch: usize) -> [f64; 4] {
    let stages = config.stages();
    let chain = |width: usize| -> Vec<f64> {
        // image → width → 2·width → ... (stride-2 4×4 convs), then 4×4 → 1×1 (valid 4×4 conv)
        let mut macs = Vec::new();
        let (mut c, mut side) = (config.channels, config.image_size);
        for i in 0..stages {
            let k = width << i;
            macs.push(conv2d_macs(&conv(batch, c, side, k, 2, 1)));
            c = k;
            side /= 2;
        }
        macs.push(conv2d_macs(&conv(batch, c, side, 1, 1, 0)));
        macs
    };
    let d = chain(config.ndf);
    // G: the latent (nz channels at 1×1) takes the place of D's one output channel
    let mut g = chain(config.ngf);
    *g.last_mut().unwrap() *= config.nz as f64;
    [d.iter().sum(), g.iter().sum(), d[0], *g.last().unwrap()]
}

/// FLOPs of the convolutions in one `Dcgan::step`: G forward once, D forward three times (real,
/// fake for D, fake for G); D's backward twice with both gradients (no input gradient at D's
/// first layer: real and fake.detach() need none), D's backward once more for G with input
/// gradients only (D's parameters are frozen there), and G's backward with both (no gradient
/// for the noise). PyTorch's baseline also computes D's weight gradients in G's phase, one
/// D forward's worth more.
pub fn step_flops(config: &DcganConfig, batch: usize) -> f64 {
    let [d, g, d_first, g_first] = forward_macs(config, batch);
    let d_macs = 3.0 * d + 2.0 * (2.0 * d - d_first) + d;
    let g_macs = g + (2.0 * g - g_first);
    2.0 * (d_macs + g_macs)
}

/// The CPU suite's batch for pytorch/examples' network (the fast CPU issue's target).
const CPU_BATCH: usize = 8;

fn configs(suite: &Suite) -> Vec<(DcganConfig, usize)> {
    if suite.quick && suite.batches.is_none() {
        return vec![QUICK];
    }
    let full = DcganConfig::default();
    if suite.device == BenchDevice::Cpu && suite.batches.is_none() {
        return vec![QUICK, (full, CPU_BATCH)];
    }
    suite
        .dcgan_batches()
        .into_iter()
        .map(|b| (full, b))
        .collect()
}

/// conv2d's selections to run the step with (the environment's, or auto and tune), each
/// with wgpu's runtime checks, then the first with trusted modules; `None`: the fast CPU
/// device, which has one way to run each kernel.
fn conv_modes(device: BenchDevice) -> Vec<Option<(String, ShaderChecks)>> {
    if device == BenchDevice::Cpu {
        return vec![None];
    }
    let modes: Vec<String> = match env_settings().ok().and_then(|s| s.get("conv2d")) {
        Some(v) => vec![v.to_string()],
        None => vec!["auto".into(), "tune".into()],
    };
    let trusted = (modes[0].clone(), ShaderChecks::Off);
    let mut all: Vec<_> = modes
        .into_iter()
        .map(|m| Some((m, ShaderChecks::On)))
        .collect();
    all.push(Some(trusted));
    all
}

/// Times the step of every configuration; returns the profile of the traced step (the first
/// row of the last configuration), or `None` when no row ran or the device cannot time.
pub fn run(suite: &mut Suite, trace: &Path) -> anyhow::Result<Option<String>> {
    let on_gpu = suite.device == BenchDevice::Gpu;
    let (device, clock) = if on_gpu {
        (Device::Gpu, Clock::WallClock)
    } else {
        (Device::Cpu, Clock::Host)
    };
    let configs = configs(suite);
    let mut traced = None;
    for (i, (config, batch)) in configs.iter().copied().enumerate() {
        let shape = label(&config, batch);
        for mode in conv_modes(suite.device) {
            let variant = match &mode {
                None => "cpu".to_string(),
                Some((m, ShaderChecks::Off)) => format!("conv={m}+trusted"),
                Some((m, _)) => format!("conv={m}"),
            };
            if !suite.wants(KERNEL, &variant, &shape) {
                continue;
            }
            let trace_this = on_gpu && i + 1 == configs.len() && traced.is_none();
            if on_gpu {
                gpu().disable_profiling();
            }
            let work = Work {
                flops: step_flops(&config, batch),
                bytes: 0.0,
            };
            let row = own_row("dcgan", KERNEL, &variant, &shape, work);
            let body = || {
                let mut gan = Dcgan::new(config, device, 0, 2e-4);
                let s = config.image_size;
                let real =
                    Tensor::rand_uniform(&[batch, config.channels, s, s], -1.0, 1.0, 1, device);
                let z = latent::noise(batch, config.nz, 2, device);
                suite.measure_with(clock, row, 1, &mut |_| {
                    gan.step(&real, &z);
                });
                if trace_this {
                    let what = format!("{KERNEL} {variant} {shape}");
                    traced = Some(trace_step(&what, trace, &mut || {
                        gan.step(&real, &z);
                    }));
                }
            };
            match mode {
                Some((m, checks)) => {
                    with_shader_checks(checks, || with_kernels(&format!("conv2d={m}"), body))
                        .expect("conv2d's selections are checked")
                }
                None => body(),
            }
        }
    }
    traced.transpose().map(Option::flatten)
}

/// Runs `step` once with the profiler on, writes its timeline to `path`, and returns its
/// per-kernel profile (`None` without timestamp queries).
fn trace_step(what: &str, path: &Path, step: &mut dyn FnMut()) -> anyhow::Result<Option<String>> {
    let g = gpu();
    if !g.start_trace() {
        println!(
            "no timeline of {what}: {} has no timestamp queries",
            g.info.name
        );
        return Ok(None);
    }
    step();
    let profile = g.profile().expect("profiling is on");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let written = g.write_trace(path);
    g.disable_profiling();
    let dispatches = written?;
    Ok(Some(format!(
        "one {what}, profiled: {dispatches} dispatches; timeline: {} (open it in https://ui.perfetto.dev or chrome://tracing)\n{profile}",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64×64 DCGAN at batch 1 by hand: D's forward is 3→64@32² + 64→128@16² + 128→256@8²
    /// + 256→512@4² (4×4 taps each) + 512→1@1²; G's is the same chain with ngf and nz.
    #[test]
    fn step_flops_of_the_64px_dcgan() {
        let taps = 16.0;
        let d = taps
            * (3.0 * 64.0 * 1024.0
                + 64.0 * 128.0 * 256.0
                + 128.0 * 256.0 * 64.0
                + 256.0 * 512.0 * 16.0
                + 512.0);
        let g = taps
            * (3.0 * 64.0 * 1024.0
                + 64.0 * 128.0 * 256.0
                + 128.0 * 256.0 * 64.0
                + 256.0 * 512.0 * 16.0
                + 512.0 * 100.0);
        let (d1, g1) = (taps * 3.0 * 64.0 * 1024.0, taps * 512.0 * 100.0);
        let expected = 2.0 * (8.0 * d - 2.0 * d1 + 3.0 * g - g1);
        let got = step_flops(&DcganConfig::default(), 1);
        assert!(
            (got - expected).abs() < 1e-6 * expected,
            "{got} vs {expected}"
        );
        // linear in the batch
        assert!(
            (step_flops(&DcganConfig::default(), 128) - 128.0 * expected).abs() < 1e-3 * expected
        );
    }

    #[test]
    fn labels_parse_back() {
        assert_eq!(
            label(&DcganConfig::default(), 128),
            "64x64 ngf64 ndf64 N128"
        );
        assert_eq!(label(&QUICK.0, QUICK.1), "32x32 ngf16 ndf16 N8");
    }
}
