//! Mondrian-like compositions: the square split again and again by straight black lines into
//! rectangles, a few of them filled with red, yellow or blue, the rest near-white.

use rand::Rng;
use rand::seq::SliceRandom;

use super::canvas::{Canvas, Rgb, jitter};

const RED: Rgb = [0.86, 0.09, 0.07];
const YELLOW: Rgb = [0.98, 0.82, 0.05];
const BLUE: Rgb = [0.09, 0.22, 0.62];
const BLACK: Rgb = [0.06, 0.06, 0.07];
const WHITE: Rgb = [0.95, 0.95, 0.93];

/// An axis-aligned rectangle `[x0, y0, x1, y1]` in unit coordinates.
type Rect = [f32; 4];

/// A black line: the rectangle it covers (already widened).
struct Split {
    band: Rect,
}

pub fn paint(canvas: &mut Canvas, rng: &mut impl Rng) {
    let width = rng.random_range(0.045..0.06);
    let mut lines = Vec::new();
    let mut leaves = Vec::new();
    split([0.0, 0.0, 1.0, 1.0], 0, width, rng, &mut lines, &mut leaves);

    // Colour a few rectangles, the biggest first more often than not (Mondrian's large red or
    // blue field), the others at random; a small one is sometimes black.
    leaves.sort_by(|a, b| area(b).total_cmp(&area(a)));
    let mut colors = vec![WHITE; leaves.len()];
    let colored = rng.random_range(2..=3).min(leaves.len());
    let mut order: Vec<usize> = (1..leaves.len()).collect();
    order.shuffle(rng);
    if rng.random_bool(0.6) {
        order.insert(0, 0);
    }
    let mut primaries = [RED, YELLOW, BLUE];
    primaries.shuffle(rng);
    for (k, &leaf) in order.iter().take(colored).enumerate() {
        colors[leaf] = primaries[k % 3];
    }
    if leaves.len() > colored + 2 && rng.random_bool(0.25) {
        let smallest = leaves.len() - 1;
        colors[smallest] = BLACK;
    }
    for (rect, color) in leaves.iter().zip(colors) {
        let color = jitter(color, 0.02, rng);
        canvas.rect(rect[0], rect[1], rect[2], rect[3], color);
    }
    for line in lines {
        let [x0, y0, x1, y1] = line.band;
        canvas.rect(x0, y0, x1, y1, BLACK);
    }
}

fn area(r: &Rect) -> f32 {
    (r[2] - r[0]) * (r[3] - r[1])
}

/// Splits `rect` in two with a black line (recursively), or keeps it as a leaf.
fn split(
    rect: Rect,
    depth: usize,
    width: f32,
    rng: &mut impl Rng,
    lines: &mut Vec<Split>,
    leaves: &mut Vec<Rect>,
) {
    let [x0, y0, x1, y1] = rect;
    let (w, h) = (x1 - x0, y1 - y0);
    let stop_chance = [0.0, 0.1, 0.45, 0.7, 0.9, 1.0][depth.min(5)];
    let vertical = if w > 1.4 * h {
        true
    } else if h > 1.4 * w {
        false
    } else {
        rng.random_bool(0.5)
    };
    let along = if vertical { w } else { h };
    // Both parts must stay wide enough to read as rectangles at 32×32.
    let min_part = 0.12;
    if along < 2.0 * min_part || rng.random_bool(stop_chance) {
        leaves.push(rect);
        return;
    }
    let at = rng.random_range(min_part..along - min_part) + if vertical { x0 } else { y0 };
    let h2 = width / 2.0;
    // The band runs over the whole parent so it meets the lines that bound it.
    let band = if vertical {
        [at - h2, y0 - h2, at + h2, y1 + h2]
    } else {
        [x0 - h2, at - h2, x1 + h2, at + h2]
    };
    lines.push(Split { band });
    let (first, second) = if vertical {
        ([x0, y0, at, y1], [at, y0, x1, y1])
    } else {
        ([x0, y0, x1, at], [x0, at, x1, y1])
    };
    split(first, depth + 1, width, rng, lines, leaves);
    split(second, depth + 1, width, rng, lines, leaves);
}
