//! CPU reference of `peak.wgsl`.

use crate::Real;
use crate::peak::{FMA_CHAINS, FMA_UNROLL, FmaPeak};

/// out[i] = the lane sum of 8 vec4 chains after `UNROLL * iters` steps of `c = c * a + b`,
/// chain k of lane l starting at `l/4 + k/8 + (i % 1024) / 1000`.
pub fn fma_peak<T: Real>(cfg: &FmaPeak, out: &mut [T]) {
    let a = T::from_f64(cfg.a as f64);
    let b = T::from_f64(cfg.b as f64);
    let steps = FMA_UNROLL * cfg.iters as usize;
    for (i, o) in out.iter_mut().enumerate() {
        let base = (i % 1024) as f32 * 0.001;
        let mut sum = T::zero();
        for chain in 0..FMA_CHAINS {
            for lane in 0..4 {
                // the shader's start value, rounded to f32 the way it computes it
                let start = (lane as f32 * 0.25 + base) + chain as f32 * 0.125;
                let mut c = T::from_f64(start as f64);
                for _ in 0..steps {
                    c = c * a + b;
                }
                sum += c;
            }
        }
        *o = sum;
    }
}

/// dst = src.
pub fn copy_vec4<T: Real>(src: &[T], dst: &mut [T]) {
    dst.copy_from_slice(src);
}
