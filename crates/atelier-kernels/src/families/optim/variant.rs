//! How Adam updates a group of tensors ([`super::adam_group`]): one dispatch per tensor, or
//! one for many.

use crate::variant::Variant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdamVariant {
    /// `optim.wgsl`'s `adam`, one dispatch per tensor.
    PerTensor,
    /// `adam_multi.wgsl`: one dispatch for up to [`super::slots`] tensors, each workgroup a
    /// chunk of one of them (PyTorch's multi-tensor Adam).
    MultiTensor,
}

impl Variant for AdamVariant {
    const FAMILY: &'static str = "optim";
    const ALL: &'static [AdamVariant] = &[AdamVariant::PerTensor, AdamVariant::MultiTensor];
    /// (tensors, elements in all).
    type Problem = (usize, usize);

    fn name(self) -> &'static str {
        match self {
            AdamVariant::PerTensor => "per_tensor",
            AdamVariant::MultiTensor => "multi_tensor",
        }
    }

    fn unavailable(self) -> Option<String> {
        match self {
            AdamVariant::PerTensor => None,
            AdamVariant::MultiTensor => (super::slots() < 2).then(|| {
                let l = &crate::context::gpu().limits;
                format!(
                    "the device binds {} storage buffers per shader stage, {} per bind group; \
                     two slots need 7",
                    l.max_storage_buffers_per_shader_stage, l.max_bindings_per_bind_group
                )
            }),
        }
    }

    /// Multi-tensor on a hardware GPU wherever it can run and there is more than one tensor:
    /// the same reads and writes as per-tensor, in fewer dispatches, by construction (a GPU
    /// branches once per workgroup on the slot, the same for all its invocations). Per-tensor
    /// on a software adapter: llvmpipe runs a workgroup's invocations as SIMD lanes and
    /// executes every case of the slot `switch` under a mask, so there the kernel does the
    /// loads and stores of every slot (measured on lavapipe in a DCGAN step: 66 ms for the two
    /// multi-tensor dispatches against 20 ms for the 18 per-tensor ones).
    fn auto(&(tensors, _): &(usize, usize)) -> AdamVariant {
        let software = crate::context::gpu().is_software();
        if tensors > 1 && !software && AdamVariant::MultiTensor.unavailable().is_none() {
            AdamVariant::MultiTensor
        } else {
            AdamVariant::PerTensor
        }
    }
}
