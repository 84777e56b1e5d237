//! Tuning (`ATELIER_KERNELS=<family>=tune`): the first time a problem of a family is met,
//! run every candidate variant on the real inputs, time it, and keep the fastest, as
//! PyTorch's `cudnn.benchmark = True` does. A family's automatic rule is a guess made on some
//! device; tuning measures the device at hand.
//!
//! Tuning waits for the GPU (a warm-up run, then the best of [`TIMED_RUNS`] wall-clock runs
//! per candidate, each submitted and waited for), so it happens in a run's first step only:
//! later steps look the choice up and record as usual. Each candidate writes the real output,
//! and the caller then launches the chosen one, so the result is the chosen variant's. Every
//! choice is printed once on stderr with the times it was made from.
//!
//! Choices last beyond the process: they are kept in a cache file per adapter and driver
//! (`~/.cache/atelier/tune-<adapter>.json`; [`file`](mod@file) says what it holds,
//! [`setting`] where it lives and how `ATELIER_TUNE_CACHE=off|FOLDER` moves it), read at
//! first use. So a second run on the same machine starts with the tuned choices instead of
//! timing every candidate again.
//! On a hardware adapter the automatic selection uses them too ([`remembered`]); a software
//! adapter (lavapipe, llvmpipe) keeps the families' rules unless a family is set to `tune`.

pub mod file;
pub mod setting;
mod store;

use std::time::Instant;

use crate::context::{gpu, gpu_if_created};
use crate::variant::Variant;

pub use setting::{CacheSetting, with_tune_cache};
pub use store::{CacheSummary, key};

/// Timed runs per candidate, after one warm-up (pipeline compilation, first touch).
pub const TIMED_RUNS: usize = 3;

/// The variant tuning chose for this problem (in this process or an earlier run on this
/// adapter, in the cache in force), if any.
pub fn tuned_choice<V: Variant>(problem: &V::Problem) -> Option<V> {
    store::lookup::<V>(problem)
}

/// For the automatic selection: the tuned choice for this problem, on a hardware adapter
/// only (on a software adapter the family's rule stays, as timings there say little about a
/// GPU).
pub fn remembered<V: Variant>(problem: &V::Problem) -> Option<V> {
    let g = gpu_if_created()?;
    remembered_on(g.is_software(), problem)
}

/// What [`remembered`] answers on a software adapter (`software`) or a hardware one.
pub fn remembered_on<V: Variant>(software: bool, problem: &V::Problem) -> Option<V> {
    if software {
        None
    } else {
        store::lookup::<V>(problem)
    }
}

/// How many problems (of every family) the cache in force holds choices for: read from its
/// file or tuned since.
pub fn tuned_count() -> usize {
    cache_summary().choices
}

/// Where the cache in force is and what it holds (reads its file the first time).
pub fn cache_summary() -> CacheSummary {
    store::summary()
}

/// The variant with the lowest time (the first of equals, in the order given).
pub fn fastest<V: Copy>(times: &[(V, f64)]) -> V {
    times
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|t| t.0)
        .expect("atelier: no variant to tune")
}

/// The choice for this problem: the cached one, else timing the candidates with `launch`.
pub fn tuned<V: Variant>(problem: &V::Problem, launch: &mut dyn FnMut(V)) -> V {
    // a cached choice this run cannot make (a reduced-precision variant under fp32) is timed
    // again among what it can
    if let Some(v) = tuned_choice::<V>(problem).filter(|v| v.unavailable().is_none()) {
        return v;
    }
    let g = gpu();
    g.synchronize();
    let times: Vec<(V, f64)> = V::candidates(problem)
        .into_iter()
        .map(|v| {
            let mut run = || crate::variant::launching(v, problem, true, &mut *launch);
            run();
            g.synchronize();
            let best = (0..TIMED_RUNS)
                .map(|_| {
                    let start = Instant::now();
                    run();
                    g.synchronize();
                    start.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            (v, best)
        })
        .collect();
    let chosen = fastest(&times);
    let report: Vec<String> = times
        .iter()
        .map(|(v, t)| format!("{} {:.3} ms", v.name(), t * 1e3))
        .collect();
    eprintln!(
        "atelier: tune {}: {} -> {}",
        key::<V>(problem),
        report.join(", "),
        chosen.name()
    );
    store::remember(problem, chosen, &times);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastest_is_the_lowest_time_and_the_first_of_equals() {
        assert_eq!(fastest(&[("a", 3.0), ("b", 1.0), ("c", 2.0)]), "b");
        assert_eq!(fastest(&[("a", 1.0), ("b", 1.0)]), "a");
    }
}
