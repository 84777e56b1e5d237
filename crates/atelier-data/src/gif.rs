//! Animated GIFs (the `image` crate's encoder): training progress and latent walks. Written
//! atomically (atelier_fs::write_atomic_with), as every image is.

use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, DynamicImage, Frame, RgbImage};

use crate::error::{Error, Result};

/// Saves `frames` (all the same size) as a looping GIF showing each for `delay_ms`.
pub fn save_gif(path: impl AsRef<Path>, frames: &[RgbImage], delay_ms: u32) -> Result<()> {
    let path = path.as_ref();
    let Some(first) = frames.first() else {
        return Err(Error::Invalid(format!(
            "{}: a GIF needs at least one frame",
            path.display()
        )));
    };
    if let Some(f) = frames.iter().find(|f| f.dimensions() != first.dimensions()) {
        return Err(Error::Invalid(format!(
            "{}: frames of {:?} and {:?} pixels",
            path.display(),
            first.dimensions(),
            f.dimensions()
        )));
    }
    atelier_fs::write_atomic_with(path, |w| {
        let as_io = |e: image::ImageError| match e {
            image::ImageError::IoError(io) => io,
            other => std::io::Error::other(other),
        };
        let mut encoder = GifEncoder::new_with_speed(w, 10);
        encoder.set_repeat(Repeat::Infinite).map_err(as_io)?;
        let delay = Delay::from_numer_denom_ms(delay_ms, 1);
        for f in frames {
            let rgba = DynamicImage::ImageRgb8(f.clone()).into_rgba8();
            encoder
                .encode_frame(Frame::from_parts(rgba, 0, 0, delay))
                .map_err(as_io)?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{AnimationDecoder, Rgb};

    #[test]
    fn frames_come_back_in_order_and_mismatched_sizes_are_refused() {
        let dir = std::env::temp_dir().join(format!("atelier-gif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("walk.gif");
        let frames: Vec<RgbImage> = [[250, 0, 0], [0, 250, 0], [0, 0, 250]]
            .iter()
            .map(|&c| RgbImage::from_pixel(6, 4, Rgb(c)))
            .collect();
        save_gif(&path, &frames, 80).unwrap();
        let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
            std::fs::File::open(&path).unwrap(),
        ))
        .unwrap();
        let back = decoder.into_frames().collect_frames().unwrap();
        assert_eq!(back.len(), 3);
        for (f, want) in back.iter().zip([0, 1, 2]) {
            let px = f.buffer().get_pixel(2, 2);
            assert!(px[want] > 200, "frame {want}: {px:?}");
            assert_eq!(f.delay().numer_denom_ms(), (80, 1));
        }
        let err = save_gif(&path, &[frames[0].clone(), RgbImage::new(3, 3)], 80).unwrap_err();
        assert!(err.to_string().contains("frames of"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
