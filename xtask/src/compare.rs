//! `cargo xtask compare`: joins atelier's benchmark JSON (`cargo xtask bench --json`) with
//! PyTorch's times at the same shapes (`scripts/torch_bench.py --atelier ... --out ...`) into
//! BENCHMARKS.md: the device, driver and date of both runs, then for each kernel and shape
//! atelier's fastest variant, its time, PyTorch's time and their ratio, the whole DCGAN step
//! in images/s on both sides, and where the targets stand.
//!
//! Rows are joined on (kernel, shape), and for elementwise rows on the variant too (relu and
//! tanh are different work). Only numbers from one run on each side are used: nothing is
//! averaged across files.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;

/// One atelier row as the JSON holds it.
#[derive(Clone, Debug)]
struct AtelierRow {
    family: String,
    kernel: String,
    variant: String,
    shape: String,
    ms: f64,
    flops: f64,
}

/// The key rows are joined on.
fn join_key(kernel: &str, variant: &str, shape: &str) -> (String, String, String) {
    let variant = if kernel.starts_with("elementwise") {
        variant
    } else {
        ""
    };
    (kernel.to_string(), variant.to_string(), shape.to_string())
}

fn field<'a>(v: &'a Value, key: &str, what: &str) -> anyhow::Result<&'a Value> {
    v.get(key)
        .with_context(|| format!("{what}: no \"{key}\" field"))
}

fn str_field(v: &Value, key: &str, what: &str) -> anyhow::Result<String> {
    field(v, key, what)?
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{what}: \"{key}\" is not a string"))
}

fn num_field(v: &Value, key: &str, what: &str) -> anyhow::Result<f64> {
    field(v, key, what)?
        .as_f64()
        .with_context(|| format!("{what}: \"{key}\" is not a number"))
}

fn atelier_rows(doc: &Value) -> anyhow::Result<Vec<AtelierRow>> {
    let rows = field(doc, "rows", "atelier JSON")?
        .as_array()
        .context("atelier JSON: \"rows\" is not a list")?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let what = format!("atelier JSON row {i}");
            Ok(AtelierRow {
                family: str_field(r, "family", &what)?,
                kernel: str_field(r, "kernel", &what)?,
                variant: str_field(r, "variant", &what)?,
                shape: str_field(r, "shape", &what)?,
                ms: num_field(r, "ms", &what)?,
                flops: num_field(r, "flops", &what)?,
            })
        })
        .collect()
}

type Key = (String, String, String);

fn torch_times(doc: &Value) -> anyhow::Result<HashMap<Key, (f64, String)>> {
    let rows = field(doc, "rows", "PyTorch JSON")?
        .as_array()
        .context("PyTorch JSON: \"rows\" is not a list")?;
    let mut out = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let what = format!("PyTorch JSON row {i}");
        let kernel = str_field(r, "kernel", &what)?;
        let variant = r.get("variant").and_then(Value::as_str).unwrap_or("");
        let shape = str_field(r, "shape", &what)?;
        out.insert(
            join_key(&kernel, variant, &shape),
            (num_field(r, "ms", &what)?, str_field(r, "torch_op", &what)?),
        );
    }
    Ok(out)
}

/// A joined row: atelier's fastest variant beside PyTorch.
struct Joined {
    family: String,
    kernel: String,
    shape: String,
    best: AtelierRow,
    others: Vec<(String, f64)>,
    torch: Option<(f64, String)>,
}

impl Joined {
    fn ratio(&self) -> Option<f64> {
        self.torch.as_ref().map(|(ms, _)| self.best.ms / ms)
    }
}

/// Groups atelier's rows by join key (first appearance order), the fastest variant first.
fn join(atelier: &[AtelierRow], torch: &HashMap<Key, (f64, String)>) -> Vec<Joined> {
    let mut order: Vec<Key> = Vec::new();
    let mut groups: HashMap<Key, Vec<AtelierRow>> = HashMap::new();
    for r in atelier.iter().filter(|r| !r.kernel.starts_with("peak.")) {
        let key = join_key(&r.kernel, &r.variant, &r.shape);
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r.clone());
    }
    order
        .into_iter()
        .map(|key| {
            let mut rows = groups.remove(&key).unwrap();
            rows.sort_by(|a, b| a.ms.total_cmp(&b.ms));
            let best = rows[0].clone();
            Joined {
                family: best.family.clone(),
                kernel: best.kernel.clone(),
                shape: best.shape.clone(),
                others: rows[1..]
                    .iter()
                    .map(|r| (r.variant.clone(), r.ms))
                    .collect(),
                torch: torch.get(&key).cloned(),
                best,
            }
        })
        .collect()
}

/// The batch of a `dcgan.step` shape label (`64x64 ngf64 ndf64 N128`).
fn step_batch(shape: &str) -> Option<f64> {
    shape.rsplit_once(" N").and_then(|(_, n)| n.parse().ok())
}

fn gflops(flops: f64, ms: f64) -> f64 {
    flops / (ms * 1e-3) / 1e9
}

fn device_lines(atelier: &Value, torch: &Value) -> String {
    let s = |v: &Value, path: &[&str]| -> String {
        let mut cur = v;
        for p in path {
            match cur.get(p) {
                Some(next) => cur = next,
                None => return "?".into(),
            }
        }
        match cur {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            other => other.to_string(),
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "- atelier: {} ({}, {}), driver {} ({}); {}; clock {} (the DCGAN step: wall clock around a synchronised step)",
        s(atelier, &["device", "name"]),
        s(atelier, &["device", "backend"]),
        s(atelier, &["device", "device_type"]),
        s(atelier, &["device", "driver"]),
        s(atelier, &["device", "driver_info"]),
        s(atelier, &["date"]),
        s(atelier, &["clock"]),
    );
    let list = |key: &str| -> String {
        let names: Vec<&str> = atelier["device"][key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    };
    let _ = writeln!(
        out,
        "- features: {}; cooperative matrices: {}",
        list("features"),
        list("cooperative_matrices")
    );
    let _ = writeln!(
        out,
        "- measured ceilings: FMA {:.1} GFLOP/s, copy bandwidth {:.1} GB/s",
        atelier["ceilings"]["fma_gflops"]
            .as_f64()
            .unwrap_or(f64::NAN),
        atelier["ceilings"]["bandwidth_gbs"]
            .as_f64()
            .unwrap_or(f64::NAN),
    );
    let tf32 = torch["tf32"].as_bool().unwrap_or(false);
    let _ = writeln!(
        out,
        "- PyTorch {} on {}, CUDA {}, cuDNN {}; {}; timer {}; {}",
        s(torch, &["torch"]),
        s(torch, &["device"]),
        s(torch, &["cuda"]),
        s(torch, &["cudnn"]),
        s(torch, &["date"]),
        s(torch, &["timer"]),
        if tf32 {
            "TF32 allowed"
        } else {
            "strict fp32 (TF32 off)"
        },
    );
    out
}

/// BENCHMARKS.md's text from the two JSON documents.
pub fn markdown(atelier: &Value, torch: &Value) -> anyhow::Result<String> {
    let rows = atelier_rows(atelier)?;
    let times = torch_times(torch)?;
    let joined = join(&rows, &times);
    if joined.is_empty() {
        bail!("the atelier JSON has no kernel rows");
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks: atelier beside PyTorch\n");
    let _ = writeln!(
        md,
        "Written by `cargo xtask compare` from one `cargo xtask bench` run and one \
         `scripts/torch_bench.py` run on the same machine.\n"
    );
    md += &device_lines(atelier, torch);
    let _ = writeln!(
        md,
        "\nTimes are medians, in ms. atelier's column is its fastest variant at that shape \
         (the others follow it); `÷` is atelier's time over PyTorch's (below 1: atelier is \
         faster); `%` is atelier's throughput as a percentage of PyTorch's. GFLOP/s use \
         atelier's FLOP count for both sides (`atelier_benches::work`).\n"
    );

    // the whole step first: it is what a user waits for
    let steps: Vec<&Joined> = joined.iter().filter(|j| j.kernel == "dcgan.step").collect();
    if !steps.is_empty() {
        let _ = writeln!(md, "## The whole DCGAN training step\n");
        let _ = writeln!(
            md,
            "| network and batch | atelier variant | atelier ms | atelier images/s | PyTorch ms | PyTorch images/s | ÷ | other variants (ms) |"
        );
        let _ = writeln!(md, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        for j in &steps {
            let batch = step_batch(&j.shape).unwrap_or(f64::NAN);
            let (t_ms, t_ips, ratio) = match &j.torch {
                Some((ms, _)) => (
                    format!("{ms:.2}"),
                    format!("{:.0}", batch / (ms * 1e-3)),
                    format!("{:.2}", j.best.ms / ms),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let others = j
                .others
                .iter()
                .map(|(v, ms)| format!("{v} {ms:.2}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} | {:.0} | {t_ms} | {t_ips} | {ratio} | {others} |",
                j.shape,
                j.best.variant,
                j.best.ms,
                batch / (j.best.ms * 1e-3)
            );
        }
        md += "\n";
    }

    let mut families: Vec<&str> = Vec::new();
    for j in &joined {
        if j.kernel != "dcgan.step" && !families.contains(&j.family.as_str()) {
            families.push(&j.family);
        }
    }
    for family in families {
        let _ = writeln!(md, "## {family}\n");
        let _ = writeln!(
            md,
            "| kernel | shape | atelier variant | atelier ms | PyTorch ms | ÷ | % | atelier GFLOP/s | PyTorch GFLOP/s | PyTorch op | other variants (ms) |"
        );
        let _ = writeln!(
            md,
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
        );
        for j in joined.iter().filter(|j| j.family == family) {
            let others = j
                .others
                .iter()
                .map(|(v, ms)| format!("{v} {ms:.3}"))
                .collect::<Vec<_>>()
                .join(", ");
            let (t_ms, ratio, pct, t_gf, op) = match &j.torch {
                Some((ms, op)) => (
                    format!("{ms:.4}"),
                    format!("{:.2}", j.best.ms / ms),
                    format!("{:.0}", 100.0 * ms / j.best.ms),
                    format!("{:.1}", gflops(j.best.flops, *ms)),
                    op.clone(),
                ),
                None => ("-".into(), "-".into(), "-".into(), "-".into(), "-".into()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.4} | {t_ms} | {ratio} | {pct} | {:.1} | {t_gf} | {op} | {others} |",
                j.kernel,
                j.shape,
                j.best.variant,
                j.best.ms,
                gflops(j.best.flops, j.best.ms),
            );
        }
        md += "\n";
    }

    let on_cpu = atelier.get("bench_device").and_then(Value::as_str) == Some("cpu");
    md += &if on_cpu {
        cpu_targets(&joined)
    } else {
        targets(&joined)
    };
    let unmatched: Vec<String> = joined
        .iter()
        .filter(|j| j.torch.is_none())
        .map(|j| format!("{} {}", j.kernel, j.shape))
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(md, "\nNo PyTorch time for: {}.", unmatched.join("; "));
    }
    Ok(md)
}

/// Where the two targets stand: conv2d forward at the DCGAN layers at least half of
/// PyTorch's throughput, the batch-128 step at most twice PyTorch's time.
fn targets(joined: &[Joined]) -> String {
    let mut md = String::from("## Targets\n\n");
    let convs: Vec<(&Joined, f64)> = joined
        .iter()
        .filter(|j| j.kernel == "conv2d.forward" && j.shape.starts_with('D'))
        .filter_map(|j| j.ratio().map(|r| (j, r)))
        .collect();
    if convs.is_empty() {
        md += "- conv2d forward at the DCGAN layers: no pair of times.\n";
    } else {
        let below: Vec<String> = convs
            .iter()
            .filter(|(_, r)| *r > 2.0)
            .map(|(j, r)| format!("{} ({:.0} %)", j.shape, 100.0 / r))
            .collect();
        let worst = convs.iter().map(|(_, r)| *r).fold(0.0, f64::max);
        let _ = writeln!(
            md,
            "- conv2d forward at the DCGAN layers, at least half of PyTorch's throughput: {} \
             ({} shapes; the lowest at {:.0} % of PyTorch's){}",
            if below.is_empty() { "met" } else { "not met" },
            convs.len(),
            100.0 / worst,
            if below.is_empty() {
                String::new()
            } else {
                format!("; short at {}", below.join(", "))
            }
        );
    }
    match joined
        .iter()
        .find(|j| j.kernel == "dcgan.step" && step_batch(&j.shape) == Some(128.0))
        .and_then(|j| j.ratio().map(|r| (j, r)))
    {
        Some((j, r)) => {
            let _ = writeln!(
                md,
                "- the batch-128 DCGAN step ({}) at most twice PyTorch's time: {} ({:.2}×)",
                j.shape,
                if r <= 2.0 { "met" } else { "not met" },
                r
            );
        }
        None => md += "- the batch-128 DCGAN step: no pair of times.\n",
    }
    md
}

/// Where the fast CPU device's targets stand (`cargo xtask bench --device cpu` beside PyTorch
/// on the CPU with the same threads): the README demo's DCGAN step, pytorch/examples' at 64×64
/// and batch 8, and a Gatys step at 256 px, each at most twice PyTorch's time.
fn cpu_targets(joined: &[Joined]) -> String {
    let mut md = String::from("## Targets (the fast CPU device)\n\n");
    let cases = [
        (
            "dcgan.step",
            "32x32 ngf16 ndf16 N8",
            "the README demo's DCGAN step",
        ),
        (
            "dcgan.step",
            "64x64 ngf64 ndf64 N8",
            "pytorch/examples' DCGAN step",
        ),
        (
            "style.gatys_step",
            "256x256 N1 vgg19 to relu5_1",
            "a Gatys step at 256 px",
        ),
    ];
    for (kernel, shape, what) in cases {
        match joined
            .iter()
            .find(|j| j.kernel == kernel && j.shape == shape)
            .and_then(|j| j.ratio())
        {
            Some(r) => {
                let _ = writeln!(
                    md,
                    "- {what} ({shape}) at most twice PyTorch's time: {} ({r:.2}×)",
                    if r <= 2.0 { "met" } else { "not met" }
                );
            }
            None => {
                let _ = writeln!(md, "- {what} ({shape}): no pair of times.");
            }
        }
    }
    md
}

fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{what} {} is not JSON", path.display()))
}

pub fn run(atelier: &Path, torch: &Path, out: &Path) -> anyhow::Result<()> {
    let md = markdown(
        &read_json(atelier, "atelier bench JSON")?,
        &read_json(torch, "PyTorch JSON")?,
    )?;
    // a temporary file and a rename, so an interrupted run leaves the old file whole
    let tmp = out.with_extension("md.tmp");
    std::fs::write(&tmp, &md).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("renaming to {}", out.display()))?;
    println!("{}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn atelier() -> Value {
        let row = |family: &str, kernel: &str, variant: &str, shape: &str, ms: f64, flops: f64| {
            json!({"family": family, "kernel": kernel, "variant": variant, "shape": shape,
                   "ms": ms, "flops": flops})
        };
        json!({
            "date": "2026-11-24T00:00:00Z", "clock": "gpu-timestamps",
            "device": {"name": "Test GPU", "backend": "Vulkan", "device_type": "DiscreteGpu",
                       "driver": "d", "driver_info": "1.0"},
            "ceilings": {"fma_gflops": 1000.0, "bandwidth_gbs": 100.0},
            "rows": [
                row("peak", "peak.fma", "vec4x8", "x", 1.0, 1e9),
                row("conv2d", "conv2d.forward", "direct", "D1 N128 3x64x64>64x32x32 4x4/s2/p1", 4.0, 8e9),
                row("conv2d", "conv2d.forward", "implicit_gemm", "D1 N128 3x64x64>64x32x32 4x4/s2/p1", 2.0, 8e9),
                row("conv2d", "conv2d.forward", "implicit_gemm", "D2 N128 64x32x32>128x16x16 4x4/s2/p1", 3.0, 6e9),
                row("elementwise", "elementwise.unary", "relu", "1048576", 0.5, 1e6),
                row("elementwise", "elementwise.unary", "tanh", "1048576", 0.7, 1e6),
                row("dcgan", "dcgan.step", "conv=auto", "64x64 ngf64 ndf64 N128", 28.0, 1e12),
                row("dcgan", "dcgan.step", "conv=tune", "64x64 ngf64 ndf64 N128", 30.0, 1e12),
            ]
        })
    }

    fn torch() -> Value {
        json!({
            "device": "Test GPU", "torch": "2.11", "cuda": "12", "cudnn": 90000, "tf32": false,
            "timer": "cuda-events", "date": "2026-11-24T00:00:01Z",
            "rows": [
                {"kernel": "conv2d.forward", "shape": "D1 N128 3x64x64>64x32x32 4x4/s2/p1", "ms": 1.0, "torch_op": "F.conv2d"},
                {"kernel": "conv2d.forward", "shape": "D2 N128 64x32x32>128x16x16 4x4/s2/p1", "ms": 2.0, "torch_op": "F.conv2d"},
                {"kernel": "elementwise.unary", "variant": "tanh", "shape": "1048576", "ms": 0.35, "torch_op": "torch.tanh"},
                {"kernel": "dcgan.step", "shape": "64x64 ngf64 ndf64 N128", "ms": 14.0, "torch_op": "step"},
            ]
        })
    }

    #[test]
    fn joins_the_fastest_variant_with_pytorch() {
        let md = markdown(&atelier(), &torch()).unwrap();
        // D1: implicit_gemm (2 ms) beats direct (4 ms); PyTorch 1 ms: ÷ 2.00, 50 %, 4000 vs 8000 GFLOP/s
        assert!(
            md.contains("| conv2d.forward | D1 N128 3x64x64>64x32x32 4x4/s2/p1 | implicit_gemm | 2.0000 | 1.0000 | 2.00 | 50 | 4000.0 | 8000.0 | F.conv2d | direct 4.000 |"),
            "{md}"
        );
        // elementwise rows join on the variant: tanh has a time, relu has none
        assert!(
            md.contains("| elementwise.unary | 1048576 | tanh | 0.7000 | 0.3500 | 2.00 |"),
            "{md}"
        );
        assert!(
            md.contains("No PyTorch time for: elementwise.unary 1048576."),
            "{md}"
        );
        // the step: 128 images in 28 ms = 4571 images/s; PyTorch 9143
        assert!(
            md.contains(
                "| 64x64 ngf64 ndf64 N128 | conv=auto | 28.00 | 4571 | 14.00 | 9143 | 2.00 | conv=tune 30.00 |"
            ),
            "{md}"
        );
        // the peak rows are not kernels to compare
        assert!(!md.contains("peak.fma |"), "{md}");
        assert!(md.contains("strict fp32 (TF32 off)"), "{md}");
    }

    #[test]
    fn targets_say_met_or_not() {
        let md = markdown(&atelier(), &torch()).unwrap();
        // D1 at exactly half (÷ 2.00) meets it, D2 at 67 % too; the step at 2.00× meets it
        assert!(
            md.contains("at least half of PyTorch's throughput: met (2 shapes; the lowest at 50 % of PyTorch's)"),
            "{md}"
        );
        assert!(
            md.contains("at most twice PyTorch's time: met (2.00×)"),
            "{md}"
        );
        let mut slow = atelier();
        slow["rows"][6]["ms"] = json!(35.0);
        slow["rows"][7]["ms"] = json!(36.0);
        slow["rows"][3]["ms"] = json!(5.0);
        let md = markdown(&slow, &torch()).unwrap();
        assert!(md.contains("not met (2.50×)"), "{md}");
        assert!(
            md.contains("short at D2 N128 64x32x32>128x16x16 4x4/s2/p1 (40 %)"),
            "{md}"
        );
    }

    #[test]
    fn a_cpu_run_reports_the_fast_cpu_targets() {
        let row = |kernel: &str, shape: &str, ms: f64| {
            json!({"family": "x", "kernel": kernel, "variant": "cpu", "shape": shape,
                   "ms": ms, "flops": 1e9})
        };
        let mut atelier = atelier();
        atelier["bench_device"] = json!("cpu");
        atelier["rows"] = json!([
            row("dcgan.step", "32x32 ngf16 ndf16 N8", 30.0),
            row("dcgan.step", "64x64 ngf64 ndf64 N8", 900.0),
            row("style.gatys_step", "256x256 N1 vgg19 to relu5_1", 2000.0),
        ]);
        let mut torch = torch();
        torch["rows"] = json!([
            {"kernel": "dcgan.step", "shape": "32x32 ngf16 ndf16 N8", "ms": 24.0, "torch_op": "s"},
            {"kernel": "dcgan.step", "shape": "64x64 ngf64 ndf64 N8", "ms": 300.0, "torch_op": "s"},
        ]);
        let md = markdown(&atelier, &torch).unwrap();
        assert!(md.contains("## Targets (the fast CPU device)"), "{md}");
        assert!(
            md.contains("the README demo's DCGAN step (32x32 ngf16 ndf16 N8) at most twice PyTorch's time: met (1.25×)"),
            "{md}"
        );
        assert!(
            md.contains("pytorch/examples' DCGAN step (64x64 ngf64 ndf64 N8) at most twice PyTorch's time: not met (3.00×)"),
            "{md}"
        );
        assert!(
            md.contains("a Gatys step at 256 px (256x256 N1 vgg19 to relu5_1): no pair of times."),
            "{md}"
        );
        // the GPU targets are not reported for a CPU run
        assert!(!md.contains("batch-128"), "{md}");
    }

    #[test]
    fn a_malformed_file_names_what_is_wrong() {
        let mut bad = atelier();
        bad["rows"][1].as_object_mut().unwrap().remove("ms");
        let err = markdown(&bad, &torch()).unwrap_err().to_string();
        assert_eq!(err, "atelier JSON row 1: no \"ms\" field");
        let err = markdown(&atelier(), &json!({"rows": 3}))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "PyTorch JSON: \"rows\" is not a list");
    }
}
