//! The roofline picture: log-log axes (arithmetic intensity in FLOP/byte across, GFLOP/s up),
//! the two measured ceilings (the copy bandwidth's slope and the FMA peak's flat roof) and a
//! dot per row, coloured by family; a filled dot is the fast variant (or the only one), a
//! ring the readable baseline (direct, naive, serial). Rows with no FLOPs (fill, copy) have no
//! place on it.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::font;
use super::{Ceilings, Suite};

const W: u32 = 1200;
const H: u32 = 780;
const LEFT: f64 = 100.0;
const RIGHT: f64 = 900.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 700.0;

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);
const ROOF: Rgb<u8> = Rgb([200, 30, 30]);
const SLOPE: Rgb<u8> = Rgb([30, 80, 200]);

/// Colours for the families, given in the order the rows first show them.
const PALETTE: [Rgb<u8>; 10] = [
    Rgb([120, 120, 120]),
    Rgb([190, 160, 0]),
    Rgb([0, 150, 70]),
    Rgb([0, 160, 200]),
    Rgb([230, 120, 0]),
    Rgb([150, 60, 180]),
    Rgb([200, 30, 30]),
    Rgb([90, 60, 20]),
    Rgb([240, 90, 160]),
    Rgb([30, 80, 200]),
];

/// Variants drawn as rings: the readable baselines.
const BASELINES: [&str; 3] = ["direct", "naive", "serial"];

/// Log-log mapping from data to pixels.
struct Axes {
    x_decades: (i32, i32),
    y_decades: (i32, i32),
}

impl Axes {
    fn px(&self, x: f64) -> f64 {
        let (a, b) = self.x_decades;
        LEFT + (x.log10() - a as f64) / (b - a) as f64 * (RIGHT - LEFT)
    }

    /// The intensity at pixel column `px`.
    fn intensity_at(&self, px: f64) -> f64 {
        let (a, b) = self.x_decades;
        10f64.powf(a as f64 + (px - LEFT) / (RIGHT - LEFT) * (b - a) as f64)
    }

    fn py(&self, y: f64) -> f64 {
        let (a, b) = self.y_decades;
        BOTTOM - (y.log10() - a as f64) / (b - a) as f64 * (BOTTOM - TOP)
    }
}

/// The decades that cover `values` (at least one).
fn decades(values: impl Iterator<Item = f64>) -> (i32, i32) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let a = lo.log10().floor() as i32;
    let b = (hi.log10().ceil() as i32).max(a + 1);
    (a, b)
}

fn decade_label(k: i32) -> String {
    if (-3..=4).contains(&k) {
        let v = 10f64.powi(k);
        if k < 0 {
            format!("{v:.*}", (-k) as usize)
        } else {
            format!("{v:.0}")
        }
    } else {
        format!("1E{k}")
    }
}

fn plot(img: &mut RgbImage, x: f64, y: f64, color: Rgb<u8>) {
    if x >= 0.0 && y >= 0.0 && x < W as f64 && y < H as f64 {
        img.put_pixel(x as u32, y as u32, color);
    }
}

fn line(
    img: &mut RgbImage,
    (x0, y0): (f64, f64),
    (x1, y1): (f64, f64),
    width: f64,
    color: Rgb<u8>,
) {
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        disc(img, x, y, width / 2.0, color);
    }
}

fn disc(img: &mut RgbImage, cx: f64, cy: f64, r: f64, color: Rgb<u8>) {
    let ri = r.ceil() as i64;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            if ((dx * dx + dy * dy) as f64) <= r * r + 0.25 {
                plot(img, cx + dx as f64, cy + dy as f64, color);
            }
        }
    }
}

fn ring(img: &mut RgbImage, cx: f64, cy: f64, r: f64, color: Rgb<u8>) {
    let ri = r.ceil() as i64 + 1;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            let d = ((dx * dx + dy * dy) as f64).sqrt();
            if (d - r).abs() <= 0.8 {
                plot(img, cx + dx as f64, cy + dy as f64, color);
            }
        }
    }
}

/// Each family of the suite's rows with its colour, in the order the rows show them.
fn family_colors(suite: &Suite) -> Vec<(&'static str, Rgb<u8>)> {
    let mut families: Vec<&'static str> = Vec::new();
    for r in &suite.rows {
        if !families.contains(&r.family) {
            families.push(r.family);
        }
    }
    families
        .into_iter()
        .enumerate()
        .map(|(i, f)| (f, PALETTE[i % PALETTE.len()]))
        .collect()
}

pub fn draw(suite: &Suite, path: &Path) -> anyhow::Result<()> {
    let c: Ceilings = suite.ceilings.expect("ceilings measured first");
    let points: Vec<_> = suite
        .rows
        .iter()
        .filter(|r| r.work.flops > 0.0 && r.work.bytes > 0.0 && r.gflops() > 0.0)
        .collect();
    let ridge = c.fma_gflops / c.bandwidth_gbs;
    let axes = Axes {
        x_decades: decades(
            points
                .iter()
                .map(|r| r.work.intensity())
                .chain([ridge / 4.0, ridge * 4.0]),
        ),
        y_decades: decades(
            points
                .iter()
                .map(|r| r.gflops())
                .chain([c.fma_gflops * 1.5, c.bandwidth_gbs * ridge / 100.0]),
        ),
    };

    let mut img = RgbImage::from_pixel(W, H, WHITE);
    // grid and tick labels at every decade
    for k in axes.x_decades.0..=axes.x_decades.1 {
        let x = axes.px(10f64.powi(k));
        line(&mut img, (x, TOP), (x, BOTTOM), 1.0, GRID);
        let label = decade_label(k);
        let lx = x as i64 - font::width(&label) as i64 / 2;
        font::draw(&mut img, lx, BOTTOM as i64 + 8, &label, BLACK);
    }
    for k in axes.y_decades.0..=axes.y_decades.1 {
        let y = axes.py(10f64.powi(k));
        line(&mut img, (LEFT, y), (RIGHT, y), 1.0, GRID);
        let label = decade_label(k);
        let lx = LEFT as i64 - 8 - font::width(&label) as i64;
        font::draw(
            &mut img,
            lx,
            y as i64 - font::HEIGHT as i64 / 2,
            &label,
            BLACK,
        );
    }
    line(&mut img, (LEFT, BOTTOM), (RIGHT, BOTTOM), 2.0, BLACK);
    line(&mut img, (LEFT, TOP), (LEFT, BOTTOM), 2.0, BLACK);
    let x_title = "ARITHMETIC INTENSITY (FLOP/BYTE)";
    let tx = ((LEFT + RIGHT) / 2.0) as i64 - font::width(x_title) as i64 / 2;
    font::draw(&mut img, tx, BOTTOM as i64 + 36, x_title, BLACK);
    font::draw(&mut img, 10, TOP as i64 - 28, "GFLOP/S", BLACK);
    let g = atelier_kernels::gpu();
    let title = format!("ATELIER ROOFLINE: {} ({})", g.info.name, suite.clock.name());
    font::draw(&mut img, LEFT as i64 + 100, 12, &title, BLACK);

    // the ceilings: bandwidth * intensity up to the ridge, then the FMA peak
    let (x_lo, x_hi) = (10f64.powi(axes.x_decades.0), 10f64.powi(axes.x_decades.1));
    let roof_y = axes.py(c.fma_gflops);
    let slope_start = (axes.px(x_lo), axes.py(c.bandwidth_gbs * x_lo));
    line(&mut img, slope_start, (axes.px(ridge), roof_y), 3.0, SLOPE);
    line(
        &mut img,
        (axes.px(ridge), roof_y),
        (axes.px(x_hi), roof_y),
        3.0,
        ROOF,
    );
    let peak_label = format!("FMA PEAK {:.0} GFLOP/S", c.fma_gflops);
    let px = (axes.px(x_hi) as i64 - font::width(&peak_label) as i64 - 6).max(LEFT as i64);
    font::draw(&mut img, px, roof_y as i64 - 22, &peak_label, ROOF);
    let bw_label = format!("COPY {:.1} GB/S", c.bandwidth_gbs);
    // above the slope (where no row can be), near the left edge
    let bx = LEFT + 20.0;
    let end = axes.intensity_at(bx + font::width(&bw_label) as f64);
    let by = axes.py(c.bandwidth_gbs * end) - font::HEIGHT as f64 - 8.0;
    font::draw(&mut img, bx as i64, by.max(TOP) as i64, &bw_label, SLOPE);

    let colors = family_colors(suite);
    let family_color = |family: &str| {
        colors
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(BLACK, |(_, c)| *c)
    };
    for r in &points {
        let (x, y) = (axes.px(r.work.intensity()), axes.py(r.gflops()));
        let color = family_color(r.family);
        if BASELINES.contains(&r.variant.as_str()) {
            ring(&mut img, x, y, 5.0, color);
        } else {
            disc(&mut img, x, y, 4.5, color);
        }
    }

    // legend
    let lx = RIGHT as i64 + 30;
    let mut ly = TOP as i64;
    for &(family, color) in &colors {
        if points.iter().any(|r| r.family == family) {
            disc(&mut img, lx as f64 + 6.0, ly as f64 + 7.0, 5.0, color);
            font::draw(&mut img, lx + 20, ly, family, BLACK);
            ly += 26;
        }
    }
    ly += 14;
    disc(&mut img, lx as f64 + 6.0, ly as f64 + 7.0, 4.5, BLACK);
    font::draw(&mut img, lx + 20, ly, "FAST VARIANT", BLACK);
    ly += 26;
    ring(&mut img, lx as f64 + 6.0, ly as f64 + 7.0, 5.0, BLACK);
    font::draw(&mut img, lx + 20, ly, "BASELINE", BLACK);
    font::draw(&mut img, lx + 20, ly + 20, "(DIRECT, NAIVE,", BLACK);
    font::draw(&mut img, lx + 20, ly + 40, "SERIAL)", BLACK);

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    img.save(path)?;
    Ok(())
}
