//! Timing GPU work: GPU timestamps when the adapter has them (the profiler's per-dispatch
//! times, which exclude submit and host overhead), wall clock around a synchronised submit
//! when it has not (or when `ATELIER_BENCH_CLOCK=wall` asks for it); and host time alone for
//! the fast CPU device's work (`Clock::Host`), which never touches the GPU.
//!
//! What a timestamp measures: wgpu's Vulkan backend writes both of a pass's timestamps at
//! BOTTOM_OF_PIPE, so a pass's time runs from the moment all earlier work has finished to the
//! moment its own has. Runs recorded back to back are therefore each measured as the time
//! they add to the stream: a gap before a dispatch counts, an overlap with the previous one
//! does not, and the per-run times add up to the stream's busy time.

use std::time::{Duration, Instant};

use atelier_kernels::gpu;

/// How benchmarks clock the GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Timestamp queries around every compute pass; a run's time is the sum of its passes.
    Timestamps,
    /// Host time from recording a run to the end of a synchronised submit of it.
    WallClock,
    /// Host time around a run of CPU work (the fast CPU device); no GPU is opened.
    Host,
}

impl Clock {
    /// Timestamps when the device has `TIMESTAMP_QUERY` (this turns the profiler on and keeps
    /// per-dispatch times), else wall clock. `ATELIER_BENCH_CLOCK=wall` forces the wall clock.
    pub fn choose() -> Clock {
        let forced_wall = std::env::var("ATELIER_BENCH_CLOCK").is_ok_and(|v| v == "wall");
        if !forced_wall && gpu().enable_profiling(true) {
            Clock::Timestamps
        } else {
            Clock::WallClock
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Clock::Timestamps => "gpu-timestamps",
            Clock::WallClock => "wall-clock",
            Clock::Host => "host-clock",
        }
    }
}

/// The time of each of `runs` runs of `op(i)` (i = 0, 1, ...), in seconds. With timestamps
/// the runs are recorded back to back and submitted together; every run must launch the
/// same number of dispatches. With the wall clock each run is submitted and waited for alone.
pub fn time_each(clock: Clock, runs: usize, mut op: impl FnMut(usize)) -> Vec<f64> {
    if clock == Clock::Host {
        return (0..runs)
            .map(|i| {
                let start = Instant::now();
                op(i);
                start.elapsed().as_secs_f64()
            })
            .collect();
    }
    let g = gpu();
    match clock {
        Clock::Host => unreachable!("timed above"),
        Clock::Timestamps => {
            // finish (and forget) whatever was recorded before
            g.take_dispatch_times();
            for i in 0..runs {
                op(i);
            }
            let times = g.take_dispatch_times();
            assert!(
                runs > 0 && !times.is_empty() && times.len().is_multiple_of(runs),
                "timing: {} dispatches over {runs} runs: each run must launch the same kernels",
                times.len()
            );
            times
                .chunks(times.len() / runs)
                .map(|run| run.iter().map(|t| t.ns).sum::<f64>() * 1e-9)
                .collect()
        }
        Clock::WallClock => {
            g.synchronize();
            (0..runs)
                .map(|i| {
                    let start = Instant::now();
                    op(i);
                    g.synchronize();
                    start.elapsed().as_secs_f64()
                })
                .collect()
        }
    }
}

/// The total time of `runs` runs of `op(i)`, for criterion's `iter_custom`. The wall clock
/// here spans one submit of all the runs.
pub fn time_total(clock: Clock, runs: u64, mut op: impl FnMut(usize)) -> Duration {
    match clock {
        Clock::Timestamps | Clock::Host => {
            let each = time_each(clock, runs as usize, op);
            Duration::from_secs_f64(each.iter().sum())
        }
        Clock::WallClock => {
            let g = gpu();
            g.synchronize();
            let start = Instant::now();
            for i in 0..runs as usize {
                op(i);
            }
            g.synchronize();
            start.elapsed()
        }
    }
}

/// The median of `times`.
pub fn median(times: &[f64]) -> f64 {
    let mut times = times.to_vec();
    times.sort_by(f64::total_cmp);
    let n = times.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        times[n / 2]
    } else {
        0.5 * (times[n / 2 - 1] + times[n / 2])
    }
}
