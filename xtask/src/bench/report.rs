//! The suite's outputs: the terminal table (a line per row, printed as rows finish) and the
//! JSON file.

use std::time::{SystemTime, UNIX_EPOCH};

use atelier_kernels::gpu;
use atelier_kernels::harness::BenchDevice;
use serde_json::{Value, json};

use super::{Ceilings, Options, Row, Suite};

pub fn table_header() -> String {
    format!(
        "\n{:<30} {:<17} {:<42} {:>10} {:>9} {:>8} {:>6} {:>6} {:>5}\n{}",
        "kernel",
        "variant",
        "shape",
        "ms",
        "GFLOP/s",
        "GB/s",
        "%FMA",
        "%BW",
        "runs",
        "-".repeat(141)
    )
}

pub fn table_line(row: &Row, c: &Ceilings) -> String {
    format!(
        "{:<30} {:<17} {:<42} {:>10.4} {:>9.1} {:>8.1} {:>6.1} {:>6.1} {:>5}",
        row.kernel,
        row.variant,
        row.shape,
        row.median_s() * 1e3,
        row.gflops(),
        row.gbs(),
        100.0 * row.gflops() / c.fma_gflops,
        100.0 * row.gbs() / c.bandwidth_gbs,
        row.times.len()
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (Howard Hinnant's days-to-civil algorithm).
fn utc_timestamp(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The CPU's model name (from /proc/cpuinfo where there is one).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The fast CPU device in words: the CPU, the pool's threads, the FMA kernel the ceiling used.
pub fn cpu_device_name() -> String {
    format!(
        "fast CPU device: {}, {} threads ({} cores), {} FMA",
        cpu_model(),
        atelier_kernels::cpu::threads(),
        atelier_kernels::cpu::threads::cores(),
        atelier_kernels::cpu::peak::fma_kind()
    )
}

/// The JSON's `device` block: the adapter, or the CPU.
fn device_json(device: BenchDevice) -> Value {
    match device {
        BenchDevice::Gpu => {
            let g = gpu();
            json!({
                "name": g.info.name,
                "backend": format!("{:?}", g.info.backend),
                "device_type": format!("{:?}", g.info.device_type),
                "driver": g.info.driver,
                "driver_info": g.info.driver_info,
                "features": g.feature_names(),
                "cooperative_matrices": g.cooperative_matrix_names(),
            })
        }
        BenchDevice::Cpu => json!({
            "name": cpu_device_name(),
            "backend": "cpu",
            "device_type": "Cpu",
            "driver": "atelier fast CPU (gemm crate sgemm, rayon)",
            "driver_info": format!("{} threads", atelier_kernels::cpu::threads()),
            "threads": atelier_kernels::cpu::threads(),
            "features": [],
        }),
    }
}

pub fn write_json(opts: &Options, suite: &Suite, elapsed_s: f64) -> anyhow::Result<()> {
    let c = suite.ceilings.expect("ceilings measured first");
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let rows: Vec<_> = suite
        .rows
        .iter()
        .map(|r| {
            let ms = |s: f64| s * 1e3;
            json!({
                "family": r.family,
                "kernel": r.kernel,
                "variant": r.variant,
                "shape": r.shape,
                "ms": ms(r.median_s()),
                "min_ms": ms(r.times[0]),
                "max_ms": ms(*r.times.last().unwrap()),
                "runs": r.times.len(),
                "buffer_copies": r.copies,
                "clock": r.clock.name(),
                "flops": r.work.flops,
                "bytes": r.work.bytes,
                "gflops": r.gflops(),
                "gbs": r.gbs(),
                "pct_fma_peak": 100.0 * r.gflops() / c.fma_gflops,
                "pct_bandwidth": 100.0 * r.gbs() / c.bandwidth_gbs,
                "torch": r.torch,
            })
        })
        .collect();
    let doc = json!({
        "suite": "atelier xtask bench",
        "date": utc_timestamp(now),
        "quick": opts.quick,
        "filter": opts.filter,
        "elapsed_s": elapsed_s,
        "clock": suite.clock.name(),
        "bench_device": suite.device.name(),
        "device": device_json(suite.device),
        "ceilings": {
            "fma_gflops": c.fma_gflops,
            "bandwidth_gbs": c.bandwidth_gbs,
        },
        "rows": rows,
    });
    if let Some(dir) = opts.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&opts.json, serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::utc_timestamp(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
