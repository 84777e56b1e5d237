//! The font compiled into the crate: plotters' `ab_glyph` backend draws bitmap text with a
//! font registered once under the family name `sans-serif`.

use std::sync::Once;

use plotters::style::FontStyle;

/// Roboto Regular, subset to Latin-1 and a few symbols (fonts/README.md).
const ROBOTO: &[u8] = include_bytes!("../fonts/Roboto-Regular-subset.ttf");

pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the font (once per process) before anything measures or draws text.
pub(crate) fn ensure_registered() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, ROBOTO).is_err() {
            // the bytes are compiled in and checked by a test: this cannot happen at run time
            panic!("atelier-plot: the embedded Roboto font does not parse");
        }
    });
}
