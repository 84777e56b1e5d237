//! The recorder: one open command encoder that every launch records into.
//!
//! A launch appends its uniform parameters to a host-side arena, takes a bind group from the
//! cache (arena at binding 0 with the launch's offset as a dynamic offset, storage buffers at
//! 1..; see `bind_groups`), and records one dispatch into the open compute pass. Nothing is
//! submitted until the host reads a value, the arena is full, or `MAX_PENDING` commands are
//! waiting. At a flush the arena is written to its GPU buffer with `queue.write_buffer`, which
//! wgpu orders before the submitted commands.
//!
//! Consecutive launches share one compute pass: beginning and ending a pass per dispatch costs
//! CPU time in wgpu and the driver, and one pass orders its dispatches just as well (wgpu puts
//! a barrier between two dispatches of a pass when the second uses a buffer the first wrote).
//! The pass stays open until something else needs the encoder (a copy, a read-back, a flush);
//! while profiling, every dispatch gets its own pass, which carries its timestamps.
//!
//! Uploads use `queue.write_buffer` too, which runs *before* the pending commands. Writing into a
//! pooled buffer that a pending command still uses would therefore reorder work; every buffer
//! remembers the epoch (submit number) in which it was last bound, and an upload into a buffer
//! bound in the open epoch flushes first.
//!
//! With profiling on (see [`crate::profiler`]) each compute pass also carries timestamp writes,
//! and a flush resolves them and waits for the GPU to attribute each pass's time to its kernel.
//!
//! One cost of the shared pass: wgpu validates a pass's commands when the pass ends, so a
//! validation error may surface a few launches after the one that caused it (the error names
//! the pipeline by its label, `shader::entry;constants`).

use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytemuck::Pod;

use crate::bind_groups::BindGroupCache;
use crate::buffer_pool::{GpuBuffer, padded_bytes};
use crate::context::Gpu;
use crate::pipeline::Kernel;
use crate::profiler::{self, ProfileRequest, Profiler};
use crate::stats::Stats;
use crate::trace::{self, Span, Trace};

/// Commands recorded before the recorder submits on its own.
const MAX_PENDING: u32 = 2048;
/// Uniform slots in the arena (each `min_uniform_buffer_offset_alignment` bytes, or more).
const ARENA_BYTES: u64 = 1 << 20;

static LAST_KERNEL: Mutex<String> = Mutex::new(String::new());

/// The kernel most recently launched, for error messages.
pub(crate) fn last_kernel() -> String {
    LAST_KERNEL
        .lock()
        .map(|s| s.clone())
        .unwrap_or_else(|_| "?".into())
}

pub(crate) struct Recorder {
    encoder: Option<wgpu::CommandEncoder>,
    /// The compute pass launches record into, open on `encoder` (which it locks) until
    /// something else needs the encoder: see [`Recorder::encoder`].
    pass: Option<wgpu::ComputePass<'static>>,
    bind_groups: BindGroupCache,
    pending: u32,
    arena: Vec<u8>,
    arena_buffer: wgpu::Buffer,
    align: usize,
    /// Incremented at each submit.
    epoch: u64,
    /// Present while profiling: times every compute pass.
    pub(crate) profiler: Option<Profiler>,
}

impl Recorder {
    pub(crate) fn new(device: &wgpu::Device, limits: &wgpu::Limits) -> Recorder {
        let arena_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("uniform arena"),
            size: ARENA_BYTES,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut profiler = profiler::requested_by_env()
            .then(|| Profiler::new(device))
            .flatten();
        if profiler::requested_by_env() && profiler.is_none() {
            eprintln!("atelier: ATELIER_PROFILE is set but this device has no TIMESTAMP_QUERY");
        }
        if let (Some(p), ProfileRequest::Trace(_)) = (&mut profiler, ProfileRequest::from_env()) {
            p.trace = Some(Trace::new());
        }
        Recorder {
            encoder: None,
            pass: None,
            bind_groups: BindGroupCache::default(),
            pending: 0,
            arena: Vec::with_capacity(ARENA_BYTES as usize),
            arena_buffer,
            align: limits.min_uniform_buffer_offset_alignment.max(16) as usize,
            epoch: 1,
            profiler,
        }
    }

    /// The current epoch (submit number): what a launch now marks its buffers with.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The open encoder, for a command other than a dispatch: ends the open compute pass first.
    fn encoder(&mut self, device: &wgpu::Device) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
        })
    }

    pub(crate) fn flush(&mut self, gpu: &Gpu) {
        self.pass = None;
        let Some(mut encoder) = self.encoder.take() else {
            return;
        };
        if !self.arena.is_empty() {
            gpu.queue.write_buffer(&self.arena_buffer, 0, &self.arena);
        }
        if let Some(p) = &mut self.profiler {
            p.resolve(&mut encoder);
            p.submitting();
        }
        let submitting = trace::active().then(Instant::now);
        gpu.queue.submit([encoder.finish()]);
        if let (Some(start), Some(t)) = (
            submitting,
            self.profiler.as_mut().and_then(|p| p.trace.as_mut()),
        ) {
            t.cpu_span(Span::Submit, start, Instant::now());
        }
        Stats::bump(&gpu.stats.submits, 1);
        self.arena.clear();
        self.pending = 0;
        self.epoch += 1;
        if let Some(p) = &mut self.profiler {
            p.collect(gpu);
        }
    }
}

/// The workgroup grid for `n` workgroups: x first, then folded into y and z past the device's
/// per-dimension limit. Kernels rebuild the linear index as `x + y * nx + z * nx * ny`.
pub fn fold_grid(n: u32, max_per_dim: u32) -> [u32; 3] {
    if n <= max_per_dim {
        return [n, 1, 1];
    }
    let x = max_per_dim;
    let rest = n.div_ceil(x);
    if rest <= max_per_dim {
        return [x, rest, 1];
    }
    let z = rest.div_ceil(max_per_dim);
    assert!(
        z <= max_per_dim,
        "atelier: grid of {n} workgroups is too large"
    );
    [x, max_per_dim, z]
}

impl Gpu {
    /// Records one dispatch of `kernel` over `workgroups` workgroups (folded into y/z when
    /// needed). `params` is bound at binding 0 as a uniform; `buffers` at bindings 1, 2, ...
    pub fn launch<P: Pod>(
        &self,
        kernel: &Kernel,
        constants: &[(&str, f64)],
        params: &P,
        buffers: &[&GpuBuffer],
        workgroups: u32,
    ) {
        let grid = fold_grid(workgroups, self.limits.max_compute_workgroups_per_dimension);
        self.launch_grid(kernel, constants, params, buffers, grid);
    }

    /// Records one dispatch of a one-invocation-per-element kernel over `n` elements: `n / WG`
    /// workgroups (rounded up) of the prelude's `WG` invocations, folded as `launch` does.
    pub fn launch_elements<P: Pod>(
        &self,
        kernel: &Kernel,
        constants: &[(&str, f64)],
        params: &P,
        buffers: &[&GpuBuffer],
        n: usize,
    ) {
        let groups = u32::try_from(n.div_ceil(crate::WG as usize)).unwrap_or_else(|_| {
            panic!(
                "atelier: kernel {} over {n} elements needs too many workgroups",
                kernel.name()
            )
        });
        self.launch(kernel, constants, params, buffers, groups);
    }

    /// Records one dispatch with an explicit 3-D grid.
    pub fn launch_grid<P: Pod>(
        &self,
        kernel: &Kernel,
        constants: &[(&str, f64)],
        params: &P,
        buffers: &[&GpuBuffer],
        grid: [u32; 3],
    ) {
        if grid.contains(&0) {
            return;
        }
        // the timeline's CPU track: this dispatch's recording, pipeline compilation included
        let recording = trace::active().then(Instant::now);
        let max = self.limits.max_compute_workgroups_per_dimension;
        assert!(
            grid.iter().all(|&g| g <= max),
            "atelier: kernel {} dispatched with grid {grid:?}, above the device limit {max}",
            kernel.name()
        );
        let align = u64::from(self.limits.min_storage_buffer_offset_alignment);
        if buffers.iter().any(|b| !b.starts_at(align)) {
            return self.launch_staged(kernel, constants, params, buffers, grid);
        }
        let binding = self.limits.max_storage_buffer_binding_size;
        if let Some((i, b)) = buffers
            .iter()
            .enumerate()
            .find(|(_, b)| b.binding_bytes() > binding)
        {
            panic!(
                "atelier: kernel {} binds {} bytes at binding {}, more than this device binds \
                 ({binding} bytes); its launcher does not split work into chunks (see \
                 atelier_kernels::chunk)",
                kernel.name(),
                b.binding_bytes(),
                i + 1
            );
        }
        let pipeline = self.pipelines.get(self, kernel, constants);
        if let Ok(mut k) = LAST_KERNEL.lock() {
            k.clear();
            k.push_str(kernel.shader.name);
            k.push_str("::");
            k.push_str(kernel.entry);
        }
        let bytes = bytemuck::bytes_of(params);
        let mut rec = self.recorder.lock().unwrap();
        let slot = bytes.len().div_ceil(rec.align) * rec.align;
        let profiler_full = rec.profiler.as_ref().is_some_and(Profiler::is_full);
        if rec.pending >= MAX_PENDING
            || rec.arena.len() + slot > ARENA_BYTES as usize
            || profiler_full
        {
            rec.flush(self);
        }
        let offset = rec.arena.len();
        rec.arena.extend_from_slice(bytes);
        rec.arena.resize(offset + slot, 0);
        let epoch = rec.epoch;
        for b in buffers {
            b.mark_used(epoch);
        }
        let Recorder {
            encoder,
            pass,
            bind_groups,
            arena_buffer,
            profiler,
            ..
        } = &mut *rec;
        let bind_group = bind_groups.get(
            self,
            &pipeline.bind_layout,
            arena_buffer,
            bytes.len() as u64,
            buffers,
        );
        // the trace's arguments of this dispatch (interned)
        let args = profiler
            .as_mut()
            .and_then(|p| p.trace.as_mut())
            .map_or(u32::MAX, |t| t.intern(grid, constants));
        // profiling times passes, so it needs one pass per dispatch
        if pass.is_none() || profiler.is_some() {
            *pass = None;
            let encoder = encoder.get_or_insert_with(|| {
                self.device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
            });
            let begun = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: profiler.as_mut().map(|p| p.pass_writes(kernel, args)),
            });
            *pass = Some(begun.forget_lifetime());
            Stats::bump(&self.stats.compute_passes, 1);
        }
        let open = pass.as_mut().expect("a compute pass is open");
        open.set_pipeline(&pipeline.compute);
        open.set_bind_group(0, &bind_group, &[offset as u32]);
        open.dispatch_workgroups(grid[0], grid[1], grid[2]);
        if profiler.is_some() {
            *pass = None;
        }
        rec.pending += 1;
        Stats::bump(&self.stats.dispatches, 1);
        if let (Some(start), Some(t)) = (
            recording,
            rec.profiler.as_mut().and_then(|p| p.trace.as_mut()),
        ) {
            let name = (kernel.shader.name, kernel.entry);
            t.cpu_span(Span::Record(name, args), start, Instant::now());
        }
    }

    /// [`Gpu::launch_grid`] where some of `buffers` are windows that do not start at an offset
    /// the device binds (a block of planes of an odd size, say): each such window is copied
    /// into a scratch buffer of its own (which starts at 0), the kernel runs on the copies, and
    /// the copies of the buffers it may write are copied back. Copies are exact, so this is the
    /// same computation at the cost of moving the windows twice.
    fn launch_staged<P: Pod>(
        &self,
        kernel: &Kernel,
        constants: &[(&str, f64)],
        params: &P,
        buffers: &[&GpuBuffer],
        grid: [u32; 3],
    ) {
        let align = u64::from(self.limits.min_storage_buffer_offset_alignment);
        let writable = self
            .pipelines
            .get(self, kernel, constants)
            .bind_layout
            .writable
            .clone();
        let staged: Vec<Option<GpuBuffer>> = buffers
            .iter()
            .map(|b| {
                (!b.starts_at(align)).then(|| {
                    let copy = GpuBuffer::uninit(b.len());
                    self.copy(b, 0, &copy, 0, b.len());
                    copy
                })
            })
            .collect();
        let bound: Vec<&GpuBuffer> = buffers
            .iter()
            .zip(&staged)
            .map(|(b, s)| s.as_ref().unwrap_or(b))
            .collect();
        self.launch_grid(kernel, constants, params, &bound, grid);
        for (i, (b, s)) in buffers.iter().zip(&staged).enumerate() {
            if let Some(copy) = s
                && writable.get(i).copied().unwrap_or(true)
            {
                self.copy(copy, 0, b, 0, b.len());
            }
        }
        Stats::bump(&self.stats.staged, 1);
    }

    /// Records a buffer-to-buffer copy of `len` f32s.
    pub fn copy(
        &self,
        src: &GpuBuffer,
        src_offset: usize,
        dst: &GpuBuffer,
        dst_offset: usize,
        len: usize,
    ) {
        assert!(
            src_offset + len <= src.len() && dst_offset + len <= dst.len(),
            "atelier: copy out of range"
        );
        if len == 0 {
            return;
        }
        let mut rec = self.recorder.lock().unwrap();
        if rec.pending >= MAX_PENDING {
            rec.flush(self);
        }
        let epoch = rec.epoch;
        src.mark_used(epoch);
        dst.mark_used(epoch);
        // copy sizes must be multiples of 4 bytes, which f32 always are
        rec.encoder(&self.device).copy_buffer_to_buffer(
            src.raw(),
            ((src.offset() + src_offset) * 4) as u64,
            dst.raw(),
            ((dst.offset() + dst_offset) * 4) as u64,
            (len * 4) as u64,
        );
        rec.pending += 1;
        Stats::bump(&self.stats.copies, 1);
    }

    /// Writes host data into `dst` (at element `offset`), ordered after every command recorded
    /// so far.
    pub fn write(&self, dst: &GpuBuffer, offset: usize, data: &[f32]) {
        assert!(
            offset + data.len() <= dst.len(),
            "atelier: write out of range"
        );
        let mut rec = self.recorder.lock().unwrap();
        if dst.used_epoch.load(Relaxed) == rec.epoch && rec.pending > 0 {
            rec.flush(self);
        }
        let bytes: &[u8] = bytemuck::cast_slice(data);
        // write_buffer needs a multiple of 4 bytes: f32 data always is
        if !bytes.is_empty() {
            self.queue
                .write_buffer(dst.raw(), ((dst.offset() + offset) * 4) as u64, bytes);
        }
        Stats::bump(&self.stats.uploads, 1);
    }

    /// A new buffer holding `data`.
    pub fn upload(&self, data: &[f32]) -> GpuBuffer {
        let b = GpuBuffer::uninit(data.len());
        self.write(&b, 0, data);
        b
    }

    /// Submits everything recorded so far.
    pub fn flush(&self) {
        self.recorder.lock().unwrap().flush(self);
    }

    /// Waits until the GPU has finished all submitted work.
    pub fn synchronize(&self) {
        self.flush();
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("atelier: device lost while waiting");
    }

    /// Reads `len` f32s starting at `offset` back to the host: submits pending work and waits.
    pub fn read(&self, src: &GpuBuffer, offset: usize, len: usize) -> Vec<f32> {
        assert!(offset + len <= src.len(), "atelier: read out of range");
        if len == 0 {
            return Vec::new();
        }
        let bytes = padded_bytes(len);
        let (staging, _) = self.pool.take(bytes, true);
        {
            let mut rec = self.recorder.lock().unwrap();
            let epoch = rec.epoch;
            src.mark_used(epoch);
            rec.encoder(&self.device).copy_buffer_to_buffer(
                src.raw(),
                ((src.offset() + offset) * 4) as u64,
                &staging.buffer,
                0,
                (len * 4) as u64,
            );
            rec.flush(self);
        }
        let slice = staging.buffer.slice(0..(len * 4) as u64);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("atelier: device lost while reading back");
        rx.recv()
            .expect("map callback ran")
            .unwrap_or_else(|e| panic!("atelier: read-back failed: {e}"));
        let out = {
            let view = slice
                .get_mapped_range()
                .unwrap_or_else(|e| panic!("atelier: read-back mapping failed: {e}"));
            bytemuck::pod_collect_to_vec::<u8, f32>(&view)
        };
        staging.buffer.unmap();
        self.pool.give_back(staging, true, 0);
        Stats::bump(&self.stats.readbacks, 1);
        out
    }

    /// Counters since the context was created.
    pub fn stats(&self) -> crate::DeviceStats {
        self.stats.snapshot()
    }

    /// Bytes of the buffers the pool holds: those in use and its free list (what the device
    /// gives atelier; it never shrinks except through [`Gpu::release_free_buffers`]).
    pub fn bytes_held(&self) -> u64 {
        self.pool.held()
    }

    /// Drops the pool's free buffers (and the cached bind groups, which hold buffers alive).
    pub fn release_free_buffers(&self) {
        self.recorder.lock().unwrap().bind_groups.clear();
        self.pool.clear();
    }
}
