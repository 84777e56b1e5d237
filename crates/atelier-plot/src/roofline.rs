//! [`Roofline`]: log-log axes (arithmetic intensity in FLOP/byte across, GFLOP/s up), the two
//! measured ceilings (the copy bandwidth's slope up to the ridge, then the FMA peak's flat
//! roof) and a dot per measurement, coloured by group; hollow dots mark readable baselines.

use std::path::Path;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{PlotError, Result, draw_error};
use crate::font::{self, FAMILY};
use crate::palette::rgb;

#[derive(Clone, Debug, PartialEq)]
pub struct RooflinePoint {
    /// FLOP per byte moved.
    pub intensity: f64,
    pub gflops: f64,
    /// The legend entry (and colour) it belongs to.
    pub group: String,
    /// Drawn as a ring instead of a dot.
    pub hollow: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Roofline {
    pub title: String,
    pub bandwidth_gbs: f64,
    pub peak_gflops: f64,
    /// Legend order and colours; a point of a group not listed is drawn black.
    pub groups: Vec<(String, [u8; 3])>,
    pub points: Vec<RooflinePoint>,
    /// What filled and hollow dots mean, for the legend.
    pub filled_means: String,
    pub hollow_means: String,
    pub size: (u32, u32),
}

impl Roofline {
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

    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.to_image()?
            .save(path)
            .map_err(|source| PlotError::Write {
                path: path.to_path_buf(),
                source,
            })
    }

    fn color_of(&self, group: &str) -> RGBColor {
        self.groups
            .iter()
            .find(|(g, _)| g == group)
            .map_or(BLACK, |(_, c)| rgb(*c))
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
        let (bw, peak) = (self.bandwidth_gbs, self.peak_gflops);
        let ridge = peak / bw;
        let points: Vec<&RooflinePoint> = self
            .points
            .iter()
            .filter(|p| p.intensity > 0.0 && p.gflops > 0.0)
            .collect();
        let x = decades(
            points
                .iter()
                .map(|p| p.intensity)
                .chain([ridge / 4.0, ridge * 4.0]),
        );
        let y = decades(
            points
                .iter()
                .map(|p| p.gflops)
                .chain([peak * 1.5, bw * ridge / 100.0]),
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FAMILY, 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d((x.0..x.1).log_scale(), (y.0..y.1).log_scale())
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (FLOP/byte)")
            .y_desc("GFLOP/s")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .x_label_formatter(&|v| compact(*v))
            .y_label_formatter(&|v| compact(*v))
            .draw()
            .map_err(e)?;

        let slope = RGBColor(30, 80, 200);
        let roof = RGBColor(200, 30, 30);
        chart
            .draw_series(LineSeries::new(
                [(x.0, bw * x.0), (ridge, peak)],
                slope.stroke_width(3),
            ))
            .map_err(e)?
            .label(format!("copy bandwidth {bw:.1} GB/s"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], slope.stroke_width(3))
            });
        chart
            .draw_series(LineSeries::new(
                [(ridge, peak), (x.1, peak)],
                roof.stroke_width(3),
            ))
            .map_err(e)?
            .label(format!("FMA peak {peak:.0} GFLOP/s"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], roof.stroke_width(3))
            });

        for (group, c) in &self.groups {
            let c = rgb(*c);
            let mine = points.iter().filter(|p| &p.group == group);
            chart
                .draw_series(mine.map(|p| dot(p, c)))
                .map_err(e)?
                .label(group.as_str())
                .legend(move |(x, y)| Circle::new((x + 11, y), 5, c.filled()));
        }
        let unlisted = points
            .iter()
            .filter(|p| !self.groups.iter().any(|(g, _)| *g == p.group));
        chart
            .draw_series(unlisted.map(|p| dot(p, self.color_of(&p.group))))
            .map_err(e)?;
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(e)?
            .label(self.filled_means.as_str())
            .legend(|(x, y)| Circle::new((x + 11, y), 5, BLACK.filled()));
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(e)?
            .label(self.hollow_means.as_str())
            .legend(|(x, y)| Circle::new((x + 11, y), 6, BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(60, 60, 60))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
        Ok(())
    }
}

fn dot(p: &RooflinePoint, c: RGBColor) -> Circle<(f64, f64), i32> {
    let style = if p.hollow {
        c.stroke_width(2)
    } else {
        c.filled()
    };
    Circle::new((p.intensity, p.gflops), if p.hollow { 6 } else { 5 }, style)
}

/// The whole decades that cover `values`: (10^a, 10^b), b > a.
fn decades(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (1.0, 10.0);
    }
    let a = lo.log10().floor() as i32;
    let b = (hi.log10().ceil() as i32).max(a + 1);
    (10f64.powi(a), 10f64.powi(b))
}

/// 0.01, 0.5, 20, 3000, 1e6.
fn compact(v: f64) -> String {
    if !(1e-3..1e5).contains(&v) {
        format!("{v:.0e}")
    } else if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_cover_the_values() {
        assert_eq!(decades([0.3, 40.0].into_iter()), (0.1, 100.0));
        assert_eq!(decades([5.0].into_iter()), (1.0, 10.0));
        assert_eq!(decades(std::iter::empty()), (1.0, 10.0));
    }

    #[test]
    fn compact_labels() {
        assert_eq!(compact(0.01), "0.01");
        assert_eq!(compact(300.0), "300");
        assert_eq!(compact(1e6), "1e6");
    }
}
