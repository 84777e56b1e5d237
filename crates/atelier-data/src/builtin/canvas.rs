//! A supersampled RGB canvas for the builtin styles: shapes are drawn in unit coordinates
//! ([0, 1]², y down) at `factor × factor` samples per output pixel, then box-filtered down,
//! which anti-aliases every edge.

pub type Rgb = [f32; 3];

pub struct Canvas {
    /// Output side in pixels.
    size: usize,
    /// Samples per output pixel along each axis.
    factor: usize,
    /// Supersampled side: `size * factor`.
    side: usize,
    samples: Vec<Rgb>,
}

impl Canvas {
    pub fn new(size: usize, factor: usize, ground: Rgb) -> Self {
        let side = size * factor;
        Canvas {
            size,
            factor,
            side,
            samples: vec![ground; side * side],
        }
    }

    /// Paints `color` over the samples in the unit-space box `[x0, x1] × [y0, y1]` with
    /// opacity `alpha(x, y)` in [0, 1] at each sample centre (0 leaves it untouched).
    pub fn paint(&mut self, bounds: [f32; 4], color: Rgb, alpha: impl Fn(f32, f32) -> f32) {
        self.paint_with(bounds, |x, y| (color, alpha(x, y)));
    }

    /// Like [`paint`](Canvas::paint) with a colour that varies over the shape.
    pub fn paint_with(&mut self, bounds: [f32; 4], shade: impl Fn(f32, f32) -> (Rgb, f32)) {
        let side = self.side as f32;
        let to_index = |v: f32| ((v * side).floor().max(0.0) as usize).min(self.side);
        let (i0, i1) = (to_index(bounds[0]), to_index(bounds[2] + 1.0 / side));
        let (j0, j1) = (to_index(bounds[1]), to_index(bounds[3] + 1.0 / side));
        for j in j0..j1 {
            let y = (j as f32 + 0.5) / side;
            for i in i0..i1 {
                let x = (i as f32 + 0.5) / side;
                let (color, a) = shade(x, y);
                if a > 0.0 {
                    let a = a.min(1.0);
                    let s = &mut self.samples[j * self.side + i];
                    for c in 0..3 {
                        s[c] += (color[c] - s[c]) * a;
                    }
                }
            }
        }
    }

    /// Sets every sample from `shade(x, y)`: grounds and gradients.
    pub fn fill_with(&mut self, shade: impl Fn(f32, f32) -> Rgb) {
        self.paint_with([0.0, 0.0, 1.0, 1.0], |x, y| (shade(x, y), 1.0));
    }

    pub fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, color: Rgb) {
        self.paint([x0, y0, x1, y1], color, |x, y| {
            f32::from(x >= x0 && x < x1 && y >= y0 && y < y1)
        });
    }

    pub fn disc(&mut self, cx: f32, cy: f32, r: f32, color: Rgb, alpha: f32) {
        self.paint([cx - r, cy - r, cx + r, cy + r], color, |x, y| {
            if (x - cx).hypot(y - cy) <= r {
                alpha
            } else {
                0.0
            }
        });
    }

    /// An annulus between radii `r - width / 2` and `r + width / 2`.
    pub fn ring(&mut self, cx: f32, cy: f32, r: f32, width: f32, color: Rgb) {
        self.arc(cx, cy, r, width, 0.0, std::f32::consts::TAU, color);
    }

    /// Part of a ring, from angle `a0` to `a0 + span` (radians, clockwise on screen).
    #[allow(clippy::too_many_arguments)]
    pub fn arc(&mut self, cx: f32, cy: f32, r: f32, width: f32, a0: f32, span: f32, color: Rgb) {
        let reach = r + width;
        self.paint(
            [cx - reach, cy - reach, cx + reach, cy + reach],
            color,
            |x, y| {
                let (dx, dy) = (x - cx, y - cy);
                if (dx.hypot(dy) - r).abs() > width / 2.0 {
                    return 0.0;
                }
                let angle = (dy.atan2(dx) - a0).rem_euclid(std::f32::consts::TAU);
                f32::from(angle <= span)
            },
        );
    }

    /// A straight stroke of `width` with square-cut ends.
    pub fn line(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, width: f32, color: Rgb) {
        let (dx, dy) = (x1 - x0, y1 - y0);
        let len2 = (dx * dx + dy * dy).max(1e-12);
        let h = width / 2.0;
        let bounds = [
            x0.min(x1) - h,
            y0.min(y1) - h,
            x0.max(x1) + h,
            y0.max(y1) + h,
        ];
        self.paint(bounds, color, |x, y| {
            let t = ((x - x0) * dx + (y - y0) * dy) / len2;
            let dist = ((x - x0) * dy - (y - y0) * dx).abs() / len2.sqrt();
            f32::from((0.0..=1.0).contains(&t) && dist <= h)
        });
    }

    pub fn triangle(&mut self, p: [[f32; 2]; 3], color: Rgb) {
        let xs = p.map(|q| q[0]);
        let ys = p.map(|q| q[1]);
        let bounds = [
            xs.iter().copied().fold(f32::MAX, f32::min),
            ys.iter().copied().fold(f32::MAX, f32::min),
            xs.iter().copied().fold(f32::MIN, f32::max),
            ys.iter().copied().fold(f32::MIN, f32::max),
        ];
        let edge = |a: [f32; 2], b: [f32; 2], x: f32, y: f32| {
            (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
        };
        self.paint(bounds, color, |x, y| {
            let e = [
                edge(p[0], p[1], x, y),
                edge(p[1], p[2], x, y),
                edge(p[2], p[0], x, y),
            ];
            f32::from(e.iter().all(|v| *v >= 0.0) || e.iter().all(|v| *v <= 0.0))
        });
    }

    /// Box-filters to `size × size` and returns RGB u8 planes (C×H×W).
    pub fn to_planes(&self) -> Vec<u8> {
        let (size, f) = (self.size, self.factor);
        let n = size * size;
        let mut planes = vec![0u8; 3 * n];
        let weight = 1.0 / (f * f) as f32;
        for py in 0..size {
            for px in 0..size {
                let mut sum = [0.0f32; 3];
                for j in py * f..(py + 1) * f {
                    for s in &self.samples[j * self.side + px * f..j * self.side + (px + 1) * f] {
                        for c in 0..3 {
                            sum[c] += s[c];
                        }
                    }
                }
                for c in 0..3 {
                    planes[c * n + py * size + px] =
                        (sum[c] * weight * 255.0).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        planes
    }
}

/// `color` with each channel moved by up to ±`amount`, for hand-mixed-paint variety.
pub fn jitter(color: Rgb, amount: f32, rng: &mut impl rand::Rng) -> Rgb {
    color.map(|c| (c + rng.random_range(-amount..=amount)).clamp(0.0, 1.0))
}

/// Hermite smoothstep of `t` between `edge0` and `edge1`.
pub fn smoothstep(edge0: f32, edge1: f32, t: f32) -> f32 {
    let u = ((t - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    u * u * (3.0 - 2.0 * u)
}
