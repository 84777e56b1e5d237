//! Launchers for `peak.wgsl`: the FMA-throughput and copy-bandwidth kernels that
//! `cargo xtask bench` runs first to measure the machine's ceilings.

use bytemuck::{Pod, Zeroable};

use super::PEAK;
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;

pub const FMA_PEAK: Kernel = Kernel::new(&PEAK, "fma_peak");
pub const COPY_VEC4: Kernel = Kernel::new(&PEAK, "copy_vec4");

/// Independent vec4 chains per invocation, and steps of every chain per loop iteration (the
/// shader's constants).
pub const FMA_CHAINS: usize = 8;
pub const FMA_UNROLL: usize = 4;
/// Most loop iterations `fma_peak` runs: well inside software Vulkan's loop cutoff (llvmpipe
/// silently ends a shader's loops after about 65,535 iterations, as few as 21,845 seen for
/// some loops). `cargo xtask validate` runs this count on a recurrence that shows a cut.
pub const MAX_FMA_ITERS: u32 = 10_000;

/// The recurrence `fma_peak` runs: every chain steps `c = c * a + b`, `UNROLL * iters` times.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FmaPeak {
    pub iters: u32,
    pub a: f32,
    pub b: f32,
}

impl FmaPeak {
    /// `iters` loop iterations of a recurrence that converges to 1.0.
    pub fn new(iters: u32) -> FmaPeak {
        FmaPeak {
            iters,
            a: 0.999,
            b: 0.001,
        }
    }

    /// A recurrence that does not converge (`c += 1/1024` each step, exact in f32), so a loop
    /// cut short shows in the result: for validation.
    pub fn counting(iters: u32) -> FmaPeak {
        FmaPeak {
            iters,
            a: 1.0,
            b: 1.0 / 1024.0,
        }
    }

    /// Floating-point operations of one run over `invocations` outputs (an FMA counts as 2).
    pub fn flops(&self, invocations: usize) -> f64 {
        2.0 * 4.0 * (FMA_CHAINS * FMA_UNROLL) as f64 * self.iters as f64 * invocations as f64
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    iters: u32,
    a: f32,
    b: f32,
}

/// out[i] = the lane sum of 8 vec4 chains after `UNROLL * iters` FMA steps (see the shader).
pub fn fma_peak(cfg: &FmaPeak, out: &GpuBuffer) {
    assert!(
        cfg.iters <= MAX_FMA_ITERS,
        "fma_peak: iters {} above {MAX_FMA_ITERS} (software Vulkan's loop limiter)",
        cfg.iters
    );
    let n = u32::try_from(out.len()).expect("fma_peak: at most 2^32 - 1 outputs");
    let params = Params {
        n,
        iters: cfg.iters,
        a: cfg.a,
        b: cfg.b,
    };
    gpu().launch_elements(&FMA_PEAK, &[], &params, &[out], out.len());
}

/// dst = src, as vec4s (both of the same length).
pub fn copy_vec4(src: &GpuBuffer, dst: &GpuBuffer) {
    assert_eq!(
        src.len(),
        dst.len(),
        "copy_vec4: src has {} elements, dst {}",
        src.len(),
        dst.len()
    );
    let n4 = src.len().div_ceil(4);
    let params = Params {
        n: u32::try_from(n4).expect("copy_vec4: at most 2^32 - 1 vec4s"),
        iters: 0,
        a: 0.0,
        b: 0.0,
    };
    gpu().launch_elements(&COPY_VEC4, &[], &params, &[src, dst], n4);
}
