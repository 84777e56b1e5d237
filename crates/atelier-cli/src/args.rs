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

#[cfg(test)]
mod tests {
    use super::*;

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
