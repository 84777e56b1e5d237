//! Adam on a whole model's parameters at once: the moments of a list of tensors in two flat
//! buffers ([`AdamGroup`]), and [`adam_group`], which updates every tensor of the group with
//! the variant `ATELIER_KERNELS=optim=...` asks for: `multi_tensor` (`adam_multi.wgsl`, one
//! dispatch for up to [`slots`] tensors) or `per_tensor` (`optim.wgsl`'s `adam`, one dispatch
//! per tensor, on windows of the flat moments).
//!
//! Why this layout: parameters and gradients are ordinary tensors, each its own pooled
//! buffer (autograd makes a new gradient every step, convolutions bind the weights), so they
//! stay where they are and the kernel binds them, one (parameter, gradient) pair per slot.
//! The moments belong to the optimizer alone, so they can live back to back in one buffer
//! each, which halves the bindings a slot needs and lets one table describe where everything
//! lies. Each tensor's moments start at a multiple of [`ALIGN`] f32s, so a tensor's slice of
//! them is also a window other kernels can bind (the `per_tensor` variant, checkpoints).

use std::sync::OnceLock;

use super::launch::{adam, adam_params};
use super::{AdamStep, AdamVariant};
use crate::buffer_pool::GpuBuffer;
use crate::context::gpu;
use crate::pipeline::Kernel;
use crate::shader::Shader;
use crate::variant::Variant;

/// Moment offsets are multiples of this many f32s (256 bytes, WebGPU's largest storage
/// offset alignment), so every tensor's moments are a bindable window.
pub const ALIGN: usize = 64;

/// Elements one workgroup updates: four per invocation.
pub const CHUNK: usize = 4 * crate::WG as usize;

/// The most slots a generated kernel has (more tensors take more dispatches).
pub const MAX_SLOTS: usize = 16;

/// Storage bindings besides the slots: the chunk table, m and v.
const FIXED_BINDINGS: u32 = 3;

/// The slots this device binds in one dispatch: two storage buffers per slot besides the
/// table and the moments, at most [`MAX_SLOTS`].
pub fn slots() -> usize {
    let l = &gpu().limits;
    let storage = l
        .max_storage_buffers_per_shader_stage
        .saturating_sub(FIXED_BINDINGS);
    let bindings = l
        .max_bindings_per_bind_group
        .saturating_sub(FIXED_BINDINGS + 1);
    ((storage.min(bindings) / 2) as usize).min(MAX_SLOTS)
}

/// The moments of a list of parameter tensors, in two flat buffers, and the chunk tables of
/// the `multi_tensor` kernel (built once: the layout never changes).
pub struct AdamGroup {
    lens: Vec<usize>,
    /// Where each tensor's moments start in `m` and `v`.
    offsets: Vec<usize>,
    /// First moments, zero at first, [`AdamGroup::len`] f32s (padding included).
    pub m: GpuBuffer,
    /// Second moments, as `m`.
    pub v: GpuBuffer,
    /// Per dispatch of `multi_tensor`: the tensors it updates (a range of the list), its
    /// chunk table and the number of chunks.
    dispatches: Vec<(std::ops::Range<usize>, GpuBuffer, usize)>,
}

impl AdamGroup {
    /// Zero moments for tensors of `lens` elements. `None` when the moments would not fit one
    /// storage binding (the caller then keeps one moment buffer per tensor).
    pub fn new(lens: &[usize]) -> Option<AdamGroup> {
        let mut offsets = Vec::with_capacity(lens.len());
        let mut total = 0;
        for &n in lens {
            offsets.push(total);
            total += n.div_ceil(ALIGN) * ALIGN;
        }
        let total = total.max(1);
        if (total * 4) as u64 > crate::chunk::binding_limit() || u32::try_from(total).is_err() {
            return None;
        }
        let zeros = |n| {
            let b = GpuBuffer::uninit(n);
            crate::elementwise::fill(&b, 0.0);
            b
        };
        let slots = slots().max(1);
        let mut dispatches = Vec::new();
        for first in (0..lens.len()).step_by(slots) {
            let range = first..(first + slots).min(lens.len());
            let rows = chunk_table(&lens[range.clone()], &offsets[range.clone()]);
            let chunks = rows.len() / 4;
            let table = if chunks == 0 {
                GpuBuffer::uninit(4)
            } else {
                gpu().upload(bytemuck::cast_slice(&rows))
            };
            dispatches.push((range, table, chunks));
        }
        Some(AdamGroup {
            lens: lens.to_vec(),
            offsets,
            m: zeros(total),
            v: zeros(total),
            dispatches,
        })
    }

    /// Tensors in the group.
    pub fn tensors(&self) -> usize {
        self.lens.len()
    }

    /// Elements of tensor `i`.
    pub fn tensor_len(&self, i: usize) -> usize {
        self.lens[i]
    }

    /// Where tensor `i`'s moments start in `m` and `v`.
    pub fn offset(&self, i: usize) -> usize {
        self.offsets[i]
    }

    /// (tensors, elements): what the variant choice looks at.
    pub fn problem(&self) -> (usize, usize) {
        (self.lens.len(), self.lens.iter().sum())
    }

    /// Tensor `i`'s first and second moments, as windows of `m` and `v`.
    pub fn moments(&self, i: usize) -> (GpuBuffer, GpuBuffer) {
        let (o, n) = (self.offsets[i], self.lens[i]);
        (self.m.window(o, n), self.v.window(o, n))
    }
}

/// The `multi_tensor` kernel's rows for tensors of `lens` whose moments start at `offsets`:
/// (slot, first element, elements, moment offset) per chunk of at most [`CHUNK`] elements.
pub fn chunk_table(lens: &[usize], offsets: &[usize]) -> Vec<u32> {
    let u = |v: usize| u32::try_from(v).expect("adam_multi: sizes fit in u32");
    let mut rows = Vec::new();
    for (slot, (&n, &o)) in lens.iter().zip(offsets).enumerate() {
        for start in (0..n).step_by(CHUNK) {
            rows.extend([u(slot), u(start), u(CHUNK.min(n - start)), u(o)]);
        }
    }
    rows
}

/// The generated `adam_multi` shader with `slots` slots.
pub fn shader_source(slots: usize) -> String {
    let mut bindings = String::new();
    let mut cases = String::new();
    for s in 0..slots {
        let (bp, bg) = (
            FIXED_BINDINGS as usize + 1 + 2 * s,
            FIXED_BINDINGS as usize + 2 + 2 * s,
        );
        bindings.push_str(&format!(
            "@group(0) @binding({bp}) var<storage, read_write> p{s}: array<f32>;\n\
             @group(0) @binding({bg}) var<storage, read> g{s}: array<f32>;\n"
        ));
        cases.push_str(&format!(
            "            case {s}u: {{ p{s}[i] = adam_element(p{s}[i], g{s}[i], j); }}\n"
        ));
    }
    crate::wgsl!("optim/adam_multi.wgsl")
        .replace("//@SLOT_BINDINGS\n", &bindings)
        .replace("//@SLOT_CASES\n", &cases)
}

/// The `adam_multi` kernel with `slots` slots (1 ..= [`MAX_SLOTS`]), generated once.
fn kernel(slots: usize) -> Kernel {
    static SHADERS: [OnceLock<Shader>; MAX_SLOTS] = [const { OnceLock::new() }; MAX_SLOTS];
    let shader = SHADERS[slots - 1].get_or_init(|| Shader {
        name: Box::leak(format!("optim/adam_multi_{slots}.wgsl").into_boxed_str()),
        parts: Box::leak(Box::new([
            crate::wgsl!("optim/adam_params.wgsl"),
            &*Box::leak(shader_source(slots).into_boxed_str()),
        ])),
    });
    Kernel::new(shader, "adam_multi")
}

/// One Adam step of every tensor of `group`: `params[i]` and `grads[i]` hold tensor `i`
/// ([`AdamGroup::tensor_len`] f32s each). The variant is the one `ATELIER_KERNELS` asks for
/// (`multi_tensor` by default where the device binds at least two slots).
pub fn adam_group(hp: &AdamStep, group: &AdamGroup, params: &[&GpuBuffer], grads: &[&GpuBuffer]) {
    let k = "adam_group";
    assert!(
        params.len() == group.tensors() && grads.len() == group.tensors(),
        "{k}: {} parameters and {} gradients for a group of {} tensors",
        params.len(),
        grads.len(),
        group.tensors()
    );
    for (i, (p, g)) in params.iter().zip(grads).enumerate() {
        let n = group.tensor_len(i);
        assert!(
            p.len() == n && g.len() == n,
            "{k}: tensor {i}: parameter {} and gradient {} elements, the group's {n}",
            p.len(),
            g.len()
        );
    }
    // tuning times every candidate: on copies, since a step updates in place
    let variant = crate::variant::choose(&group.problem(), &mut |v| {
        let copy = |b: &GpuBuffer| {
            let c = GpuBuffer::uninit(b.len());
            gpu().copy(b, 0, &c, 0, b.len());
            c
        };
        let scratch = AdamGroup::new(&group.lens).expect("the group's own layout fits");
        let ps: Vec<GpuBuffer> = params.iter().map(|p| copy(p)).collect();
        let ps: Vec<&GpuBuffer> = ps.iter().collect();
        adam_group_with(v, hp, &scratch, &ps, grads);
    });
    crate::variant::launching(variant, &group.problem(), false, |v| {
        adam_group_with(v, hp, group, params, grads)
    });
}

/// [`adam_group`] with the variant chosen by the caller.
pub fn adam_group_with(
    variant: AdamVariant,
    hp: &AdamStep,
    group: &AdamGroup,
    params: &[&GpuBuffer],
    grads: &[&GpuBuffer],
) {
    match variant {
        AdamVariant::PerTensor => {
            for i in 0..group.tensors() {
                let (m, v) = group.moments(i);
                adam(hp, params[i], grads[i], &m, &v);
            }
        }
        AdamVariant::MultiTensor => {
            if let Some(why) = variant.unavailable() {
                panic!("adam_group: variant multi_tensor cannot run: {why}");
            }
            for (range, table, chunks) in &group.dispatches {
                let params_u = adam_params(hp, "adam_multi", *chunks);
                let mut buffers: Vec<&GpuBuffer> = vec![table, &group.m, &group.v];
                for i in range.clone() {
                    buffers.extend([params[i], grads[i]]);
                }
                gpu().launch(
                    &kernel(range.len()),
                    &[],
                    &params_u,
                    &buffers,
                    *chunks as u32,
                );
            }
        }
    }
}
