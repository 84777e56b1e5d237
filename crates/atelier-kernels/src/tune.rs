//! Tuning (`ATELIER_KERNELS=<family>=tune`): the first time the process meets a problem of a
//! family, run every candidate variant on the real inputs, time it, and keep the fastest for
//! the rest of the process, as PyTorch's `cudnn.benchmark = True` does. A family's automatic
//! rule is a guess made on some device; tuning measures the device at hand.
//!
//! Tuning waits for the GPU (a warm-up run, then the best of [`TIMED_RUNS`] wall-clock runs
//! per candidate, each submitted and waited for), so it happens in a run's first step only:
//! later steps look the choice up and record as usual. Each candidate writes the real output,
//! and the caller then launches the chosen one, so the result is the chosen variant's. Every
//! choice is printed once on stderr with the times it was made from.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use crate::context::gpu;
use crate::variant::Variant;

/// Timed runs per candidate, after one warm-up (pipeline compilation, first touch).
pub const TIMED_RUNS: usize = 3;

/// `family: problem` → the chosen variant's name.
type Choices = HashMap<String, &'static str>;

fn choices() -> &'static Mutex<Choices> {
    static CHOICES: OnceLock<Mutex<Choices>> = OnceLock::new();
    CHOICES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn key<V: Variant>(problem: &V::Problem) -> String {
    format!("{}: {problem:?}", V::FAMILY)
}

/// The variant tuning chose for this problem, if it has met it.
pub fn tuned_choice<V: Variant>(problem: &V::Problem) -> Option<V> {
    let name = *choices().lock().unwrap().get(&key::<V>(problem))?;
    V::parse(name)
}

/// How many problems (of every family) have been tuned.
pub fn tuned_count() -> usize {
    choices().lock().unwrap().len()
}

/// The variant with the lowest time (the first of equals, in the order given).
pub fn fastest<V: Copy>(times: &[(V, f64)]) -> V {
    times
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|t| t.0)
        .expect("atelier: no variant to tune")
}

/// The choice for this problem, timing the candidates with `launch` the first time.
pub fn tuned<V: Variant>(problem: &V::Problem, launch: &mut dyn FnMut(V)) -> V {
    if let Some(v) = tuned_choice::<V>(problem) {
        return v;
    }
    let g = gpu();
    g.synchronize();
    let times: Vec<(V, f64)> = V::candidates(problem)
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
        "atelier: tune {}: {} -> {}",
        key::<V>(problem),
        report.join(", "),
        chosen.name()
    );
    choices()
        .lock()
        .unwrap()
        .insert(key::<V>(problem), chosen.name());
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
