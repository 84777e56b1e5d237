//! Kandinsky-like compositions (after "Composition VIII"): on a pale ground, one large haloed
//! circle, smaller circles in strong colours, crossing black lines, thick arcs and a triangle.

use std::f32::consts::{PI, TAU};

use rand::Rng;
use rand::seq::IndexedRandom;

use super::canvas::{Canvas, Rgb, jitter};

const GROUNDS: [Rgb; 4] = [
    [0.95, 0.92, 0.82], // cream
    [0.88, 0.90, 0.91], // pale blue-grey
    [0.96, 0.89, 0.80], // pale peach
    [0.91, 0.93, 0.84], // pale green-cream
];

const STRONG: [Rgb; 8] = [
    [0.85, 0.10, 0.10], // red
    [0.98, 0.78, 0.05], // yellow
    [0.10, 0.20, 0.70], // blue
    [0.95, 0.45, 0.05], // orange
    [0.45, 0.15, 0.55], // violet
    [0.10, 0.55, 0.30], // green
    [0.90, 0.40, 0.60], // pink
    [0.25, 0.60, 0.90], // light blue
];

const INK: Rgb = [0.07, 0.07, 0.09];

fn strong(rng: &mut impl Rng) -> Rgb {
    jitter(
        *STRONG.choose(rng).expect("palette is not empty"),
        0.04,
        rng,
    )
}

pub fn paint(canvas: &mut Canvas, rng: &mut impl Rng) {
    // A pale ground with a gentle diagonal gradient.
    let ground = jitter(*GROUNDS.choose(rng).expect("grounds"), 0.02, rng);
    let tilt = rng.random_range(-0.06..0.06);
    canvas.fill_with(|x, y| ground.map(|c| (c + tilt * (x + y - 1.0)).clamp(0.0, 1.0)));

    // The large circle: a dark halo, a strong disc, often a smaller disc inside.
    let (cx, cy) = (rng.random_range(0.25..0.6), rng.random_range(0.25..0.6));
    let r = rng.random_range(0.14..0.22);
    let halo = if rng.random_bool(0.7) {
        INK
    } else {
        strong(rng)
    };
    canvas.disc(cx, cy, r + rng.random_range(0.025..0.05), halo, 1.0);
    canvas.disc(cx, cy, r, strong(rng), 1.0);
    if rng.random_bool(0.7) {
        let inner = r * rng.random_range(0.35..0.6);
        let off = r - inner;
        let (ox, oy) = (
            rng.random_range(-off..off) * 0.6,
            rng.random_range(-off..off) * 0.6,
        );
        canvas.disc(cx + ox, cy + oy, inner, strong(rng), 1.0);
    }

    // A triangle, sometimes.
    if rng.random_bool(0.6) {
        let (tx, ty) = (rng.random_range(0.2..0.8), rng.random_range(0.2..0.8));
        let s = rng.random_range(0.12..0.25);
        let a = rng.random_range(0.0..TAU);
        let p = [0.0, TAU / 3.0, 2.0 * TAU / 3.0].map(|k| {
            [
                tx + s * (a + k).cos(),
                ty + s * (a + k).sin() * rng.random_range(0.6..1.0),
            ]
        });
        canvas.triangle(p, strong(rng));
    }

    // Crossing black lines, long and straight, of varied weight.
    for _ in 0..rng.random_range(3..=6) {
        let (mx, my) = (rng.random_range(0.1..0.9), rng.random_range(0.1..0.9));
        let a = rng.random_range(0.0..PI);
        let half = rng.random_range(0.2..0.5);
        let (dx, dy) = (half * a.cos(), half * a.sin());
        let width = rng.random_range(0.012..0.03);
        canvas.line(mx - dx, my - dy, mx + dx, my + dy, width, INK);
    }

    // Smaller circles in strong colours, some with a black outline, some translucent.
    for _ in 0..rng.random_range(2..=5) {
        let (x, y) = (rng.random_range(0.08..0.92), rng.random_range(0.08..0.92));
        let r = rng.random_range(0.04..0.1);
        let alpha = if rng.random_bool(0.3) { 0.7 } else { 1.0 };
        canvas.disc(x, y, r, strong(rng), alpha);
        if rng.random_bool(0.4) {
            canvas.ring(x, y, r, 0.015, INK);
        }
    }

    // One or two thick arcs.
    for _ in 0..rng.random_range(1..=2) {
        let (x, y) = (rng.random_range(0.2..0.8), rng.random_range(0.2..0.8));
        let r = rng.random_range(0.15..0.35);
        let color = if rng.random_bool(0.7) {
            INK
        } else {
            strong(rng)
        };
        let a0 = rng.random_range(0.0..TAU);
        let span = rng.random_range(0.35 * PI..0.8 * PI);
        canvas.arc(x, y, r, rng.random_range(0.02..0.035), a0, span, color);
    }
}
