//! safetensors files into the same [`StateDict`], so one call reads either kind.

use safetensors::{Dtype, SafeTensors};

use crate::dtype::DType;
use crate::error::{PthError, Result};
use crate::read::Keep;
use crate::state_dict::{Format, StateDict, Tensor};

pub(crate) fn read(bytes: &[u8], path: &str, keep: Keep<'_>) -> Result<StateDict> {
    let bad = |e: safetensors::SafeTensorError| {
        PthError::container(path, format!("not a readable safetensors file: {e}"))
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let st = SafeTensors::deserialize(bytes).map_err(bad)?;
    let mut sd = StateDict::new(path, Format::Safetensors);
    if let Some(meta) = header.metadata() {
        sd.metadata = meta.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    // safetensors keeps no order; the header's offsets give the order of the data
    let mut views = st.tensors();
    views.sort_by_key(|(_, v)| v.data().as_ptr() as usize);
    for (key, view) in views {
        if !keep(&key) {
            continue;
        }
        let dtype = match view.dtype() {
            Dtype::F64 => DType::F64,
            Dtype::F32 => DType::F32,
            Dtype::F16 => DType::F16,
            Dtype::BF16 => DType::BF16,
            Dtype::I64 => DType::I64,
            Dtype::I32 => DType::I32,
            Dtype::I16 => DType::I16,
            Dtype::I8 => DType::I8,
            Dtype::U8 => DType::U8,
            Dtype::BOOL => DType::Bool,
            other => {
                return Err(PthError::tensor(
                    path,
                    &key,
                    format!("dtype {other:?} is not read"),
                ));
            }
        };
        let values = dtype.to_f32(view.data());
        sd.insert(key, Tensor::new(view.shape().to_vec(), dtype, values));
    }
    Ok(sd)
}
