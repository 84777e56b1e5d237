//! Pooled host vectors: the fast CPU device's counterpart of the GPU buffer pool. A CPU
//! tensor's f32 storage returns its vector here when the tensor is dropped, and the next
//! output of that length takes it back, so a training loop that repeats its shapes stops
//! allocating after its first step ([`host_stats`] counts what the pool did).
//!
//! A vector from [`take`] holds whatever its last user left: the fast kernels write every
//! element of their outputs (validation poisons outputs with NaN to check that), as on the GPU.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Vectors shorter than this are left to the allocator (cheap, and not worth a lock).
pub const MIN_POOLED: usize = 1024;
/// The pool keeps at most this many idle bytes; beyond it, returned vectors are freed.
const MAX_IDLE_BYTES: usize = 1 << 30;

struct Free {
    by_len: HashMap<usize, Vec<Vec<f32>>>,
    bytes: usize,
}

static FREE: Mutex<Option<Free>> = Mutex::new(None);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static REUSED: AtomicU64 = AtomicU64::new(0);

/// A vector of `len` elements: a pooled one of that length (contents unspecified), else a
/// fresh zeroed one.
pub fn take(len: usize) -> Vec<f32> {
    if len >= MIN_POOLED {
        let reused = FREE.lock().ok().and_then(|mut free| {
            let free = free.as_mut()?;
            let v = free.by_len.get_mut(&len)?.pop()?;
            free.bytes -= 4 * len;
            Some(v)
        });
        if let Some(v) = reused {
            REUSED.fetch_add(1, Relaxed);
            return v;
        }
        ALLOCATED.fetch_add(1, Relaxed);
    }
    vec![0.0; len]
}

/// Gives a vector back to the pool (freed when it is small or the pool is full).
pub fn give(v: Vec<f32>) {
    let len = v.len();
    if len < MIN_POOLED || v.capacity() != len {
        return;
    }
    // a poisoned lock only means another thread panicked; the memory is simply freed
    if let Ok(mut free) = FREE.lock() {
        let free = free.get_or_insert_with(|| Free {
            by_len: HashMap::new(),
            bytes: 0,
        });
        if free.bytes + 4 * len <= MAX_IDLE_BYTES {
            free.bytes += 4 * len;
            free.by_len.entry(len).or_default().push(v);
        }
    }
}

/// What the pool has done since the process started; subtract two snapshots to see what a
/// piece of work did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Vectors of at least [`MIN_POOLED`] elements newly allocated.
    pub allocated: u64,
    /// Vectors taken back from the pool.
    pub reused: u64,
}

impl std::ops::Sub for HostStats {
    type Output = HostStats;
    fn sub(self, o: HostStats) -> HostStats {
        HostStats {
            allocated: self.allocated - o.allocated,
            reused: self.reused - o.reused,
        }
    }
}

impl std::fmt::Display for HostStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} host vectors allocated, {} reused",
            self.allocated, self.reused
        )
    }
}

pub fn host_stats() -> HostStats {
    HostStats {
        allocated: ALLOCATED.load(Relaxed),
        reused: REUSED.load(Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_vector_comes_back_for_the_same_length() {
        // a length no other test uses, so parallel tests do not take it first
        let len = 12_345;
        let mut a = take(len);
        a[0] = 7.0;
        let ptr = a.as_ptr();
        give(a);
        let b = take(len);
        assert_eq!(b.as_ptr(), ptr, "the pooled vector came back");
        assert_eq!(b[0], 7.0, "take keeps the previous contents");
        assert_eq!(take(len).len(), len);
    }
}
