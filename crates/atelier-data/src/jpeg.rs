//! Whether a JPEG file is whole. JPEG decoders fill a truncated scan with grey and report no
//! error, so a file cut short (an interrupted download or copy) would train as a grey image.
//! A whole JPEG ends its last scan with the end-of-image marker (FF D9): this walks the marker
//! segments (skipping each by its length, so a thumbnail's own FF D9 inside an APP1 segment is
//! not mistaken for the end) and the entropy-coded data after each start-of-scan. Bytes after
//! FF D9 (some cameras append data) are allowed.

/// Whether `bytes` starts a JPEG (FF D8 FF).
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Whether the JPEG stream in `bytes` reaches its end-of-image marker.
pub fn is_complete(bytes: &[u8]) -> bool {
    let b = bytes;
    if !b.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        // a marker: one or more FF, then its code
        if b.get(i) != Some(&0xFF) {
            return false;
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&code) = b.get(i) else {
            return false;
        };
        i += 1;
        match code {
            0xD9 => return true,
            // restart markers and TEM carry no length
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        let Some(len) = b
            .get(i..i + 2)
            .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize)
        else {
            return false;
        };
        if len < 2 {
            return false;
        }
        i += len;
        if code == 0xDA {
            // entropy-coded data runs to the next marker that is not a stuffed FF 00, a
            // restart marker or fill
            loop {
                match (b.get(i), b.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => i += 2,
                    (Some(0xFF), Some(0xFF)) => i += 1,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let img = image::RgbImage::from_fn(48, 40, |x, y| {
            image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x * y) % 251) as u8])
        });
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        bytes
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_every_cut_is_not() {
        let bytes = jpeg();
        assert!(is_jpeg(&bytes) && is_complete(&bytes));
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(b"camera trailer");
        assert!(is_complete(&trailing));
        for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 1, 3, 0] {
            assert!(
                !is_complete(&bytes[..cut]),
                "cut at {cut} of {}",
                bytes.len()
            );
        }
    }
}
