//! The Python globals a torch state_dict needs, and nothing else. A pickle names a global by
//! module and name; unpickling normally imports it and calls it, which is how a .pth file can
//! run code. Here a global is only a tag: the allowed ones become one of these variants, and
//! any other is refused (with its name) before anything else happens.

use crate::dtype::DType;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Global {
    /// `collections.OrderedDict`: every state_dict is one.
    OrderedDict,
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
    /// backward_hooks[, metadata])`: how every tensor since torch 0.4 is saved.
    RebuildTensorV2,
    /// `torch._utils._rebuild_tensor(storage, offset, size, stride)`: torch 0.3.
    RebuildTensor,
    /// `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: an
    /// `nn.Parameter` saved directly.
    RebuildParameter,
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state)`.
    RebuildParameterWithState,
    /// `torch._tensor._rebuild_from_type_v2(func, type, args, state)`: a tensor subclass
    /// (only `torch.Tensor` and `nn.Parameter` are accepted as the type).
    RebuildFromTypeV2,
    /// `torch.Tensor` or `torch.nn.parameter.Parameter`, as the type argument above.
    TensorClass,
    /// `torch.FloatStorage` and its kin: the storage type inside a persistent id.
    TypedStorage(DType),
    /// `torch.UntypedStorage` (bytes; torch 2 writes it for storages saved on their own).
    UntypedStorage,
}

impl Global {
    /// The allowed global `module.name`, or `None` when it is not allowed.
    pub(crate) fn find(module: &str, name: &str) -> Option<Global> {
        Some(match (module, name) {
            ("collections", "OrderedDict") => Global::OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2") => Global::RebuildTensorV2,
            ("torch._utils", "_rebuild_tensor") => Global::RebuildTensor,
            ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
            ("torch._utils", "_rebuild_parameter_with_state") => Global::RebuildParameterWithState,
            ("torch._tensor", "_rebuild_from_type_v2") => Global::RebuildFromTypeV2,
            ("torch", "Tensor") | ("torch._tensor", "Tensor") => Global::TensorClass,
            ("torch.nn.parameter", "Parameter") => Global::TensorClass,
            ("torch" | "torch.storage", "UntypedStorage") => Global::UntypedStorage,
            ("torch", storage) => Global::TypedStorage(DType::from_storage_class(storage)?),
            _ => return None,
        })
    }
}
