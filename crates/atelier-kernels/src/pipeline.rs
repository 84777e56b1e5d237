//! The pipeline cache: a compute pipeline per (shader, entry point, runtime checks, override
//! constants), compiled once and kept for the life of the process, with an explicit bind-group
//! layout per entry point (see `bind_layout`). Runtime checks: `shader_checks`
//! (`ATELIER_SHADER_CHECKS`); a module and its pipelines exist once per setting in use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use crate::context::Gpu;
use crate::shader::Shader;
use crate::shader_checks::{self, ShaderChecks};
use crate::stats::Stats;

/// One entry point of a shader: what a launcher dispatches.
#[derive(Clone, Copy)]
pub struct Kernel {
    pub shader: &'static Shader,
    pub entry: &'static str,
}

impl Kernel {
    pub const fn new(shader: &'static Shader, entry: &'static str) -> Kernel {
        Kernel { shader, entry }
    }

    pub fn name(&self) -> String {
        format!("{}::{}", self.shader.name, self.entry)
    }
}

/// A compiled pipeline and the bind-group layout it was created with.
pub(crate) struct Pipeline {
    pub compute: wgpu::ComputePipeline,
    pub bind_layout: Arc<BindLayout>,
}

/// An entry point's explicit bind-group layout (see `bind_layout`), shared by the pipelines
/// of that entry point (one per set of override constants), so they share bind groups too.
pub(crate) struct BindLayout {
    pub layout: wgpu::BindGroupLayout,
    /// Unique for the life of the process: the bind-group cache keys on it.
    pub id: u64,
    /// Per storage buffer (bindings 1, 2, ...): whether the kernel may write it.
    pub writable: Vec<bool>,
}

/// Override constants as (name, value bits): compared without formatting a string key.
type Constants = Vec<(String, u64)>;
/// A shader file and one of its entry points.
type EntryKey = (&'static str, &'static str);
/// A shader file, one of its entry points, and the runtime checks its module was built with.
type PipelineKey = (&'static str, &'static str, ShaderChecks);
/// The pipelines of one entry point, one per set of override constants.
type Variants = Vec<(Constants, Arc<Pipeline>)>;

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<(&'static str, ShaderChecks), Arc<wgpu::ShaderModule>>>,
    /// Per (shader, entry point, checks): one pipeline per set of constants.
    pipelines: Mutex<HashMap<PipelineKey, Variants>>,
    layouts: Mutex<HashMap<EntryKey, Arc<BindLayout>>>,
}

fn same_constants(cached: &Constants, wanted: &[(&str, f64)]) -> bool {
    cached.len() == wanted.len()
        && cached
            .iter()
            .zip(wanted)
            .all(|((n, v), (wn, wv))| n == wn && *v == wv.to_bits())
}

impl PipelineCache {
    pub(crate) fn get(
        &self,
        gpu: &Gpu,
        kernel: &Kernel,
        constants: &[(&str, f64)],
    ) -> Arc<Pipeline> {
        let checks = shader_checks::current();
        let entry_key = (kernel.shader.name, kernel.entry, checks);
        let cached = self
            .pipelines
            .lock()
            .unwrap()
            .get(&entry_key)
            .and_then(|variants| {
                variants
                    .iter()
                    .find(|(c, _)| same_constants(c, constants))
                    .map(|(_, p)| p.clone())
            });
        if let Some(p) = cached {
            return p;
        }
        let mut key = format!("{}::{}", kernel.shader.name, kernel.entry);
        if checks == ShaderChecks::Off {
            key.push_str(" (trusted)");
        }
        for (k, v) in constants {
            key.push_str(&format!(";{k}={v}"));
        }
        let module = self.module(gpu, kernel.shader, checks);
        let bind_layout = self.bind_layout(gpu, kernel);
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let layout = gpu
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(&key),
                bind_group_layouts: &[Some(&bind_layout.layout)],
                immediate_size: 0,
            });
        let pipeline = gpu
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&key),
                layout: Some(&layout),
                module: &module,
                entry_point: Some(kernel.entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            panic!("atelier: kernel {key} failed to compile: {e}");
        }
        Stats::bump(&gpu.stats.pipelines_compiled, 1);
        crate::shader_dump::pipeline_compiled(kernel.shader, kernel.entry, constants, checks);
        let p = Arc::new(Pipeline {
            compute: pipeline,
            bind_layout,
        });
        let constants = constants
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_bits()))
            .collect();
        self.pipelines
            .lock()
            .unwrap()
            .entry(entry_key)
            .or_default()
            .push((constants, p.clone()));
        p
    }

    fn bind_layout(&self, gpu: &Gpu, kernel: &Kernel) -> Arc<BindLayout> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let key = (kernel.shader.name, kernel.entry);
        if let Some(l) = self.layouts.lock().unwrap().get(&key) {
            return l.clone();
        }
        let entries = crate::bind_layout::entries(kernel);
        let layout = gpu
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(kernel.entry),
                entries: &entries,
            });
        let writable = entries
            .iter()
            .filter_map(|e| match e.ty {
                wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    ..
                } => Some(!read_only),
                _ => None,
            })
            .collect();
        let l = Arc::new(BindLayout {
            layout,
            id: NEXT_ID.fetch_add(1, Relaxed),
            writable,
        });
        self.layouts.lock().unwrap().insert(key, l.clone());
        l
    }

    fn module(
        &self,
        gpu: &Gpu,
        shader: &'static Shader,
        checks: ShaderChecks,
    ) -> Arc<wgpu::ShaderModule> {
        let key = (shader.name, checks);
        if let Some(m) = self.modules.lock().unwrap().get(&key) {
            return m.clone();
        }
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let descriptor = wgpu::ShaderModuleDescriptor {
            label: Some(shader.name),
            source: wgpu::ShaderSource::Wgsl(shader.source().into()),
        };
        // SAFETY: without runtime checks a kernel that indexed out of bounds, divided by zero
        // or looped forever would be undefined behaviour. Every shader here is one of
        // atelier's kernels, each validated against its CPU reference with the checks off
        // (`cargo xtask validate`), launched only through launchers that check their
        // buffers' lengths and shapes; `ShaderChecks::On` (the default) is wgpu's own.
        let module = unsafe {
            gpu.device
                .create_shader_module_trusted(descriptor, checks.runtime_checks())
        };
        if let Some(e) = pollster::block_on(scope.pop()) {
            panic!("atelier: shader {} does not compile: {e}", shader.name);
        }
        let m = Arc::new(module);
        self.modules.lock().unwrap().insert(key, m.clone());
        m
    }
}
