//! `ATELIER_CONV=tune`: the first time the process meets a convolution shape and direction,
//! run every candidate variant on the real inputs, time it, and keep the fastest for the
//! rest of the process, as PyTorch's `cudnn.benchmark = True` does. The rule of
//! [`ConvVariant::auto`] was fitted on a software adapter; tuning measures the device at hand.
//!
//! Tuning waits for the GPU (a warm-up run, then the best of [`TIMED_RUNS`] wall-clock runs
//! per candidate, each submitted and waited for), so it happens in a run's first step only:
//! later steps look the choice up and record as usual. Each candidate writes the real output,
//! and the caller then launches the chosen one, so the result is the chosen variant's. Every
//! choice is printed once on stderr with the times it was made from.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::conv2d::{Conv2dSpec, ConvDirection, ConvVariant};
use crate::context::gpu;

/// Timed runs per candidate, after one warm-up (pipeline compilation, first touch).
pub const TIMED_RUNS: usize = 3;

type Choices = HashMap<(Conv2dSpec, ConvDirection), ConvVariant>;

fn choices() -> &'static Mutex<Choices> {
    static CHOICES: OnceLock<Mutex<Choices>> = OnceLock::new();
    CHOICES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The variant tuning chose for this shape and direction, if it has met it.
pub fn tuned_choice(spec: &Conv2dSpec, direction: ConvDirection) -> Option<ConvVariant> {
    choices().lock().unwrap().get(&(*spec, direction)).copied()
}

/// How many shapes and directions have been tuned.
pub fn tuned_count() -> usize {
    choices().lock().unwrap().len()
}

/// The variant with the lowest time (the first of equals, in [`ConvVariant::ALL`]'s order).
pub fn fastest(times: &[(ConvVariant, f64)]) -> ConvVariant {
    times
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|t| t.0)
        .expect("atelier: no convolution variant to tune")
}

/// The choice for this shape and direction, timing the candidates with `launch` the first
/// time.
pub fn tuned(
    spec: &Conv2dSpec,
    direction: ConvDirection,
    launch: &mut dyn FnMut(ConvVariant),
) -> ConvVariant {
    if let Some(v) = tuned_choice(spec, direction) {
        return v;
    }
    let g = gpu();
    g.synchronize();
    let times: Vec<(ConvVariant, f64)> = ConvVariant::candidates(spec, direction)
        .into_iter()
        .map(|v| {
            launch(v);
            g.synchronize();
            let best = (0..TIMED_RUNS)
                .map(|_| {
                    let start = Instant::now();
                    launch(v);
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
        "atelier: conv tune {:?} N{} C{} {}x{} > K{} {}x{} stride {:?} pad {:?}: {} -> {}",
        direction,
        spec.n,
        spec.c,
        spec.h,
        spec.w,
        spec.k,
        spec.r,
        spec.s,
        spec.stride,
        spec.pad,
        report.join(", "),
        chosen.name()
    );
    choices().lock().unwrap().insert((*spec, direction), chosen);
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastest_is_the_lowest_time_and_the_first_of_equals() {
        let times = [
            (ConvVariant::Direct, 3.0),
            (ConvVariant::ImplicitGemm, 1.0),
            (ConvVariant::ImplicitGemm8x8, 2.0),
        ];
        assert_eq!(fastest(&times), ConvVariant::ImplicitGemm);
        let tie = [(ConvVariant::Direct, 1.0), (ConvVariant::ImplicitGemm, 1.0)];
        assert_eq!(fastest(&tie), ConvVariant::Direct);
    }
}
