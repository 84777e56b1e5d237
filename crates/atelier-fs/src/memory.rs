//! Host memory: how much is available, to refuse up front what cannot fit (an allocation that
//! fails aborts the process, and one that overcommits gets it killed later).

use crate::error::{FsError, Result};

/// Bytes of memory available to new allocations without swapping (Linux's MemAvailable), or
/// `None` where the platform does not say.
pub fn host_memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// An error naming `what`, the bytes it needs and the bytes available, when `need` exceeds the
/// available host memory (never where that is unknown).
pub fn check_host_memory(what: &str, need: u64) -> Result<()> {
    match host_memory_available() {
        Some(available) if need > available => Err(FsError::HostMemory {
            what: what.to_string(),
            need,
            available,
        }),
        _ => Ok(()),
    }
}

/// An error naming `what`, the bytes it needs and the device's memory (`available`, the
/// figure from `figure`), when `need` exceeds it.
pub fn check_device_memory(
    what: &str,
    need: u64,
    device: &str,
    available: u64,
    figure: &'static str,
) -> Result<()> {
    if need > available {
        return Err(FsError::DeviceMemory {
            what: what.to_string(),
            need,
            device: device.to_string(),
            available,
            figure,
        });
    }
    Ok(())
}

/// `1536` → "1.5 KiB"; binary units, one decimal.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_person_writes_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(128 << 20), "128.0 MiB");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_impossible_request_is_refused_with_both_figures() {
        assert!(host_memory_available().is_some_and(|b| b > 0));
        let err = check_host_memory("a test", u64::MAX / 2)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a test needs") && err.contains("available"),
            "{err}"
        );
        check_host_memory("a small test", 1024).unwrap();
    }

    #[test]
    fn a_run_past_the_device_memory_is_refused_naming_both_figures() {
        let err = check_device_memory("a step", 3 << 30, "a GPU", 2 << 30, "its heap")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "a step needs about 3.0 GiB of GPU memory, but a GPU has 2.0 GiB (its heap)"
        );
        check_device_memory("a step", 1 << 30, "a GPU", 2 << 30, "its heap").unwrap();
    }
}
