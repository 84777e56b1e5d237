//! clap value parsers shared by the subcommands: a bad value is a usage error (exit 2) naming
//! the flag, at parse time, before any work.

/// A positive, finite number (a learning rate): `nan`, `inf`, 0 and negatives are refused.
pub fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive, finite number")),
    }
}

/// [`positive_f64`] as f32 (it must stay finite and positive in f32).
pub fn positive_f32(s: &str) -> Result<f32, String> {
    let v = positive_f64(s)? as f32;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{s:?} is out of range for a 32-bit float"))
    }
}

/// A DCGAN image size: 32, 64 or 128.
pub fn dcgan_image_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if atelier_gan::DcganConfig::IMAGE_SIZES.contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not 32, 64 or 128")),
    }
}

/// `--precision`: f32 (the default) or f16.
pub fn precision(s: &str) -> Result<atelier_kernels::precision::Precision, String> {
    atelier_kernels::precision::Precision::parse_for(s, "--precision").map_err(|e| e.to_string())
}

/// Applies `--precision` to the process (its convolutions); [`precision_note`] says where f16
/// cannot be had (conv2d's `coop_f16` needs a GPU with cooperative matrices).
pub fn apply_precision(p: atelier_kernels::precision::Precision) {
    atelier_kernels::precision::set_default_precision(p);
}

/// What `--precision f16` cannot do on `device` (and then everything stays in fp32), or `None`.
pub fn precision_note(
    p: atelier_kernels::precision::Precision,
    device: atelier_tensor::Device,
) -> Option<String> {
    use atelier_kernels::precision::Precision;
    if p != Precision::F16 {
        return None;
    }
    let why = match device {
        atelier_tensor::Device::Cpu => "the CPU device computes in fp32".to_string(),
        atelier_tensor::Device::Gpu => match atelier_kernels::try_gpu() {
            Ok(g) => atelier_kernels::conv2d::coop::device_unavailable(g)?,
            Err(e) => format!("no GPU device: {e}"),
        },
    };
    Some(format!(
        "--precision f16: the f16 convolutions (conv2d's coop_f16) cannot run here ({why}); \
         everything stays in fp32"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_values_and_mistakes_name_the_flag() {
        use atelier_kernels::precision::Precision;
        assert_eq!(precision("f16"), Ok(Precision::F16));
        assert_eq!(precision("f32"), Ok(Precision::F32));
        let e = precision("int8").unwrap_err();
        assert!(e.contains("--precision") && e.contains("int8"), "{e}");
    }

    #[test]
    fn learning_rates_must_be_positive_and_finite() {
        assert_eq!(positive_f64("2e-4"), Ok(2e-4));
        for bad in ["nan", "inf", "-1", "0", "x", "1e400"] {
            assert!(positive_f64(bad).is_err(), "{bad}");
        }
        assert!(positive_f32("1e39").is_err());
        assert_eq!(dcgan_image_size("64"), Ok(64));
        assert!(dcgan_image_size("48").is_err());
    }
}
