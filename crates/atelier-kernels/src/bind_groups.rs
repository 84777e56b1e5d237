//! The bind-group cache.
//!
//! Creating a bind group is a large part of the CPU cost of a launch, and a training loop binds
//! the same pooled buffers to the same kernels step after step. The recorder therefore keeps the
//! bind group of every (layout, params size, storage buffers) it has seen and reuses it.
//!
//! Why a cached bind group is never stale:
//! - the uniform params are bound with a dynamic offset (see `bind_layout`): the arena offset of
//!   a launch's params is passed at `set_bind_group`, not stored in the bind group;
//! - storage buffers are keyed by their pool id with the range bound (whole, or a window: see
//!   `GpuBuffer::window`); the id is unique for the life of the process: a buffer that goes back to the pool and out again is the same wgpu
//!   buffer with the same id, and a newly created buffer gets a new id, never an old one;
//! - a cached bind group keeps its buffers alive, so when the pool drops its free buffers
//!   (`Gpu::release_free_buffers`) the cache is dropped too, and it is bounded: once it holds
//!   [`MAX_BIND_GROUPS`] it starts over.

use std::collections::HashMap;

use crate::buffer_pool::GpuBuffer;
use crate::context::Gpu;
use crate::pipeline::BindLayout;
use crate::stats::Stats;

/// Bind groups kept before the cache starts over (a DCGAN step at 64×64 needs about 220).
const MAX_BIND_GROUPS: usize = 16 * 1024;

#[derive(PartialEq, Eq, Hash)]
struct Key {
    layout: u64,
    params_bytes: u64,
    /// (pool id, first f32, f32s) of each storage buffer.
    buffers: Vec<(u64, usize, usize)>,
}

#[derive(Default)]
pub(crate) struct BindGroupCache {
    groups: HashMap<Key, wgpu::BindGroup>,
}

impl BindGroupCache {
    /// The bind group of `layout` with `params_bytes` of `arena` at binding 0 (its offset given
    /// at `set_bind_group`) and `buffers` at bindings 1, 2, ...
    pub(crate) fn get(
        &mut self,
        gpu: &Gpu,
        layout: &BindLayout,
        arena: &wgpu::Buffer,
        params_bytes: u64,
        buffers: &[&GpuBuffer],
    ) -> wgpu::BindGroup {
        let key = Key {
            layout: layout.id,
            params_bytes,
            buffers: buffers
                .iter()
                .map(|b| (b.id(), b.offset(), b.len()))
                .collect(),
        };
        if let Some(group) = self.groups.get(&key) {
            Stats::bump(&gpu.stats.bind_groups_reused, 1);
            return group.clone();
        }
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: arena,
                offset: 0,
                size: wgpu::BufferSize::new(params_bytes),
            }),
        }];
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: b.raw(),
                    offset: (b.offset() * 4) as u64,
                    size: wgpu::BufferSize::new(b.binding_bytes()),
                }),
            });
        }
        let group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout.layout,
            entries: &entries,
        });
        Stats::bump(&gpu.stats.bind_groups_created, 1);
        if self.groups.len() >= MAX_BIND_GROUPS {
            self.groups.clear();
        }
        self.groups.insert(key, group.clone());
        group
    }

    /// Drops every cached bind group (and with them the references to their buffers).
    pub(crate) fn clear(&mut self) {
        self.groups.clear();
    }
}
