//! Series colours.

use plotters::style::RGBColor;

/// Matplotlib's "tab10" colours, in order (what TensorBoard and most papers' plots use).
pub const TAB10: [[u8; 3]; 10] = [
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

/// The `i`-th colour of [`TAB10`], cycling.
pub fn color(i: usize) -> [u8; 3] {
    TAB10[i % TAB10.len()]
}

pub(crate) fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}
