//! [`LineChart`]: named curves of (x, y) points, with a title, axis labels, a light grid and a
//! legend. Non-finite values are left out (the curve breaks there).

use std::path::Path;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{PlotError, Result, draw_error};
use crate::font::{self, FAMILY};
use crate::palette::{color, rgb};

/// One curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }

    /// The runs of consecutive finite points.
    fn finite_runs(&self) -> Vec<Vec<(f64, f64)>> {
        let mut runs = vec![Vec::new()];
        for &(x, y) in &self.points {
            if x.is_finite() && y.is_finite() {
                runs.last_mut().expect("one run").push((x, y));
            } else if !runs.last().expect("one run").is_empty() {
                runs.push(Vec::new());
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Pixels (PNG) or user units (SVG).
    pub size: (u32, u32),
}

impl LineChart {
    /// An empty chart of 800×480 with "step" across.
    pub fn new(title: impl Into<String>) -> LineChart {
        LineChart {
            title: title.into(),
            x_label: "step".into(),
            y_label: String::new(),
            series: Vec::new(),
            size: (800, 480),
        }
    }

    pub fn x_label(mut self, label: impl Into<String>) -> LineChart {
        self.x_label = label.into();
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> LineChart {
        self.y_label = label.into();
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> LineChart {
        self.size = (width, height);
        self
    }

    /// Adds a curve.
    pub fn series(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> LineChart {
        self.series.push(Series::new(name, points));
        self
    }

    /// Adds a curve of `values[i]` at x = `i * x_step` (values logged every N steps).
    pub fn values(self, name: impl Into<String>, values: &[f32], x_step: f64) -> LineChart {
        let points = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64 * x_step, f64::from(v)))
            .collect();
        self.series(name, points)
    }

    /// The chart as an RGB image (drawn with the embedded font).
    pub fn to_image(&self) -> Result<RgbImage> {
        font::ensure_registered();
        let (w, h) = self.size;
        let mut pixels = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
            self.draw(root).map_err(draw_error(&self.title))?;
        }
        Ok(RgbImage::from_raw(w, h, pixels).expect("w × h × 3 bytes"))
    }

    /// Writes the chart as a PNG.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.to_image()?
            .save(path)
            .map_err(|source| PlotError::Write {
                path: path.to_path_buf(),
                source,
            })
    }

    /// The chart as a standalone `<svg>` element (for inlining in HTML).
    pub fn to_svg(&self) -> Result<String> {
        font::ensure_registered();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            self.draw(root).map_err(draw_error(&self.title))?;
        }
        Ok(svg)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let runs: Vec<Vec<Vec<(f64, f64)>>> = self.series.iter().map(Series::finite_runs).collect();
        let all = runs.iter().flatten().flatten();
        let (x, y) = ranges(all);
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FAMILY, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .x_labels(8)
            .y_labels(7)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(e)?;
        for (k, (series, runs)) in self.series.iter().zip(&runs).enumerate() {
            let c = rgb(color(k));
            for (i, run) in runs.iter().enumerate() {
                let style = c.stroke_width(2);
                let drawn = if run.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(run[0], 2, c.filled())))
                } else {
                    chart.draw_series(LineSeries::new(run.iter().copied(), style))
                }
                .map_err(e)?;
                if i == 0 {
                    drawn.label(&series.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))
                    });
                }
            }
        }
        if runs.iter().any(|r| !r.is_empty()) {
            chart
                .configure_series_labels()
                .label_font((FAMILY, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(60, 60, 60))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(e)?;
        }
        root.present().map_err(e)?;
        Ok(())
    }
}

/// The x and y ranges of `points`: x from the first to the last point, y padded by 5%;
/// widened when flat, (0, 1) when empty.
fn ranges<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> ((f64, f64), (f64, f64)) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = x;
    for &(px, py) in points {
        x = (x.0.min(px), x.1.max(px));
        y = (y.0.min(py), y.1.max(py));
    }
    let widen = |(lo, hi): (f64, f64), pad: f64| {
        if lo > hi {
            (0.0, 1.0)
        } else if hi - lo <= 1e-9 * lo.abs() || hi == lo {
            // flat: half the value either side (a constant learning rate of 2e-4 sits mid-chart)
            let d = if lo == 0.0 { 1.0 } else { 0.5 * lo.abs() };
            (lo - d, hi + d)
        } else {
            let d = pad * (hi - lo);
            (lo - d, hi + d)
        }
    };
    (widen(x, 0.0), widen(y, 0.05))
}

/// A tick label with as few digits as it needs.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a < 1e-12 {
        "0".into()
    } else if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_split_a_series() {
        let s = Series::new(
            "x",
            vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 4.0)],
        );
        assert_eq!(
            s.finite_runs(),
            vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]
        );
    }

    #[test]
    fn ranges_pad_y_and_widen_flat_or_empty_data() {
        let pts = [(0.0, 1.0), (10.0, 3.0)];
        let (x, y) = ranges(pts.iter());
        assert_eq!(x, (0.0, 10.0));
        assert!((y.0 - 0.9).abs() < 1e-12 && (y.1 - 3.1).abs() < 1e-12);
        assert_eq!(ranges([].iter()), ((0.0, 1.0), (0.0, 1.0)));
        let (_, flat) = ranges([(0.0, 2.0), (1.0, 2.0)].iter());
        assert!(flat.0 < 2.0 && flat.1 > 2.0);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(400.0), "400");
        assert_eq!(tick(1.0 / 3.0), "0.3333");
        assert_eq!(tick(2.5e-5), "2.5e-5");
    }
}
