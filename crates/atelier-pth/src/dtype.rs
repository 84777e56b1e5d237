//! Element types of torch storages and their conversion to f32.

use half::{bf16, f16};

/// The element type of a storage, named as torch's storage classes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    /// The dtype of `torch.<name>` for a storage class name (`FloatStorage` → F32).
    pub(crate) fn from_storage_class(name: &str) -> Option<DType> {
        Some(match name {
            "DoubleStorage" => DType::F64,
            "FloatStorage" => DType::F32,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ShortStorage" => DType::I16,
            "CharStorage" => DType::I8,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }

    /// torch's storage class for this dtype (what the writer names).
    pub(crate) fn storage_class(self) -> &'static str {
        match self {
            DType::F64 => "DoubleStorage",
            DType::F32 => "FloatStorage",
            DType::F16 => "HalfStorage",
            DType::BF16 => "BFloat16Storage",
            DType::I64 => "LongStorage",
            DType::I32 => "IntStorage",
            DType::I16 => "ShortStorage",
            DType::I8 => "CharStorage",
            DType::U8 => "ByteStorage",
            DType::Bool => "BoolStorage",
        }
    }

    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F64 | DType::F32 | DType::F16 | DType::BF16)
    }

    /// Little-endian elements → f32 (integers converted exactly up to 2^24).
    pub(crate) fn to_f32(self, bytes: &[u8]) -> Vec<f32> {
        fn each<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f32) -> Vec<f32> {
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().expect("N bytes")))
                .collect()
        }
        match self {
            DType::F64 => each(bytes, |b| f64::from_le_bytes(b) as f32),
            DType::F32 => each(bytes, f32::from_le_bytes),
            DType::F16 => each(bytes, |b| f16::from_le_bytes(b).to_f32()),
            DType::BF16 => each(bytes, |b| bf16::from_le_bytes(b).to_f32()),
            DType::I64 => each(bytes, |b| i64::from_le_bytes(b) as f32),
            DType::I32 => each(bytes, |b| i32::from_le_bytes(b) as f32),
            DType::I16 => each(bytes, |b| i16::from_le_bytes(b) as f32),
            DType::I8 => each(bytes, |b: [u8; 1]| b[0] as i8 as f32),
            DType::U8 => each(bytes, |b: [u8; 1]| b[0] as f32),
            DType::Bool => each(bytes, |b: [u8; 1]| (b[0] != 0) as u8 as f32),
        }
    }

    /// f32 values → little-endian elements of this type (integers rounded).
    pub(crate) fn encode(self, values: &[f32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(values.len() * self.size());
        for &v in values {
            match self {
                DType::F64 => out.extend((v as f64).to_le_bytes()),
                DType::F32 => out.extend(v.to_le_bytes()),
                DType::F16 => out.extend(f16::from_f32(v).to_le_bytes()),
                DType::BF16 => out.extend(bf16::from_f32(v).to_le_bytes()),
                DType::I64 => out.extend((v.round() as i64).to_le_bytes()),
                DType::I32 => out.extend((v.round() as i32).to_le_bytes()),
                DType::I16 => out.extend((v.round() as i16).to_le_bytes()),
                DType::I8 => out.push(v.round() as i8 as u8),
                DType::U8 => out.push(v.round() as u8),
                DType::Bool => out.push((v != 0.0) as u8),
            }
        }
        out
    }
}
