//! What ran, for reading: `ATELIER_DUMP_SHADERS=DIR` writes every shader module a run compiles
//! as the WGSL the device was given (the prelude and every part joined; the generated variants
//! such as conv2d's `igemm*` tiles included, which exist nowhere else as one text), and every
//! pipeline as the SPIR-V naga writes for it: its override constants applied, wgpu's runtime
//! checks as `ATELIER_SHADER_CHECKS` sets them. `DIR/pipelines.txt` lists the pipelines in the
//! order they were compiled, with their constants and files. Read the SPIR-V with
//! `spirv-dis` or `spirv-cross`; the tests read it with [`spirv`] (conv2d's `spirv_check`).
//!
//! The SPIR-V is what wgpu's Vulkan backend hands the driver up to adapter-specific options:
//! with checks on, buffer accesses are clamped here as on a device without
//! robustBufferAccess2 (where the device has it, wgpu leaves them to the hardware).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::shader::Shader;
use crate::shader_checks::ShaderChecks;

/// `entry` of `shader` in SPIR-V, with `constants` applied, with wgpu's runtime checks
/// (`checked`: index and buffer clamps, guarded division, bounded loops) or without.
pub fn spirv(
    shader: &Shader,
    entry: &str,
    constants: &[(&str, f64)],
    checked: bool,
) -> Result<Vec<u32>, String> {
    use naga::back::spv;
    use naga::proc::{BoundsCheckPolicies, BoundsCheckPolicy};
    let source = shader.source();
    let module = naga::front::wgsl::parse_str(&source)
        .map_err(|e| format!("{}: {}", shader.name, e.emit_to_string(&source)))?;
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .map_err(|e| format!("{}: {e:?}", shader.name))?;
    let mut values = naga::back::PipelineConstants::default();
    for (name, v) in constants {
        values.insert(name.to_string(), *v);
    }
    let stage = naga::ShaderStage::Compute;
    let (module, info) = naga::back::pipeline_constants::process_overrides(
        &module,
        &info,
        Some((stage, entry)),
        &values,
    )
    .map_err(|e| format!("{} {entry}: {e:?}", shader.name))?;
    let policy = if checked {
        BoundsCheckPolicy::Restrict
    } else {
        BoundsCheckPolicy::Unchecked
    };
    let options = spv::Options {
        bounds_check_policies: BoundsCheckPolicies {
            index: policy,
            buffer: policy,
            image_load: policy,
            binding_array: policy,
        },
        force_loop_bounding: checked,
        emit_int_div_checks: checked,
        // the pipeline cache creates every pipeline without zeroing workgroup memory (each
        // kernel writes what it reads), and wgpu then writes no zeroing code
        zero_initialize_workgroup_memory: spv::ZeroInitializeWorkgroupMemoryMode::None,
        ..spv::Options::default()
    };
    let pipeline = spv::PipelineOptions {
        shader_stage: stage,
        entry_point: entry.to_string(),
    };
    spv::write_vec(&module, &info, &options, Some(&pipeline))
        .map_err(|e| format!("{} {entry}: {e:?}", shader.name))
}

/// The dump's folder and what is already in it.
struct Dump {
    dir: PathBuf,
    modules: HashSet<&'static str>,
    pipelines: usize,
}

/// `ATELIER_DUMP_SHADERS`, read once; `None` when unset or once writing has failed.
fn dump() -> &'static Mutex<Option<Dump>> {
    static DUMP: OnceLock<Mutex<Option<Dump>>> = OnceLock::new();
    DUMP.get_or_init(|| {
        let dir = std::env::var_os("ATELIER_DUMP_SHADERS").filter(|d| !d.is_empty());
        Mutex::new(dir.map(|d| Dump {
            dir: PathBuf::from(d),
            modules: HashSet::new(),
            pipelines: 0,
        }))
    })
}

/// `family/file.wgsl` as one file name: `family.file.wgsl`.
fn file_name(shader: &Shader) -> String {
    shader.name.replace('/', ".")
}

/// Writes the pipeline the cache just compiled (and its module, the first time), when
/// `ATELIER_DUMP_SHADERS` is set. A folder that cannot be written is said once on stderr and
/// the dump stops; the run goes on.
pub(crate) fn pipeline_compiled(
    shader: &'static Shader,
    entry: &str,
    constants: &[(&str, f64)],
    checks: ShaderChecks,
) {
    let mut guard = dump().lock().unwrap();
    let Some(d) = guard.as_mut() else {
        return;
    };
    if let Err(e) = write_pipeline(d, shader, entry, constants, checks) {
        eprintln!(
            "atelier: ATELIER_DUMP_SHADERS={}: {e}; no more shaders are written",
            d.dir.display()
        );
        *guard = None;
    }
}

fn write_pipeline(
    d: &mut Dump,
    shader: &'static Shader,
    entry: &str,
    constants: &[(&str, f64)],
    checks: ShaderChecks,
) -> Result<(), String> {
    let io = |what: &Path, e: std::io::Error| format!("{}: {e}", what.display());
    std::fs::create_dir_all(&d.dir).map_err(|e| io(&d.dir, e))?;
    let wgsl = d.dir.join(file_name(shader));
    if d.modules.insert(shader.name) {
        std::fs::write(&wgsl, shader.source()).map_err(|e| io(&wgsl, e))?;
    }
    d.pipelines += 1;
    let checked = checks != ShaderChecks::Off;
    let stem = file_name(shader);
    let stem = stem.strip_suffix(".wgsl").unwrap_or(&stem);
    let trusted = if checked { "" } else { ".trusted" };
    let spv_name = format!("{:04}.{stem}.{entry}{trusted}.spv", d.pipelines);
    let spv_path = d.dir.join(&spv_name);
    let spv_note = match spirv(shader, entry, constants, checked) {
        Ok(words) => {
            std::fs::write(&spv_path, bytemuck::cast_slice::<u32, u8>(&words))
                .map_err(|e| io(&spv_path, e))?;
            spv_name
        }
        // naga's SPIR-V writer cannot write every module wgpu runs (a backend may need
        // options this writer does not take): the index says why, the WGSL is still there
        Err(e) => format!("(no SPIR-V: {})", e.lines().next().unwrap_or("")),
    };
    let constants: Vec<String> = constants.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let index = d.dir.join("pipelines.txt");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&index)
        .map_err(|e| io(&index, e))?;
    if d.pipelines == 1 {
        writeln!(
            f,
            "# pipeline  shader::entry  runtime checks  override constants  SPIR-V \
             (ATELIER_DUMP_SHADERS; atelier_kernels::shader_dump)"
        )
        .map_err(|e| io(&index, e))?;
    }
    writeln!(
        f,
        "{:04}  {}::{entry}  checks {}  {}  {spv_note}",
        d.pipelines,
        shader.name,
        if checked { "on" } else { "off" },
        if constants.is_empty() {
            "-".to_string()
        } else {
            constants.join(",")
        }
    )
    .map_err(|e| io(&index, e))
}
