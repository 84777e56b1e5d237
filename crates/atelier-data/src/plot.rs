//! [`plot_lines`]: loss curves as a PNG, drawn by hand on an `RgbImage` (axes with labelled
//! ticks, light grid lines, anti-aliased lines in distinct colours, a legend, a title).

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::error::Result;
use crate::font::{self, GLYPH_H};
use crate::png::save_png;

const WIDTH: usize = 800;
const HEIGHT: usize = 480;
/// Plot area margins: left (tick labels), right, top (title), bottom (tick labels, x label).
const MARGIN: [usize; 4] = [72, 24, 44, 52];

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const AXIS: Rgb<u8> = Rgb([40, 40, 40]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);

/// Matplotlib's "tab10" colours, in order.
const COLORS: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// Plots each `(name, values)` against its index (x label "step") and saves a PNG at `path`.
/// Non-finite values are left out (the line breaks there).
pub fn plot_lines(path: impl AsRef<Path>, series: &[(&str, &[f32])], title: &str) -> Result<()> {
    save_png(path, &plot_image(series, title, "step", 1.0))
}

/// The plot as an image; point `i` of every series sits at x = `i * x_step`, so values logged
/// every N steps can be plotted against the step with `x_step = N`.
pub fn plot_image(series: &[(&str, &[f32])], title: &str, x_label: &str, x_step: f32) -> RgbImage {
    let mut image = RgbImage::from_pixel(WIDTH as u32, HEIGHT as u32, WHITE);
    let [left, right, top, bottom] = MARGIN;
    let (x_px0, x_px1) = (left as f32, (WIDTH - right) as f32);
    let (y_px0, y_px1) = ((HEIGHT - bottom) as f32, top as f32);

    let points = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let x_max = (points.saturating_sub(1) as f32 * x_step).max(x_step.max(1e-6));
    let x_axis = Axis::new(0.0, x_max, 8);
    let (lo, hi) = finite_range(series);
    let y_axis = Axis::new(lo, hi, 6);
    let to_px = |x: f32, y: f32| {
        (
            x_px0 + (x - x_axis.lo) / (x_axis.hi - x_axis.lo) * (x_px1 - x_px0),
            y_px0 + (y - y_axis.lo) / (y_axis.hi - y_axis.lo) * (y_px1 - y_px0),
        )
    };

    // Grid lines and tick labels.
    for x in x_axis.ticks() {
        let (px, _) = to_px(x, y_axis.lo);
        vline(
            &mut image,
            px.round() as i64,
            y_px1 as i64,
            y_px0 as i64,
            GRID,
        );
        let label = x_axis.label(x);
        let lx = px as i64 - font::text_width(&label, 1) as i64 / 2;
        font::draw_text(&mut image, lx, y_px0 as i64 + 8, &label, 1, AXIS);
    }
    for y in y_axis.ticks() {
        let (_, py) = to_px(x_axis.lo, y);
        hline(
            &mut image,
            x_px0 as i64,
            x_px1 as i64,
            py.round() as i64,
            GRID,
        );
        let label = y_axis.label(y);
        let lx = x_px0 as i64 - 8 - font::text_width(&label, 1) as i64;
        font::draw_text(
            &mut image,
            lx,
            py as i64 - GLYPH_H as i64 / 2,
            &label,
            1,
            AXIS,
        );
    }
    // The axes: a frame around the plot area.
    hline(&mut image, x_px0 as i64, x_px1 as i64, y_px0 as i64, AXIS);
    hline(&mut image, x_px0 as i64, x_px1 as i64, y_px1 as i64, AXIS);
    vline(&mut image, x_px0 as i64, y_px1 as i64, y_px0 as i64, AXIS);
    vline(&mut image, x_px1 as i64, y_px1 as i64, y_px0 as i64, AXIS);

    // The curves.
    let mut drawn = Vec::new();
    for (k, (_, values)) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let mut last: Option<(f32, f32)> = None;
        for (i, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                last = None;
                continue;
            }
            let p = to_px(i as f32 * x_step, v);
            drawn.push(p);
            match last {
                Some(q) => segment(&mut image, q, p, 1.6, color),
                None => segment(&mut image, p, p, 1.6, color),
            }
            last = Some(p);
        }
    }

    // Title, x label, legend.
    let title_x = WIDTH.saturating_sub(font::text_width(title, 2)) as i64 / 2;
    font::draw_text(&mut image, title_x.max(0), 14, title, 2, AXIS);
    let label_x = (x_px0 + x_px1) as i64 / 2 - font::text_width(x_label, 1) as i64 / 2;
    font::draw_text(&mut image, label_x, HEIGHT as i64 - 20, x_label, 1, AXIS);
    legend(&mut image, series, [x_px0, y_px1, x_px1, y_px0], &drawn);
    image
}

/// A boxed legend (a swatch and the name per series) in the corner of the plot area where
/// it hides the fewest points.
fn legend(image: &mut RgbImage, series: &[(&str, &[f32])], area: [f32; 4], points: &[(f32, f32)]) {
    if series.is_empty() {
        return;
    }
    let line_h = 16;
    let widest = series
        .iter()
        .map(|(n, _)| font::text_width(n, 1))
        .max()
        .unwrap_or(0) as i64;
    let (w, h) = (widest + 44, series.len() as i64 * line_h + 8);
    let [x0, y_top, x1, y_bottom] = area.map(|v| v as i64);
    let corners = [
        (x1 - 10 - w, y_top + 10),
        (x0 + 10, y_top + 10),
        (x1 - 10 - w, y_bottom - 10 - h),
        (x0 + 10, y_bottom - 10 - h),
    ];
    let hidden = |&(left, top): &(i64, i64)| {
        points
            .iter()
            .filter(|(x, y)| {
                (left..=left + w).contains(&(*x as i64)) && (top..=top + h).contains(&(*y as i64))
            })
            .count()
    };
    let (left, top) = corners
        .into_iter()
        .min_by_key(hidden)
        .expect("four corners");
    let right = left + w;
    for y in top..top + h {
        hline(image, left, right, y, WHITE);
    }
    hline(image, left, right, top, AXIS);
    hline(image, left, right, top + h, AXIS);
    vline(image, left, top, top + h, AXIS);
    vline(image, right, top, top + h, AXIS);
    for (k, (name, _)) in series.iter().enumerate() {
        let y = top + 4 + k as i64 * line_h + line_h / 2;
        let color = COLORS[k % COLORS.len()];
        let (a, b) = ((left + 8) as f32, (left + 30) as f32);
        segment(image, (a, y as f32), (b, y as f32), 3.0, color);
        font::draw_text(image, left + 36, y - GLYPH_H as i64 / 2, name, 1, AXIS);
    }
}

/// Smallest and largest finite value over all series, widened when flat or empty.
fn finite_range(series: &[(&str, &[f32])]) -> (f32, f32) {
    let finite = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if hi - lo < 1e-6 * lo.abs().max(1.0) {
        (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0))
    } else {
        (lo, hi)
    }
}

/// An axis from `lo` to `hi` widened to whole multiples of a "nice" step (1, 2 or 5 × 10^k).
struct Axis {
    lo: f32,
    hi: f32,
    step: f32,
}

impl Axis {
    fn new(min: f32, max: f32, ticks: usize) -> Self {
        let raw = (max - min) / ticks as f32;
        let magnitude = 10f32.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude);
        Axis {
            lo: (min / step).floor() * step,
            hi: (max / step).ceil() * step,
            step,
        }
    }

    fn ticks(&self) -> impl Iterator<Item = f32> + '_ {
        let n = ((self.hi - self.lo) / self.step).round() as usize;
        (0..=n).map(move |k| self.lo + k as f32 * self.step)
    }

    fn label(&self, v: f32) -> String {
        let decimals = (-self.step.log10().floor()).max(0.0) as usize;
        let v = if v.abs() < self.step * 1e-3 { 0.0 } else { v };
        format!("{v:.decimals$}")
    }
}

fn hline(image: &mut RgbImage, x0: i64, x1: i64, y: i64, color: Rgb<u8>) {
    for x in x0..=x1 {
        blend(image, x, y, color, 1.0);
    }
}

fn vline(image: &mut RgbImage, x: i64, y0: i64, y1: i64, color: Rgb<u8>) {
    for y in y0..=y1 {
        blend(image, x, y, color, 1.0);
    }
}

/// An anti-aliased stroke from `p` to `q` of `width` pixels: each pixel's opacity falls off
/// over the last pixel of distance from the segment.
fn segment(image: &mut RgbImage, p: (f32, f32), q: (f32, f32), width: f32, color: [u8; 3]) {
    let reach = width / 2.0 + 1.0;
    let (x0, x1) = (
        (p.0.min(q.0) - reach).floor() as i64,
        (p.0.max(q.0) + reach).ceil() as i64,
    );
    let (y0, y1) = (
        (p.1.min(q.1) - reach).floor() as i64,
        (p.1.max(q.1) + reach).ceil() as i64,
    );
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let len2 = dx * dx + dy * dy;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (cx, cy) = (x as f32, y as f32);
            let t = if len2 > 0.0 {
                (((cx - p.0) * dx + (cy - p.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let dist = (cx - p.0 - t * dx).hypot(cy - p.1 - t * dy);
            let alpha = (width / 2.0 + 0.5 - dist).clamp(0.0, 1.0);
            if alpha > 0.0 {
                blend(image, x, y, Rgb(color), alpha);
            }
        }
    }
}

/// Mixes `color` into the pixel at (x, y) with opacity `alpha`, keeping the darker result
/// where a curve crosses itself (so overlapping segments don't build up blotches).
fn blend(image: &mut RgbImage, x: i64, y: i64, color: Rgb<u8>, alpha: f32) {
    if x < 0 || y < 0 || x as u32 >= image.width() || y as u32 >= image.height() {
        return;
    }
    let pixel = image.get_pixel_mut(x as u32, y as u32);
    for c in 0..3 {
        let old = pixel[c] as f32;
        pixel[c] = (old + (color[c] as f32 - old) * alpha).round() as u8;
    }
}
