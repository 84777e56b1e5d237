//! The fast CPU device's ceilings, for `cargo xtask bench --device cpu`: FMA throughput of a
//! register-bound kernel on every thread of the pool, and copy bandwidth over buffers far
//! larger than the caches. Every CPU row is reported as a percentage of these, as GPU rows are
//! of `peak::fma_peak` and `peak::copy_vec4`.
//!
//! The FMA kernel keeps [`CHAINS`] independent accumulators of 8 lanes each (AVX2 registers
//! where the CPU has AVX2 and FMA, detected at run time, as the `gemm` crate does), so that two
//! FMA units with a 4–5 cycle latency stay busy; each step is `acc = acc · A + B`, whose fixed
//! point is 1, so the values never overflow or become subnormal. Without AVX2 + FMA it runs the
//! same chains as plain f32 multiply-adds, which the compiler vectorises with what the target
//! has (the row says which ran).

use crate::cpu::threads::{self, GRAIN, for_chunks_mut};

/// Independent accumulators per thread.
pub const CHAINS: usize = 10;
/// Lanes per accumulator.
pub const LANES: usize = 8;
const A: f32 = 0.999;
const B: f32 = 0.001;

/// Which FMA kernel runs on this CPU.
pub fn fma_kind() -> &'static str {
    if has_avx2_fma() {
        "avx2-fma"
    } else {
        "portable"
    }
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// FLOPs of one [`fma_peak`] call with `iters` steps.
pub fn fma_flops(iters: usize) -> f64 {
    2.0 * (LANES * CHAINS * iters * threads::threads()) as f64
}

/// Runs `iters` steps of the chains on every thread of the pool; returns the sum of every
/// thread's accumulators (so the work cannot be optimised away; each thread starts from
/// `start`).
pub fn fma_peak(iters: usize, start: f32) -> f32 {
    let n = threads::threads();
    let mut sums = vec![0.0f32; n];
    // one piece per thread: the grain is the whole pool's share
    threads::install(|| {
        use rayon::prelude::*;
        sums.par_iter_mut().for_each(|s| *s = chains(iters, start));
    });
    sums.iter().sum()
}

/// One thread's chains: the sum of all lanes after `iters` steps.
pub fn chains(iters: usize, start: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked above)
        return unsafe { chains_avx2(iters, start) };
    }
    chains_portable(iters, start)
}

fn chains_portable(iters: usize, start: f32) -> f32 {
    let mut acc = [[start; LANES]; CHAINS];
    for _ in 0..iters {
        for chain in acc.iter_mut() {
            for lane in chain.iter_mut() {
                *lane = *lane * A + B;
            }
        }
    }
    acc.iter().flatten().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_avx2(iters: usize, start: f32) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(A), _mm256_set1_ps(B));
    let mut acc = [_mm256_set1_ps(start); CHAINS];
    for _ in 0..iters {
        for chain in acc.iter_mut() {
            *chain = _mm256_fmadd_ps(*chain, a, b);
        }
    }
    let mut lanes = [0.0f32; LANES];
    let mut total = 0.0;
    for chain in acc {
        // SAFETY: `lanes` holds 8 f32s, an unaligned store's whole width
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), chain) };
        total += lanes.iter().sum::<f32>();
    }
    total
}

/// What one step does to one lane, in f64 (for the check).
pub fn chains_reference(iters: usize, start: f32) -> f64 {
    let mut v = start as f64;
    for _ in 0..iters {
        v = v * A as f64 + B as f64;
    }
    v * (LANES * CHAINS) as f64
}

/// dst = src, in parallel pieces over the pool.
pub fn copy(src: &[f32], dst: &mut [f32]) {
    assert_eq!(src.len(), dst.len(), "copy: lengths differ");
    for_chunks_mut(dst, 1, GRAIN, |start, d| {
        d.copy_from_slice(&src[start..start + d.len()])
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fma_chains_compute_what_they_count() {
        for (iters, start) in [(0, 0.5), (1, 0.5), (37, -3.0), (1000, 2.0)] {
            let want = chains_reference(iters, start);
            for got in [chains(iters, start), chains_portable(iters, start)] {
                // f32 steps round (each about 6e-8 relative) where the f64 ones do not
                assert!(
                    ((got as f64 - want) / want.abs().max(1.0)).abs() < 1e-4,
                    "{iters} steps from {start}: {got} != {want}"
                );
            }
        }
        let all = fma_peak(10, 1.5) as f64;
        let want = chains_reference(10, 1.5) * threads::threads() as f64;
        assert!((all - want).abs() / want < 1e-5, "{all} != {want}");
    }

    #[test]
    fn the_copy_copies_every_element() {
        let src: Vec<f32> = (0..100_003).map(|i| i as f32).collect();
        let mut dst = vec![f32::NAN; src.len()];
        copy(&src, &mut dst);
        assert_eq!(src, dst);
    }
}
