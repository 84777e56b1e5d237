//! The roofline picture (drawn by atelier-plot's [`Roofline`]): log-log axes, the two
//! measured ceilings (the copy bandwidth's slope and the FMA peak's flat roof) and a dot per
//! row, coloured by family; a filled dot is the fast variant (or the only one), a ring the
//! readable baseline (direct, naive, serial). Rows with no FLOPs (fill, copy) have no place
//! on it.

use std::path::Path;

use atelier_plot::{Roofline, RooflinePoint};

use super::{Ceilings, Suite};

/// Colours for the families, given in the order the rows first show them (so a new family
/// in the registry gets one without a change here).
const PALETTE: [[u8; 3]; 10] = [
    [120, 120, 120],
    [190, 160, 0],
    [0, 150, 70],
    [0, 160, 200],
    [230, 120, 0],
    [150, 60, 180],
    [200, 30, 30],
    [90, 60, 20],
    [240, 90, 160],
    [30, 80, 200],
];

/// Variants drawn as rings: the readable baselines.
const BASELINES: [&str; 3] = ["direct", "naive", "serial"];

/// Each family of the suite's rows with its colour, in the order the rows show them.
fn family_colors(suite: &Suite) -> Vec<(String, [u8; 3])> {
    let mut families: Vec<&str> = Vec::new();
    for r in &suite.rows {
        if !families.contains(&r.family) {
            families.push(r.family);
        }
    }
    families
        .into_iter()
        .enumerate()
        .map(|(i, f)| (f.to_string(), PALETTE[i % PALETTE.len()]))
        .collect()
}

pub fn draw(suite: &Suite, path: &Path) -> anyhow::Result<()> {
    let c: Ceilings = suite.ceilings.expect("ceilings measured first");
    let points = suite
        .rows
        .iter()
        .filter(|r| r.work.flops > 0.0 && r.work.bytes > 0.0 && r.gflops() > 0.0)
        .map(|r| RooflinePoint {
            intensity: r.work.intensity(),
            gflops: r.gflops(),
            group: r.family.to_string(),
            hollow: BASELINES.contains(&r.variant.as_str()),
        })
        .collect();
    let device = match suite.device {
        atelier_kernels::harness::BenchDevice::Gpu => atelier_kernels::gpu().info.name.clone(),
        atelier_kernels::harness::BenchDevice::Cpu => super::report::cpu_device_name(),
    };
    let roofline = Roofline {
        title: format!("atelier roofline: {device} ({})", suite.clock.name()),
        bandwidth_gbs: c.bandwidth_gbs,
        peak_gflops: c.fma_gflops,
        groups: family_colors(suite),
        points,
        filled_means: "fast variant".into(),
        hollow_means: "baseline (direct, naive, serial)".into(),
        size: (1200, 780),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    roofline.save_png(path)?;
    Ok(())
}
