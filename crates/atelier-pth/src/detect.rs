//! Which format a file is, from its first bytes (never from its name: pytorch/examples'
//! models end in .pth or .model, torchvision's in .pth, safetensors files get renamed).

use crate::legacy::MAGIC;
use crate::state_dict::Format;

/// Bytes [`detect`] needs to see (fewer for short files).
pub const HEAD_LEN: usize = 512;

/// The format of a file that begins with `head` and is `len` bytes long, or why it is none
/// atelier reads.
pub fn detect(head: &[u8], len: u64) -> Result<Format, String> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(Format::TorchZip);
    }
    // pickle PROTO opcode, then LONG1 of 10 bytes: torch's magic number
    if head.len() >= 14 && head[0] == 0x80 && head[2..4] == [0x8a, 0x0a] && head[4..14] == MAGIC {
        return Ok(Format::TorchLegacy);
    }
    // safetensors: u64 header length, then a JSON object that fits in the file
    if head.len() >= 9 {
        let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        if head[8] == b'{' && n >= 2 && n <= len - 8 {
            return Ok(Format::Safetensors);
        }
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Err(
            "a tar archive: torch's format before 0.1.10 is not supported; load it with \
                    torch and save model.state_dict() again"
                .into(),
        );
    }
    if head.first() == Some(&0x80) {
        return Err("a Python pickle, but not one torch.save wrote (no torch magic number)".into());
    }
    if head.is_empty() {
        return Err("the file is empty".into());
    }
    Err(format!(
        "neither safetensors nor a torch.save file (first bytes {:02x?})",
        &head[..head.len().min(8)]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_formats_apart_by_content() {
        assert_eq!(detect(b"PK\x03\x04rest", 100), Ok(Format::TorchZip));
        let mut legacy = vec![0x80, 0x02, 0x8a, 0x0a];
        legacy.extend(MAGIC);
        assert_eq!(detect(&legacy, 1000), Ok(Format::TorchLegacy));
        let mut st = 2u64.to_le_bytes().to_vec();
        st.extend(b"{}");
        assert_eq!(detect(&st, 10), Ok(Format::Safetensors));
        // a header length beyond the file is not safetensors
        let mut bad = 100u64.to_le_bytes().to_vec();
        bad.extend(b"{}");
        assert!(detect(&bad, 10).is_err());
        assert!(
            detect(b"\x80\x02}q\x00.", 6)
                .unwrap_err()
                .contains("pickle")
        );
        assert!(detect(b"", 0).unwrap_err().contains("empty"));
    }
}
