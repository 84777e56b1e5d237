//! Tensors larger than one storage binding.
//!
//! A kernel sees each tensor through one storage binding, and a device binds at most
//! `max_storage_buffer_binding_size` bytes (128 MiB on lavapipe and on many GPUs), while a
//! buffer may be larger (`max_buffer_size`). A launcher whose tensors are larger than a binding
//! runs its kernel in chunks along the outermost (batch) dimension: each chunk binds a window
//! of every batched buffer ([`GpuBuffer::window`], at an offset aligned to
//! `min_storage_buffer_offset_alignment`) and is launched as the same kernel on a smaller
//! batch. For per-item work (convolutions, pointwise ops, normalisation with given statistics)
//! that is exact; a launcher that reduces over the batch (a weight gradient, batch statistics)
//! adds up the chunks' partial results itself.
//!
//! The shaders know nothing of this: a window is an ordinary binding to them.
//!
//! When even one item is larger than a binding ([`items_too_big`]), launchers whose work is
//! per channel plane split inside items: a range of channels of one NCHW image is contiguous,
//! and one plane is small. Pooling, resampling and instance normalisation run on chunks of
//! `(n, c)` planes; convolutions on blocks of channels (`conv2d/channels.rs`); Gram matrices
//! on row blocks (`matmul/gram.rs`). Strided kernels (reductions, general products, layout
//! copies, broadcasts) run in boxes of their axes instead ([`crate::blocks`]).
//!
//! [`split_batch`] is the one helper launchers use. [`with_binding_limit`] lowers the limit
//! for the calling thread, so that tests run the chunked path at small sizes;
//! `ATELIER_MAX_BINDING_BYTES=N` (see `context`) lowers the device's own limit for a whole
//! process.

use std::cell::Cell;

use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::stats::Stats;

thread_local! {
    static LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The largest storage binding launchers plan for, in bytes: the device's, or less inside
/// [`with_binding_limit`].
pub fn binding_limit() -> u64 {
    let device = gpu().limits.max_storage_buffer_binding_size;
    LIMIT.with(|l| l.get()).map_or(device, |l| l.min(device))
}

/// Runs `f` with launchers on this thread planning for bindings of at most `bytes` (never
/// more than the device's own limit), then restores the limit before.
pub fn with_binding_limit<R>(bytes: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LIMIT.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LIMIT.with(|l| l.replace(Some(bytes))));
    f()
}

/// Byte offsets of windows are multiples of this (the device's storage offset alignment, and
/// at least 16 so that every chunk but the last is a whole number of vec4s).
fn offset_alignment() -> u64 {
    u64::from(gpu().limits.min_storage_buffer_offset_alignment).max(16)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A buffer holding `n` items of `per_item` f32s each, back to back, named for messages.
pub struct Batched<'a> {
    pub what: &'a str,
    pub buffer: &'a GpuBuffer,
    pub per_item: usize,
}

/// Items per chunk so that every window of `batched` fits one binding, starting aligned where
/// it can: `Ok(None)` when every buffer already fits whole, `Err` (a message naming the buffers
/// and the limit) when not even one item fits. When no aligned chunk fits (a few planes of an
/// odd size), chunks start anywhere, and their launches run on aligned copies of their windows
/// (`Gpu::launch_grid`).
pub fn plan_items(n: usize, batched: &[Batched]) -> Result<Option<usize>, String> {
    let limit = binding_limit();
    if batched.iter().all(|b| b.buffer.binding_bytes() <= limit) {
        return Ok(None);
    }
    let align = offset_alignment();
    let mut step = 1u64; // chunks are a multiple of this many items: every offset aligned
    let mut most = n as u64; // and hold at most this many: every window fits
    for b in batched {
        let item = (b.per_item as u64 * 4).max(4);
        let q = align / gcd(align, item);
        step = step / gcd(step, q) * q;
        // a window's binding is its length rounded up to 16 bytes
        most = most.min(limit / 16 * 16 / item);
    }
    let aligned = most / step * step;
    if aligned > 0 {
        return Ok(Some(aligned as usize));
    }
    if most == 0 {
        return Err(format!(
            "cannot split {} into chunks that fit one binding of {limit} bytes: one item of {} \
             is {} bytes",
            batched
                .iter()
                .map(|b| b.what)
                .collect::<Vec<_>>()
                .join(", "),
            batched[0].what,
            batched[0].per_item * 4
        ));
    }
    Ok(Some(most as usize))
}

/// [`plan_items`], panicking with its message (naming `op`) when no chunk fits (commands
/// refuse such sizes up front: see `atelier_tensor::limits`).
pub fn chunk_items(op: &str, n: usize, batched: &[Batched]) -> Option<usize> {
    plan_items(n, batched).unwrap_or_else(|e| panic!("{op}: {e}"))
}

/// Whether chunks of whole items cannot fit one binding: a launcher that can split inside an
/// item (over channel planes, over rows) does so when this is true.
pub fn items_too_big(n: usize, batched: &[Batched]) -> bool {
    plan_items(n, batched).is_err()
}

/// Items of `per_item` f32s that make a whole number of storage offset alignments: windows
/// starting at multiples of this many items are aligned.
pub fn aligned_items(per_item: usize) -> usize {
    let align = offset_alignment();
    (align / gcd(align, (per_item as u64 * 4).max(4))) as usize
}

/// Counts one launch of a part of a tensor larger than a binding (see [`Stats`]).
pub fn count_chunk() {
    Stats::bump(&gpu().stats.chunks, 1);
}

/// After launches on windows of `buffers` (which carried the launches' epochs), marks the
/// buffers themselves used, so the pool does not hand them out before the work is done.
pub fn mark_parents(buffers: &[&GpuBuffer]) {
    let epoch = gpu().recorder.lock().unwrap().epoch();
    for b in buffers {
        b.mark_used(epoch);
    }
}

/// Runs `run(first, items, windows)` for chunks of the `n` items of `batched` when one of them
/// is larger than a binding (`windows[i]` is the chunk's window of `batched[i]`), and returns
/// `true`; returns `false`, running nothing, when every buffer fits whole and the caller
/// launches as usual.
pub fn split_batch(
    op: &str,
    n: usize,
    batched: &[Batched],
    mut run: impl FnMut(usize, usize, &[GpuBuffer]),
) -> bool {
    let Some(chunk) = chunk_items(op, n, batched) else {
        return false;
    };
    let g = gpu();
    let mut first = 0;
    while first < n {
        let items = chunk.min(n - first);
        let windows: Vec<GpuBuffer> = batched
            .iter()
            .map(|b| b.buffer.window(first * b.per_item, items * b.per_item))
            .collect();
        run(first, items, &windows);
        Stats::bump(&g.stats.chunks, 1);
        first += items;
    }
    // the windows carried the launches' epochs; the buffers they came from need them
    let epoch = g.recorder.lock().unwrap().epoch();
    for b in batched {
        b.buffer.mark_used(epoch);
    }
    true
}

/// [`split_batch`] for pointwise work: `buffers` of equal length are split into ranges of
/// elements, and `run(len, windows)` launches one range.
pub fn split_elements(
    op: &str,
    buffers: &[(&str, &GpuBuffer)],
    mut run: impl FnMut(usize, &[GpuBuffer]),
) -> bool {
    let n = buffers.first().map_or(0, |(_, b)| b.len());
    let batched: Vec<Batched> = buffers
        .iter()
        .map(|&(what, buffer)| Batched {
            what,
            buffer,
            per_item: 1,
        })
        .collect();
    split_batch(op, n, &batched, |_, len, windows| run(len, windows))
}

/// `total += part` (buffers of one length): how a launcher adds up the partial results of its
/// chunks (a weight gradient, per-channel sums).
pub fn add_into(total: &GpuBuffer, part: &GpuBuffer) {
    let sum = GpuBuffer::uninit(total.len());
    crate::elementwise::binary(crate::elementwise::BinaryOp::Add, total, part, &sum);
    gpu().copy(&sum, 0, total, 0, total.len());
}

/// Runs `run(first, items, windows, outputs)` over chunks as [`split_batch`] does, where each
/// chunk computes sums over its items into `outputs` (buffers shaped like `totals`): the first
/// chunk writes `totals` themselves, every later one writes scratch buffers that are then
/// added into `totals`.
pub fn split_batch_summed(
    op: &str,
    n: usize,
    batched: &[Batched],
    totals: &[&GpuBuffer],
    mut run: impl FnMut(usize, usize, &[GpuBuffer], &[&GpuBuffer]),
) -> bool {
    split_batch(op, n, batched, |first, items, windows| {
        if first == 0 {
            run(first, items, windows, totals);
            return;
        }
        let parts: Vec<GpuBuffer> = totals.iter().map(|t| GpuBuffer::uninit(t.len())).collect();
        let refs: Vec<&GpuBuffer> = parts.iter().collect();
        run(first, items, windows, &refs);
        for (t, p) in totals.iter().zip(&parts) {
            add_into(t, p);
        }
    })
}
