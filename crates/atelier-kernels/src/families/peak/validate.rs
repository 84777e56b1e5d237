//! Validation of `peak.wgsl`: the ceiling kernels must compute what they claim, or
//! the benchmark suite's FLOP count for them would be fiction.

use super::reference as r;
use super::{self as k, FmaPeak};
use crate::gpu;

use crate::harness::{TOL_FORWARD, Validator};

pub fn run(v: &mut Validator) {
    let g = gpu();
    if v.wants("peak.fma_peak") {
        // outputs: 1, a prime, more than a workgroup; iterations: 1, a prime, a few hundred
        for (n, iters) in [(1, 1), (7, 13), (257, 3), (1031, 301)] {
            let cfg = FmaPeak::new(iters);
            let out = v.poisoned(n);
            k::fma_peak(&cfg, &out);
            let mut want = vec![0.0f32; n];
            r::fma_peak(&cfg, &mut want);
            let got = v.read(&out);
            let case = format!("n={n} iters={iters}");
            v.check("peak.fma_peak", "vec4x8", &case, &got, &want, TOL_FORWARD);
        }
        // the longest loop the launcher allows, on a recurrence that shows a loop cut short
        let cfg = FmaPeak::counting(k::MAX_FMA_ITERS);
        let out = v.poisoned(7);
        k::fma_peak(&cfg, &out);
        let mut want = vec![0.0f32; 7];
        r::fma_peak(&cfg, &mut want);
        let got = v.read(&out);
        let case = format!("counting, iters={}", k::MAX_FMA_ITERS);
        v.check("peak.fma_peak", "vec4x8", &case, &got, &want, TOL_FORWARD);
    }
    if v.wants("peak.copy_vec4") {
        for n in [1, 7, 257, 4099, 65_537] {
            let src = v.rand(n);
            let srcb = g.upload(&src);
            let dst = v.poisoned(n);
            k::copy_vec4(&srcb, &dst);
            let mut want = vec![0.0f32; n];
            r::copy_vec4(&src, &mut want);
            let got = v.read(&dst);
            v.check(
                "peak.copy_vec4",
                "vec4",
                &format!("n={n}"),
                &got,
                &want,
                TOL_FORWARD,
            );
        }
    }
}
