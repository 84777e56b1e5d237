//! The pipeline cache: a compute pipeline per (shader, entry point, override constants),
//! compiled once and kept for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::context::Gpu;
use crate::stats::Stats;

/// A WGSL source file from `shaders/`.
pub struct Shader {
    pub name: &'static str,
    pub source: &'static str,
}

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

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, Arc<wgpu::ShaderModule>>>,
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    pub(crate) fn get(
        &self,
        gpu: &Gpu,
        kernel: &Kernel,
        constants: &[(&str, f64)],
    ) -> Arc<wgpu::ComputePipeline> {
        let mut key = format!("{}::{}", kernel.shader.name, kernel.entry);
        for (k, v) in constants {
            key.push_str(&format!(";{k}={v}"));
        }
        if let Some(p) = self.pipelines.lock().unwrap().get(&key) {
            return p.clone();
        }
        let module = self.module(gpu, kernel.shader);
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = gpu
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&key),
                layout: None,
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
        let p = Arc::new(pipeline);
        self.pipelines.lock().unwrap().insert(key, p.clone());
        p
    }

    fn module(&self, gpu: &Gpu, shader: &'static Shader) -> Arc<wgpu::ShaderModule> {
        if let Some(m) = self.modules.lock().unwrap().get(shader.name) {
            return m.clone();
        }
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = gpu
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(shader.name),
                source: wgpu::ShaderSource::Wgsl(shader.source.into()),
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            panic!("atelier: shader {} does not compile: {e}", shader.name);
        }
        let m = Arc::new(module);
        self.modules.lock().unwrap().insert(shader.name, m.clone());
        m
    }
}
