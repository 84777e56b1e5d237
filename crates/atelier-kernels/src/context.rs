//! The GPU context: adapter and device selection, what the device offers, and the one global
//! instance every tensor shares.
//!
//! `ATELIER_DEVICE=cpu|reference|gpu|auto` chooses the device (default `auto`: a hardware GPU
//! when there is one, else the fast CPU device; a software Vulkan device such as lavapipe only
//! when asked for, with `gpu` or `ATELIER_ADAPTER`, being slower than the fast CPU device).
//! `reference` is the CPU running each family's plain reference. `ATELIER_ADAPTER=<substring>`
//! picks an adapter by name; otherwise a hardware adapter is preferred over a software one.
//! `ATELIER_DISABLE_FEATURES=<name>,...` leaves optional features (names as in
//! [`OPTIONAL_FEATURES`]) off although the adapter has them, to run what a device without them
//! would run (the variants that need them are then skipped, never chosen).
//! `ATELIER_MAX_BINDING_BYTES=<bytes>` requests a smaller storage-binding limit than the
//! adapter's, to run on any device what a device with that limit runs (tensors larger than a
//! binding go through [`crate::chunk`]); tests use it to reach that path at small sizes.
//! `ATELIER_DEVICE_MEMORY_BYTES=<bytes>` caps the device memory atelier plans for and holds
//! (see [`crate::memory`]).

use std::sync::{Mutex, OnceLock};

use crate::buffer_pool::BufferPool;
use crate::memory::DeviceMemory;
use crate::pipeline::PipelineCache;
use crate::recorder::Recorder;
use crate::stats::Stats;

/// What the user asked for through `ATELIER_DEVICE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevicePreference {
    /// The fast CPU device.
    Cpu,
    /// The CPU running the plain reference of every op.
    Reference,
    Gpu,
    Auto,
}

impl DevicePreference {
    /// Reads `ATELIER_DEVICE`; an unknown value is an error that names the variable.
    pub fn from_env() -> Result<Self, crate::Error> {
        match std::env::var("ATELIER_DEVICE") {
            Err(_) => Ok(Self::Auto),
            Ok(v) => match v.to_ascii_lowercase().as_str() {
                "cpu" => Ok(Self::Cpu),
                "reference" => Ok(Self::Reference),
                "gpu" => Ok(Self::Gpu),
                "auto" | "" => Ok(Self::Auto),
                other => Err(crate::Error::Config(format!(
                    "ATELIER_DEVICE={other:?} is not one of cpu, reference, gpu, auto"
                ))),
            },
        }
    }
}

/// Optional device features atelier asks for when the adapter has them.
pub const OPTIONAL_FEATURES: [(wgpu::Features, &str); 5] = [
    (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
    (
        wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS,
        "timestamp-query-inside-encoders",
    ),
    (wgpu::Features::SUBGROUP, "subgroup"),
    (wgpu::Features::SHADER_F16, "shader-f16"),
    (
        wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
        "cooperative-matrix",
    ),
];

/// A wgpu device and everything atelier keeps beside it.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub features: wgpu::Features,
    /// The adapter's cooperative-matrix configurations (M x N x K, input and accumulator
    /// types), empty unless the device has `cooperative-matrix`.
    pub cooperative_matrices: Vec<wgpu::CooperativeMatrixProperties>,
    /// The device's memory where atelier can know it (see [`crate::memory`]).
    pub memory: Option<DeviceMemory>,
    pub(crate) pool: BufferPool,
    pub(crate) pipelines: PipelineCache,
    pub(crate) recorder: Mutex<Recorder>,
    pub(crate) stats: Stats,
}

static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();

/// The shared GPU context, created on first use. `Err` says why there is none (no adapter, or
/// `ATELIER_DEVICE=cpu`).
pub fn try_gpu() -> Result<&'static Gpu, String> {
    GPU.get_or_init(|| {
        let pref = DevicePreference::from_env().map_err(|e| e.to_string())?;
        if matches!(pref, DevicePreference::Cpu | DevicePreference::Reference) {
            return Err(format!(
                "ATELIER_DEVICE={}",
                std::env::var("ATELIER_DEVICE").unwrap_or_default()
            ));
        }
        Gpu::new().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| e.clone())
}

/// The shared GPU context if something already created it (never creates one).
pub(crate) fn gpu_if_created() -> Option<&'static Gpu> {
    GPU.get().and_then(|g| g.as_ref().ok())
}

/// The shared GPU context. Panics with the reason when there is none; check `gpu_available`
/// first, or use `try_gpu`.
pub fn gpu() -> &'static Gpu {
    match try_gpu() {
        Ok(g) => g,
        Err(e) => panic!("atelier: no GPU device: {e}"),
    }
}

/// Whether a GPU context exists (and `ATELIER_DEVICE` allows it). This is any adapter,
/// a software one included; what `auto` picks is [`auto_choice`].
pub fn gpu_available() -> bool {
    try_gpu().is_ok()
}

/// What `ATELIER_DEVICE=auto` (or unset) picks, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoChoice {
    /// Whether to compute on the GPU (else the fast CPU device).
    pub gpu: bool,
    /// Why, in a sentence for `atelier info` and logs.
    pub reason: String,
}

/// What `auto` picks: the GPU when the adapter atelier would use is hardware, or when
/// `ATELIER_ADAPTER` names one; otherwise the fast CPU device (a software Vulkan device such
/// as lavapipe is several times slower than it, so it runs only when asked for). Decided once,
/// from the adapter list, without creating a device when the answer is the CPU.
pub fn auto_choice() -> &'static AutoChoice {
    static CHOICE: OnceLock<AutoChoice> = OnceLock::new();
    CHOICE.get_or_init(|| {
        if let Ok(name) = std::env::var("ATELIER_ADAPTER") {
            return match try_gpu() {
                Ok(g) => AutoChoice {
                    gpu: true,
                    reason: format!("ATELIER_ADAPTER={name:?} asks for {}", g.info.name),
                },
                Err(e) => AutoChoice {
                    gpu: false,
                    reason: format!("ATELIER_ADAPTER={name:?}, but no GPU device: {e}"),
                },
            };
        }
        let adapters = list_adapters();
        match adapters.first().map(|a| a.get_info()) {
            None => AutoChoice {
                gpu: false,
                reason: "wgpu found no GPU adapter".into(),
            },
            Some(info) if info.device_type == wgpu::DeviceType::Cpu => AutoChoice {
                gpu: false,
                reason: format!(
                    "the only adapter is {} (software Vulkan, slower than the fast CPU device; \
                     ATELIER_DEVICE=gpu uses it)",
                    info.name
                ),
            },
            Some(info) => match try_gpu() {
                Ok(_) => AutoChoice {
                    gpu: true,
                    reason: format!("{} is a hardware GPU", info.name),
                },
                Err(e) => AutoChoice {
                    gpu: false,
                    reason: format!("{} could not be opened: {e}", info.name),
                },
            },
        }
    })
}

/// Why the current device cannot run subgroup kernels (it lacks wgpu's SUBGROUP feature, or
/// there is no device), or `None` when it can. Subgroup variants consult this: they are
/// chosen automatically only where it is `None`, and their launchers panic with the reason.
pub fn subgroups_missing() -> Option<String> {
    match try_gpu() {
        Ok(g) if g.has_subgroups() => None,
        Ok(_) if disabled_features().is_ok_and(|d| d.contains(wgpu::Features::SUBGROUP)) => {
            Some("SUBGROUP turned off by ATELIER_DISABLE_FEATURES".into())
        }
        Ok(g) => Some(format!("{} has no SUBGROUP feature", g.info.name)),
        Err(e) => Some(format!("no GPU device ({e})")),
    }
}

/// The Debian package that provides a software Vulkan device, for error messages.
pub const SOFTWARE_VULKAN_HINT: &str = "install a Vulkan driver (on Debian/Ubuntu: `apt-get install mesa-vulkan-drivers` for lavapipe)";

fn adapter_rank(info: &wgpu::AdapterInfo) -> u32 {
    match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Every adapter wgpu can see, best first (hardware before software).
pub fn list_adapters() -> Vec<wgpu::Adapter> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.retain(|a| a.get_info().backend != wgpu::Backend::Noop);
    adapters.sort_by_key(|a| adapter_rank(&a.get_info()));
    adapters
}

/// The features `ATELIER_DISABLE_FEATURES` names; an unknown name is an error that lists them.
fn disabled_features() -> Result<wgpu::Features, crate::Error> {
    let mut disabled = wgpu::Features::empty();
    let Ok(list) = std::env::var("ATELIER_DISABLE_FEATURES") else {
        return Ok(disabled);
    };
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let (f, _) = OPTIONAL_FEATURES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<&str> = OPTIONAL_FEATURES.iter().map(|(_, n)| *n).collect();
                crate::Error::Config(format!(
                    "ATELIER_DISABLE_FEATURES: {name:?} is not one of {}",
                    known.join(", ")
                ))
            })?;
        disabled |= *f;
    }
    Ok(disabled)
}

/// `ATELIER_MAX_BINDING_BYTES`, when set: a number of bytes, at least 64 KiB (a smaller limit
/// would split even small weights), a multiple of 4.
fn binding_limit_from_env() -> Result<Option<u64>, crate::Error> {
    let Ok(v) = std::env::var("ATELIER_MAX_BINDING_BYTES") else {
        return Ok(None);
    };
    match v.trim().parse::<u64>() {
        Ok(b) if b >= 1 << 16 && b % 4 == 0 => Ok(Some(b)),
        _ => Err(crate::Error::Config(format!(
            "ATELIER_MAX_BINDING_BYTES={v:?} is not a number of bytes of at least 65536 and a \
             multiple of 4"
        ))),
    }
}

impl Gpu {
    fn new() -> Result<Self, crate::Error> {
        let adapters = list_adapters();
        let wanted = std::env::var("ATELIER_ADAPTER").ok();
        let adapter = match &wanted {
            Some(name) => adapters
                .into_iter()
                .find(|a| {
                    a.get_info()
                        .name
                        .to_lowercase()
                        .contains(&name.to_lowercase())
                })
                .ok_or_else(|| {
                    crate::Error::Config(format!("ATELIER_ADAPTER={name:?} matches no adapter"))
                })?,
            None => adapters.into_iter().next().ok_or_else(|| {
                crate::Error::NoAdapter(format!("wgpu found no adapter; {SOFTWARE_VULKAN_HINT}"))
            })?,
        };
        let info = adapter.get_info();
        let disabled = disabled_features()?;
        let mut features = wgpu::Features::empty();
        for (f, _) in OPTIONAL_FEATURES {
            if adapter.features().contains(f) && !disabled.contains(f) {
                features |= f;
            }
        }
        // the adapter's own limits (on most GPUs far above WebGPU's defaults: a binding of
        // 128 MiB by default, 2 GiB or more on many)
        let mut limits = adapter.limits();
        if let Some(bytes) = binding_limit_from_env()? {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(bytes);
        }
        let cooperative_matrices =
            if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
                adapter.cooperative_matrix_properties()
            } else {
                Vec::new()
            };
        let experimental = if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
            // SAFETY: cooperative matrices are only used by kernels that opt in and are validated.
            unsafe { wgpu::ExperimentalFeatures::enabled() }
        } else {
            wgpu::ExperimentalFeatures::disabled()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("atelier"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: experimental,
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| crate::Error::NoAdapter(format!("request_device on {}: {e}", info.name)))?;
        device.on_uncaptured_error(std::sync::Arc::new(|e: wgpu::Error| {
            panic!(
                "atelier: wgpu error (last kernel: {}): {e}",
                crate::recorder::last_kernel()
            )
        }));
        let recorder = Recorder::new(&device, &limits);
        let memory = crate::memory::of_adapter(&adapter, crate::memory::cap_from_env()?);
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            features,
            cooperative_matrices,
            memory,
            pool: BufferPool::default(),
            pipelines: PipelineCache::default(),
            recorder: Mutex::new(recorder),
            stats: Stats::default(),
        })
    }

    /// Names of the optional features this device was created with.
    pub fn feature_names(&self) -> Vec<&'static str> {
        OPTIONAL_FEATURES
            .iter()
            .filter(|(f, _)| self.features.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }

    /// The adapter's cooperative-matrix configurations, as `MxNxK ab->c` (for example
    /// `16x16x16 f16->f32`); empty without the feature.
    pub fn cooperative_matrix_names(&self) -> Vec<String> {
        self.cooperative_matrices
            .iter()
            .map(|p| {
                let t = |t: wgpu::CooperativeScalarType| format!("{t:?}").to_lowercase();
                let sat = if p.saturating_accumulation {
                    " saturating"
                } else {
                    ""
                };
                format!(
                    "{}x{}x{} {}->{}{sat}",
                    p.m_size,
                    p.n_size,
                    p.k_size,
                    t(p.ab_type),
                    t(p.cr_type)
                )
            })
            .collect()
    }

    pub fn has_feature(&self, f: wgpu::Features) -> bool {
        self.features.contains(f)
    }

    /// Whether kernels may use subgroup operations (wgpu's SUBGROUP feature).
    pub fn has_subgroups(&self) -> bool {
        self.has_feature(wgpu::Features::SUBGROUP)
    }

    /// Whether this is a software rasteriser (lavapipe, SwiftShader, llvmpipe).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }
}

/// For tests: whether GPU tests should run. With no adapter they are skipped with a note on
/// stderr, unless `ATELIER_REQUIRE_GPU=1` (CI sets it), where a missing GPU is a failure.
pub fn gpu_for_tests() -> bool {
    match try_gpu() {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("ATELIER_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("ATELIER_REQUIRE_GPU=1 but no GPU device: {e}");
            }
            eprintln!("skipping GPU test: no GPU device ({e}); {SOFTWARE_VULKAN_HINT}");
            false
        }
    }
}
