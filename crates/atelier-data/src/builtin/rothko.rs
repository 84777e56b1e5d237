//! Rothko-like colour fields: two or three soft-edged rectangles stacked on a coloured
//! ground, their edges feathered and their paint slightly uneven.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::canvas::{Canvas, Rgb, jitter, smoothstep};

/// Harmonies of (ground, fields...): warm, dark, and cool families.
const PALETTES: [[Rgb; 4]; 5] = [
    [
        [0.55, 0.10, 0.08],
        [0.92, 0.45, 0.10],
        [0.95, 0.78, 0.30],
        [0.75, 0.18, 0.10],
    ],
    [
        [0.20, 0.08, 0.10],
        [0.55, 0.08, 0.12],
        [0.12, 0.06, 0.08],
        [0.70, 0.30, 0.15],
    ],
    [
        [0.12, 0.18, 0.35],
        [0.25, 0.40, 0.60],
        [0.08, 0.10, 0.18],
        [0.55, 0.60, 0.70],
    ],
    [
        [0.85, 0.55, 0.15],
        [0.95, 0.85, 0.55],
        [0.80, 0.25, 0.10],
        [0.95, 0.65, 0.20],
    ],
    [
        [0.35, 0.12, 0.30],
        [0.85, 0.40, 0.45],
        [0.20, 0.08, 0.20],
        [0.95, 0.70, 0.50],
    ],
];

/// Low-frequency unevenness: a sum of a few random plane waves, roughly in [-1, 1].
struct Wobble {
    waves: Vec<[f32; 4]>,
}

impl Wobble {
    fn new(rng: &mut impl Rng) -> Self {
        let waves = (0..4)
            .map(|_| {
                let f = std::f32::consts::TAU * rng.random_range(0.5..3.0);
                let a = rng.random_range(0.0..std::f32::consts::TAU);
                [f * a.cos(), f * a.sin(), rng.random_range(0.0..6.3), 0.25]
            })
            .collect();
        Wobble { waves }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        self.waves
            .iter()
            .map(|w| w[3] * (w[0] * x + w[1] * y + w[2]).sin())
            .sum()
    }
}

pub fn paint(canvas: &mut Canvas, rng: &mut impl Rng) {
    let palette = PALETTES.choose(rng).expect("palettes");
    let ground = jitter(palette[0], 0.04, rng);
    let wobble = Wobble::new(rng);
    canvas.fill_with(|x, y| ground.map(|c| (c * (1.0 + 0.08 * wobble.at(x, y))).clamp(0.0, 1.0)));

    let fields = rng.random_range(2..=3);
    let margin_x = rng.random_range(0.07..0.12);
    let (top, bottom) = (rng.random_range(0.05..0.1), rng.random_range(0.06..0.12));
    let gap = rng.random_range(0.03..0.06);
    let weights: Vec<f32> = (0..fields).map(|_| rng.random_range(0.5..1.5)).collect();
    let total: f32 = weights.iter().sum();
    let usable = 1.0 - top - bottom - gap * (fields - 1) as f32;

    let mut colors: Vec<Rgb> = palette[1..].to_vec();
    colors.shuffle(rng);
    let mut y = top;
    for (k, w) in weights.iter().enumerate() {
        let h = usable * w / total;
        let (x0, x1, y0, y1) = (margin_x, 1.0 - margin_x, y, y + h);
        let color = jitter(colors[k % colors.len()], 0.04, rng);
        let feather = rng.random_range(0.015..0.035);
        let wobble = Wobble::new(rng);
        let bounds = [x0 - feather, y0 - feather, x1 + feather, y1 + feather];
        canvas.paint_with(bounds, |x, y| {
            // Distance inside the rectangle (negative outside), softened over `feather`.
            let inside = (x - x0).min(x1 - x).min(y - y0).min(y1 - y);
            let edge = smoothstep(-feather, feather, inside + 0.3 * feather * wobble.at(x, y));
            let shade = color.map(|c| (c * (1.0 + 0.06 * wobble.at(y, x))).clamp(0.0, 1.0));
            (shade, edge * 0.96)
        });
        y = y1 + gap;
    }
}
