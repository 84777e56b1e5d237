//! atelier-plot: every chart atelier draws, on [plotters](https://docs.rs/plotters).
//!
//! - [`LineChart`]: curves against the step (loss curves, learning rate, images/s), as a PNG
//!   (RUN_DIR/losses.png) or as an SVG string (inlined in the run page).
//! - [`Roofline`]: log-log GFLOP/s against arithmetic intensity with the two measured
//!   ceilings (`cargo xtask bench --roofline`).
//!
//! PNGs are drawn with Roboto (a subset, compiled in; see `fonts/README.md`), so no system
//! font library is needed; SVGs name the `sans-serif` family and the browser draws the text.

mod error;
mod font;
mod line;
mod palette;
mod roofline;

pub use error::{PlotError, Result};
pub use line::{LineChart, Series};
pub use palette::{TAB10, color};
pub use roofline::{Roofline, RooflinePoint};
