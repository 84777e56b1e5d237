//! TFRecord framing, as TensorFlow's `RecordWriter` writes it:
//!
//! ```text
//! u64 length (little-endian) | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)
//! ```
//!
//! CRC-32C (Castagnoli) comes from the `crc32c` crate; the mask rotates it right by 15 bits
//! and adds 0xa282ead8 (CRCs of data that holds CRCs are weak otherwise).

use std::io::{self, Read, Write};

const MASK_DELTA: u32 = 0xa282_ead8;

/// TensorFlow's masked CRC-32C of `bytes`.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Writes one record.
pub fn write_record(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    out.write_all(&len)?;
    out.write_all(&masked_crc(&len).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc(data).to_le_bytes())
}

/// What went wrong reading a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the length's CRC does not match (stored {stored:#010x}, computed {computed:#010x})")]
    LengthCrc { stored: u32, computed: u32 },
    #[error("the data's CRC does not match (stored {stored:#010x}, computed {computed:#010x})")]
    DataCrc { stored: u32, computed: u32 },
    #[error("the file ends inside a record (a writer may still be appending to it)")]
    Truncated,
}

/// Reads the next record, checking both CRCs; `Ok(None)` at a clean end of input.
pub fn read_record(input: &mut impl Read) -> Result<Option<Vec<u8>>, RecordError> {
    let mut header = [0u8; 12];
    let got = read_full(input, &mut header)?;
    if got == 0 {
        return Ok(None);
    }
    if got < header.len() {
        return Err(RecordError::Truncated);
    }
    let len_bytes: [u8; 8] = header[..8].try_into().expect("8 bytes");
    let stored = u32::from_le_bytes(header[8..].try_into().expect("4 bytes"));
    let computed = masked_crc(&len_bytes);
    if stored != computed {
        return Err(RecordError::LengthCrc { stored, computed });
    }
    let len = u64::from_le_bytes(len_bytes) as usize;
    let mut data = vec![0u8; len];
    let mut crc = [0u8; 4];
    if read_full(input, &mut data)? < len || read_full(input, &mut crc)? < 4 {
        return Err(RecordError::Truncated);
    }
    let stored = u32::from_le_bytes(crc);
    let computed = masked_crc(&data);
    if stored != computed {
        return Err(RecordError::DataCrc { stored, computed });
    }
    Ok(Some(data))
}

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_its_mask_match_known_values() {
        // CRC-32C check value (RFC 3720 appendix B.4)
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        // masked CRC of the empty string, as TensorFlow's crc32c::Mask(crc32c::Value("", 0))
        assert_eq!(masked_crc(b""), 0xa282_ead8);
    }

    #[test]
    fn records_round_trip_and_corruption_is_caught() {
        let mut buf = Vec::new();
        write_record(&mut buf, b"hello").unwrap();
        write_record(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_record(&mut r).unwrap().unwrap(), b"hello");
        assert_eq!(read_record(&mut r).unwrap().unwrap(), b"");
        assert!(read_record(&mut r).unwrap().is_none());

        let mut bad = buf.clone();
        bad[13] ^= 1; // a data byte of the first record
        assert!(matches!(
            read_record(&mut &bad[..]),
            Err(RecordError::DataCrc { .. })
        ));
        let mut bad = buf.clone();
        bad[0] ^= 1; // the length
        assert!(matches!(
            read_record(&mut &bad[..]),
            Err(RecordError::LengthCrc { .. })
        ));
        assert!(matches!(
            read_record(&mut &buf[..15]),
            Err(RecordError::Truncated)
        ));
    }
}
