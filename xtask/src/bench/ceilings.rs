//! The machine's ceilings, measured before any kernel: FMA throughput (`peak::fma_peak`, a
//! register-bound kernel validated by `cargo xtask validate --filter peak`) and copy
//! bandwidth (`peak::copy_vec4` over buffers far larger than any cache). They run whatever
//! `--filter` says: every other row is reported as a percentage of them.
//!
//! FLOPs: fma_peak does 2 · 4 lanes · 8 chains · 4 unrolled steps · iters per invocation;
//! copy_vec4 moves 2 · 4 · len bytes (read and write) and does no arithmetic.
//!
//! With `--device cpu` the same two rows measure the CPU (`measure_cpu`): FMA chains of 8
//! lanes on every thread of the fast CPU device's pool (2 · 8 · 10 chains · iters per thread),
//! and a parallel copy.

use atelier_benches::timing;
use atelier_kernels::harness::Work;
use atelier_kernels::peak::{self, FmaPeak, MAX_FMA_ITERS};
use atelier_kernels::{GpuBuffer, elementwise};

use super::{Ceilings, Suite, own_row};

/// Invocations of fma_peak: enough workgroups (4096 of 256) to fill any GPU several times.
const FMA_INVOCATIONS: usize = 1 << 20;
/// fma_peak's loop count grows until one run takes this long.
const FMA_RUN_S: f64 = 0.02;
/// Floats copied: 256 MiB (64 MiB with --quick), both far above the L2 of an H100 (50 MB)
/// and the L3 that lavapipe's CPU has (32 MB here); less where the device cannot bind that
/// much (lavapipe: 128 MiB).
const COPY_LEN: usize = 64 << 20;
const QUICK_COPY_LEN: usize = 16 << 20;

pub fn measure(suite: &mut Suite) -> Ceilings {
    let out = GpuBuffer::uninit(FMA_INVOCATIONS);
    let mut iters = 8u32;
    loop {
        let cfg = FmaPeak::new(iters);
        let t = timing::time_each(suite.clock, 1, |_| peak::fma_peak(&cfg, &out))[0];
        if t >= FMA_RUN_S || iters >= MAX_FMA_ITERS {
            break;
        }
        let grow = (FMA_RUN_S / t.max(1e-9) * 1.2).ceil() as u32;
        iters = (iters.saturating_mul(grow.clamp(2, 64))).min(MAX_FMA_ITERS);
    }
    let cfg = FmaPeak::new(iters);
    let work = Work {
        flops: cfg.flops(FMA_INVOCATIONS),
        bytes: 4.0 * FMA_INVOCATIONS as f64,
    };
    let shape = format!("{FMA_INVOCATIONS} invocations x {iters} iters");
    let row = own_row("peak", "peak.fma", "vec4x8", &shape, work);
    let fma = suite
        .measure_with(suite.clock, row, 1, &mut |_| peak::fma_peak(&cfg, &out))
        .gflops();
    drop(out);

    let limits = &atelier_kernels::gpu().limits;
    let bindable = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size) as usize
        / 4;
    let len = if suite.quick {
        QUICK_COPY_LEN
    } else {
        COPY_LEN
    }
    .min(bindable / 4 * 4);
    let src = GpuBuffer::uninit(len);
    let dst = GpuBuffer::uninit(len);
    // the values do not matter to a copy; they only have to be written once
    elementwise::fill(&src, 1.0);
    elementwise::fill(&dst, 0.0);
    let work = Work {
        flops: 0.0,
        bytes: 2.0 * 4.0 * len as f64,
    };
    let shape = format!("{} MiB", (len * 4) >> 20);
    let row = own_row("peak", "peak.copy", "vec4", &shape, work);
    let bandwidth = suite
        .measure_with(suite.clock, row, 1, &mut |_| peak::copy_vec4(&src, &dst))
        .gbs();
    Ceilings {
        fma_gflops: fma,
        bandwidth_gbs: bandwidth,
    }
}

/// The fast CPU device's ceilings (`atelier_kernels::cpu::peak`): FMA chains on every thread
/// of the pool, and a parallel copy of buffers far larger than the caches. Host clock.
pub fn measure_cpu(suite: &mut Suite) -> Ceilings {
    use atelier_kernels::cpu::peak as cpu_peak;
    let mut iters = 1024usize;
    loop {
        let t = timing::time_each(suite.clock, 1, |_| {
            std::hint::black_box(cpu_peak::fma_peak(iters, 0.5));
        })[0];
        if t >= FMA_RUN_S {
            break;
        }
        iters *= ((FMA_RUN_S / t.max(1e-9) * 1.2).ceil() as usize).clamp(2, 64);
    }
    let work = Work {
        flops: cpu_peak::fma_flops(iters),
        bytes: 0.0,
    };
    let threads = atelier_kernels::cpu::threads();
    let shape = format!("{threads} threads x {iters} iters");
    let variant = format!("{}x{}", cpu_peak::fma_kind(), cpu_peak::CHAINS);
    let row = own_row("peak", "peak.fma", &variant, &shape, work);
    let fma = suite
        .measure_with(suite.clock, row, 1, &mut |_| {
            std::hint::black_box(cpu_peak::fma_peak(iters, 0.5));
        })
        .gflops();

    let len = if suite.quick {
        QUICK_COPY_LEN
    } else {
        COPY_LEN
    };
    let src = vec![1.0f32; len];
    let mut dst = vec![0.0f32; len];
    let work = Work {
        flops: 0.0,
        bytes: 2.0 * 4.0 * len as f64,
    };
    let shape = format!("{} MiB", (len * 4) >> 20);
    let row = own_row("peak", "peak.copy", "parallel", &shape, work);
    let bandwidth = suite
        .measure_with(suite.clock, row, 1, &mut |_| cpu_peak::copy(&src, &mut dst))
        .gbs();
    Ceilings {
        fma_gflops: fma,
        bandwidth_gbs: bandwidth,
    }
}
