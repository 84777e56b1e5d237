//! The fast CPU device's threads: one rayon pool for every op (and for the GEMM inside
//! them), of `ATELIER_THREADS` threads or, by default, one per core.
//!
//! Waking the pool costs a few microseconds, so work under [`GRAIN`] elements (or whatever
//! grain an op passes) runs on the calling thread; larger work is split into at most a few
//! pieces per thread.

use std::ops::Range;
use std::sync::OnceLock;

use rayon::prelude::*;

/// Elements below which a pointwise op stays on the calling thread (PyTorch's grain too).
pub const GRAIN: usize = 32 * 1024;

/// The thread count `ATELIER_THREADS` asks for: `None` when unset, an error naming the
/// variable when it is not a positive integer.
pub fn thread_setting() -> Result<Option<usize>, crate::Error> {
    match std::env::var("ATELIER_THREADS") {
        Err(_) => Ok(None),
        Ok(v) => parse_threads(&v),
    }
}

fn parse_threads(v: &str) -> Result<Option<usize>, crate::Error> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    match v.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(crate::Error::Config(format!(
            "ATELIER_THREADS={v:?} is not a positive whole number of threads"
        ))),
    }
}

/// Cores the OS lets this process use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = match thread_setting() {
            Ok(n) => n.unwrap_or_else(cores),
            Err(e) => panic!("atelier: {e}"),
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("atelier-cpu-{i}"))
            .build()
            .expect("atelier: cannot start the CPU thread pool")
    })
}

/// Threads of the fast CPU device's pool.
pub fn threads() -> usize {
    pool().current_num_threads()
}

/// Runs `f` inside the pool (so rayon calls within it, the GEMM's included, use its threads).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() && rayon::current_num_threads() == threads() {
        return f();
    }
    pool().install(f)
}

/// How many pieces to split `n` items into: one when `n < grain` (or one thread), else up to
/// four per thread, each at least `grain` long.
fn pieces(n: usize, grain: usize) -> usize {
    let t = threads();
    if t == 1 || n < 2 * grain.max(1) {
        return 1;
    }
    (n / grain.max(1)).clamp(1, 4 * t)
}

/// Calls `f(range)` for disjoint ranges covering `0..n`, in parallel when there is enough.
pub fn for_ranges(n: usize, grain: usize, f: impl Fn(Range<usize>) + Sync + Send) {
    let parts = pieces(n, grain);
    if parts <= 1 {
        if n > 0 {
            f(0..n);
        }
        return;
    }
    let step = n.div_ceil(parts);
    install(|| {
        (0..parts).into_par_iter().for_each(|p| {
            let start = p * step;
            if start < n {
                f(start..(start + step).min(n));
            }
        })
    });
}

/// Splits `out` into pieces of whole `unit`s (a row, a plane; 1 for pointwise ops) and calls
/// `f(first unit, piece)` for each, in parallel when `out` holds at least two grains.
pub fn for_chunks_mut<T: Send>(
    out: &mut [T],
    unit: usize,
    grain: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let unit = unit.max(1);
    let units = out.len() / unit;
    let parts = pieces(out.len(), grain).min(units.max(1));
    if parts <= 1 {
        if !out.is_empty() {
            f(0, out);
        }
        return;
    }
    let per = units.div_ceil(parts) * unit;
    install(|| {
        out.par_chunks_mut(per)
            .enumerate()
            .for_each(|(i, piece)| f(i * per / unit, piece))
    });
}

/// As [`for_chunks_mut`] for two outputs split at the same units (`a` has `unit_a` elements
/// per unit, `b` has `unit_b`).
pub fn for_chunks<A: Send, B: Send>(
    a: &mut [A],
    unit_a: usize,
    b: &mut [B],
    unit_b: usize,
    grain: usize,
    f: impl Fn(usize, &mut [A], &mut [B]) + Sync + Send,
) {
    let (unit_a, unit_b) = (unit_a.max(1), unit_b.max(1));
    let units = a.len() / unit_a;
    assert_eq!(
        b.len() / unit_b,
        units,
        "for_chunks: outputs hold different unit counts"
    );
    let parts = pieces(a.len().max(b.len()), grain).min(units.max(1));
    if parts <= 1 {
        f(0, a, b);
        return;
    }
    let per = units.div_ceil(parts);
    install(|| {
        a.par_chunks_mut(per * unit_a)
            .zip(b.par_chunks_mut(per * unit_b))
            .enumerate()
            .for_each(|(i, (pa, pb))| f(i * per, pa, pb))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn ranges_cover_everything_once() {
        for n in [0, 1, 7, GRAIN * 2 + 3, GRAIN * 9] {
            let seen: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            for_ranges(n, GRAIN, |r| {
                for i in r {
                    seen[i].fetch_add(1, Ordering::Relaxed);
                }
            });
            assert!(
                seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
                "n = {n}"
            );
        }
    }

    #[test]
    fn chunks_are_whole_units_and_know_where_they_start() {
        let unit = 5;
        let mut out = vec![0usize; unit * 20_000];
        for_chunks_mut(&mut out, unit, 1000, |first, piece| {
            assert_eq!(piece.len() % unit, 0);
            for (j, v) in piece.iter_mut().enumerate() {
                *v = first * unit + j;
            }
        });
        assert!(out.iter().enumerate().all(|(i, &v)| i == v));
    }

    #[test]
    fn thread_counts_parse_and_a_bad_one_names_the_variable() {
        assert_eq!(parse_threads("3").unwrap(), Some(3));
        assert_eq!(parse_threads(" ").unwrap(), None);
        for bad in ["0", "-2", "many"] {
            let e = parse_threads(bad).unwrap_err().to_string();
            assert!(e.contains("ATELIER_THREADS") && e.contains(bad), "{e}");
        }
    }
}
