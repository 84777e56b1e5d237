//! Explicit bind-group layouts, read from the WGSL with naga (the shader compiler wgpu itself
//! uses, re-exported as `wgpu::naga`).
//!
//! wgpu can derive a pipeline's layout from its shader (`layout: None`), but a derived layout
//! never has dynamic offsets. atelier wants one on binding 0, the uniform params: every launch
//! appends its params to the recorder's arena at a new offset, and with a dynamic offset the
//! bind group itself does not depend on that offset, so the recorder can cache it and reuse it
//! step after step (see `bind_groups`). Everything else is what wgpu would derive: the
//! entry point's bindings in group 0, storage buffers read-only exactly when declared
//! `var<storage, read>`, minimum sizes from the WGSL types.

use wgpu::naga;

use crate::pipeline::Kernel;

/// The group-0 layout entries of `kernel`'s entry point: binding 0 (the params uniform) with a
/// dynamic offset, then the storage buffers the entry point uses.
pub(crate) fn entries(kernel: &Kernel) -> Vec<wgpu::BindGroupLayoutEntry> {
    let name = kernel.name();
    let module = naga::front::wgsl::parse_str(&kernel.shader.source())
        .unwrap_or_else(|e| panic!("atelier: shader {} does not parse: {e}", kernel.shader.name));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| {
        panic!(
            "atelier: shader {} does not validate: {e}",
            kernel.shader.name
        )
    });
    let index = module
        .entry_points
        .iter()
        .position(|ep| ep.name == kernel.entry)
        .unwrap_or_else(|| panic!("atelier: kernel {name}: no such entry point"));
    let uses = info.get_entry_point(index);
    let mut entries = Vec::new();
    for (handle, var) in module.global_variables.iter() {
        let Some(binding) = &var.binding else {
            continue;
        };
        if uses[handle].is_empty() {
            continue;
        }
        assert_eq!(
            binding.group, 0,
            "atelier: kernel {name} uses bind group {}; kernels bind group 0 only",
            binding.group
        );
        let size = module.types[var.ty].inner.size(module.to_ctx()) as u64;
        let ty = match var.space {
            naga::AddressSpace::Uniform => {
                assert_eq!(
                    binding.binding, 0,
                    "atelier: kernel {name}: the uniform params belong at binding 0"
                );
                wgpu::BufferBindingType::Uniform
            }
            naga::AddressSpace::Storage { access } => wgpu::BufferBindingType::Storage {
                read_only: access == naga::StorageAccess::LOAD,
            },
            other => panic!("atelier: kernel {name}: binding in address space {other:?}"),
        };
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: binding.binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset: ty == wgpu::BufferBindingType::Uniform,
                min_binding_size: wgpu::BufferSize::new(size),
            },
            count: None,
        });
    }
    entries.sort_by_key(|e| e.binding);
    entries
}
