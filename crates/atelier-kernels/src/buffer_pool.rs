//! The buffer pool. A tensor's GPU storage is a `GpuBuffer`; dropping it returns the wgpu
//! buffer to the pool, keyed by its byte size, and the next request of that size reuses it.
//! A training loop that repeats the same shapes therefore allocates only in its first step.
//!
//! Of the free buffers of a size, a request gets the one created first (the lowest id), not
//! the one returned last. Which buffers are free at each request is then the same in every
//! step of a loop, whatever order its tensors were dropped in, so every step binds the same
//! buffers to the same kernels and the recorder's bind-group cache hits (with last-in-first-out
//! the buffers rotate from step to step, and the cache would need many steps to see them all).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::context::gpu;
use crate::memory::OutOfDeviceMemory;
use crate::stats::Stats;

/// Storage buffers carry STORAGE (kernels), COPY_SRC (read-back, clone) and COPY_DST (upload).
pub(crate) const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
pub(crate) const STAGING_USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// Byte sizes are rounded up to 16 so that vec4 kernels may read a whole last vector.
pub(crate) fn padded_bytes(len: usize) -> u64 {
    ((len.max(1) * 4) as u64).div_ceil(16) * 16
}

/// A pooled wgpu buffer with its id: unique for the life of the process (never reused, unlike
/// an address), so the bind-group cache can key on it.
pub(crate) struct PooledBuffer {
    pub buffer: wgpu::Buffer,
    pub id: u64,
}

struct Free {
    buffer: PooledBuffer,
    /// The recorder epoch in which the buffer was last bound to a kernel (see `recorder`).
    used_epoch: u64,
}

#[derive(Default)]
pub(crate) struct BufferPool {
    /// Free buffers per (byte size, staging), by id.
    free: Mutex<HashMap<(u64, bool), BTreeMap<u64, Free>>>,
    /// Bytes of the buffers created and not yet dropped by [`BufferPool::clear`].
    held: AtomicU64,
}

impl BufferPool {
    /// A buffer of `bytes`, from the free list when one is there.
    pub(crate) fn take(&self, bytes: u64, staging: bool) -> (PooledBuffer, u64) {
        let g = gpu();
        if let Some(f) = self
            .free
            .lock()
            .unwrap()
            .get_mut(&(bytes, staging))
            .and_then(|free| free.pop_first())
            .map(|(_, f)| f)
        {
            Stats::bump(&g.stats.buffers_reused, 1);
            return (f.buffer, f.used_epoch);
        }
        let max = g.limits.max_buffer_size;
        assert!(
            bytes <= max,
            "atelier: a buffer of {bytes} bytes exceeds this device's max_buffer_size ({max})"
        );
        let held = self.held.load(Relaxed);
        let out_of_memory = |detail: String| -> ! {
            std::panic::panic_any(OutOfDeviceMemory {
                bytes,
                held,
                device: g.info.name.clone(),
                memory: g.memory,
                detail,
            })
        };
        if let Some(m) = g.memory.filter(|m| m.source == crate::memory::CAP_SOURCE)
            && held + bytes > m.bytes
        {
            out_of_memory(format!("more than the {} bytes it allows", m.bytes));
        }
        let scope = g.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = g.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: bytes,
            usage: if staging {
                STAGING_USAGE
            } else {
                STORAGE_USAGE
            },
            mapped_at_creation: false,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            out_of_memory(format!("the device refused it ({e})"));
        }
        self.held.fetch_add(bytes, Relaxed);
        Stats::bump(&g.stats.buffers_allocated, 1);
        Stats::bump(&g.stats.bytes_allocated, bytes);
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Relaxed);
        (PooledBuffer { buffer, id }, 0)
    }

    pub(crate) fn give_back(&self, buffer: PooledBuffer, staging: bool, used_epoch: u64) {
        let bytes = buffer.buffer.size();
        self.free
            .lock()
            .unwrap()
            .entry((bytes, staging))
            .or_default()
            .insert(buffer.id, Free { buffer, used_epoch });
    }

    /// Bytes of the buffers created and not yet dropped.
    pub(crate) fn held(&self) -> u64 {
        self.held.load(Relaxed)
    }

    /// Drops every free buffer (for memory pressure, or between unrelated workloads). Cached
    /// bind groups keep their buffers alive: `Gpu::release_free_buffers` drops those too.
    pub fn clear(&self) {
        let mut free = self.free.lock().unwrap();
        let bytes: u64 = free
            .iter()
            .map(|(&(b, _), list)| b * list.len() as u64)
            .sum();
        free.clear();
        self.held.fetch_sub(bytes, Relaxed);
    }
}

/// f32 storage on the GPU. Dropping it returns the buffer to the pool.
///
/// A *window* ([`GpuBuffer::window`]) is a range of another buffer that kernels bind as if it
/// were a whole buffer: how a launcher runs a tensor larger than one storage binding in chunks
/// (see [`crate::chunk`]). Dropping a window returns nothing.
pub struct GpuBuffer {
    buffer: Option<PooledBuffer>,
    len: usize,
    /// Where this buffer starts in the wgpu buffer, in f32s (0 unless a window).
    offset: usize,
    window: bool,
    pub(crate) used_epoch: AtomicU64,
}

impl GpuBuffer {
    /// An uninitialised buffer of `len` f32s from the pool. Kernels write every element of
    /// their outputs; `xtask validate` poisons outputs first to prove it.
    pub fn uninit(len: usize) -> GpuBuffer {
        let (buffer, used_epoch) = gpu().pool.take(padded_bytes(len), false);
        GpuBuffer {
            buffer: Some(buffer),
            len,
            offset: 0,
            window: false,
            used_epoch: AtomicU64::new(used_epoch),
        }
    }

    /// `len` f32s of this buffer from element `offset`, bound by kernels as a buffer of its
    /// own. A window whose byte offset is not a multiple of the device's
    /// `min_storage_buffer_offset_alignment` is launched on a copy (see `Gpu::launch_grid`).
    pub fn window(&self, offset: usize, len: usize) -> GpuBuffer {
        assert!(
            offset + len <= self.len,
            "atelier: window {offset}..{} of a buffer of {} f32s",
            offset + len,
            self.len
        );
        let parent = self.buffer.as_ref().expect("buffer present until drop");
        GpuBuffer {
            buffer: Some(PooledBuffer {
                buffer: parent.buffer.clone(),
                id: parent.id,
            }),
            len,
            offset: self.offset + offset,
            window: true,
            used_epoch: AtomicU64::new(self.used_epoch.load(Relaxed)),
        }
    }

    /// Whether a kernel can bind this buffer where it starts: its byte offset is a multiple
    /// of `align` (the device's storage offset alignment).
    pub(crate) fn starts_at(&self, align: u64) -> bool {
        (self.offset as u64 * 4).is_multiple_of(align)
    }

    /// Where this buffer starts in [`GpuBuffer::raw`], in f32s (0 unless a window).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The bytes a kernel binds: `len` rounded up to 16 bytes (for vec4 loads) while that
    /// stays inside the wgpu buffer.
    pub(crate) fn binding_bytes(&self) -> u64 {
        let start = (self.offset * 4) as u64;
        padded_bytes(self.len).min(self.raw().size() - start)
    }

    /// Number of f32 elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn raw(&self) -> &wgpu::Buffer {
        &self
            .buffer
            .as_ref()
            .expect("buffer present until drop")
            .buffer
    }

    /// The pooled buffer's unique id (see [`PooledBuffer`]).
    pub(crate) fn id(&self) -> u64 {
        self.buffer.as_ref().expect("buffer present until drop").id
    }

    pub(crate) fn mark_used(&self, epoch: u64) {
        self.used_epoch.store(epoch, Relaxed);
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if self.window {
            return;
        }
        if let Some(b) = self.buffer.take() {
            gpu()
                .pool
                .give_back(b, false, self.used_epoch.load(Relaxed));
        }
    }
}

impl std::fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.window {
            write!(f, "GpuBuffer({} f32 at {})", self.len, self.offset)
        } else {
            write!(f, "GpuBuffer({} f32)", self.len)
        }
    }
}
