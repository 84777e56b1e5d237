//! Device statistics: what the engine did, so a user (or a test) can see that a training loop
//! submits rarely, reuses its buffers and compiles nothing after the first step.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub(crate) struct Stats {
    pub submits: AtomicU64,
    pub dispatches: AtomicU64,
    pub compute_passes: AtomicU64,
    pub bind_groups_created: AtomicU64,
    pub bind_groups_reused: AtomicU64,
    pub copies: AtomicU64,
    pub buffers_allocated: AtomicU64,
    pub buffers_reused: AtomicU64,
    pub bytes_allocated: AtomicU64,
    pub pipelines_compiled: AtomicU64,
    pub uploads: AtomicU64,
    pub readbacks: AtomicU64,
    pub chunks: AtomicU64,
    pub staged: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Relaxed);
    }

    pub fn snapshot(&self) -> DeviceStats {
        DeviceStats {
            submits: self.submits.load(Relaxed),
            dispatches: self.dispatches.load(Relaxed),
            compute_passes: self.compute_passes.load(Relaxed),
            bind_groups_created: self.bind_groups_created.load(Relaxed),
            bind_groups_reused: self.bind_groups_reused.load(Relaxed),
            copies: self.copies.load(Relaxed),
            buffers_allocated: self.buffers_allocated.load(Relaxed),
            buffers_reused: self.buffers_reused.load(Relaxed),
            bytes_allocated: self.bytes_allocated.load(Relaxed),
            pipelines_compiled: self.pipelines_compiled.load(Relaxed),
            uploads: self.uploads.load(Relaxed),
            readbacks: self.readbacks.load(Relaxed),
            chunks: self.chunks.load(Relaxed),
            staged: self.staged.load(Relaxed),
        }
    }
}

/// A snapshot of the device counters since the context was created. Subtract two snapshots
/// to see what a piece of work did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    pub submits: u64,
    pub dispatches: u64,
    /// Compute passes begun: consecutive dispatches share one (one per dispatch when profiling).
    pub compute_passes: u64,
    /// Bind groups created (bind-group cache misses) and taken from the cache (hits).
    pub bind_groups_created: u64,
    pub bind_groups_reused: u64,
    pub copies: u64,
    pub buffers_allocated: u64,
    pub buffers_reused: u64,
    pub bytes_allocated: u64,
    pub pipelines_compiled: u64,
    pub uploads: u64,
    pub readbacks: u64,
    /// Launches of a chunk of a tensor larger than one binding (see `chunk`).
    pub chunks: u64,
    /// Launches on copies of windows that do not start at a bindable offset (see
    /// `Gpu::launch_grid`).
    pub staged: u64,
}

impl std::ops::Sub for DeviceStats {
    type Output = DeviceStats;
    fn sub(self, o: DeviceStats) -> DeviceStats {
        DeviceStats {
            submits: self.submits - o.submits,
            dispatches: self.dispatches - o.dispatches,
            compute_passes: self.compute_passes - o.compute_passes,
            bind_groups_created: self.bind_groups_created - o.bind_groups_created,
            bind_groups_reused: self.bind_groups_reused - o.bind_groups_reused,
            copies: self.copies - o.copies,
            buffers_allocated: self.buffers_allocated - o.buffers_allocated,
            buffers_reused: self.buffers_reused - o.buffers_reused,
            bytes_allocated: self.bytes_allocated - o.bytes_allocated,
            pipelines_compiled: self.pipelines_compiled - o.pipelines_compiled,
            uploads: self.uploads - o.uploads,
            readbacks: self.readbacks - o.readbacks,
            chunks: self.chunks - o.chunks,
            staged: self.staged - o.staged,
        }
    }
}

impl fmt::Display for DeviceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "submits {}, dispatches {} in {} compute passes, bind groups created {} / reused {}, \
             copies {}, buffers allocated {} ({:.1} MiB) / reused {}, pipelines compiled {}, \
             uploads {}, read-backs {}",
            self.submits,
            self.dispatches,
            self.compute_passes,
            self.bind_groups_created,
            self.bind_groups_reused,
            self.copies,
            self.buffers_allocated,
            self.bytes_allocated as f64 / (1 << 20) as f64,
            self.buffers_reused,
            self.pipelines_compiled,
            self.uploads,
            self.readbacks
        )
    }
}
