//! [`Builtin`]: procedural abstract art made in code, so demos and tests need no download.
//!
//! Image `i` of a set is drawn from its own seed, derived from (set seed, i): the same seed
//! gives the same images in any order. Images render lazily, on first use (usually on the
//! batcher's thread), and are then kept as u8 (12 KiB per 64×64 image), so the first epoch
//! pays for drawing and the later ones only copy.

mod canvas;
mod kandinsky;
mod mondrian;
mod rothko;

use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::error::{Error, Result};
use crate::image_set::ImageSet;
use crate::pixels;
use crate::seed::derive_seed;

use canvas::Canvas;

/// Samples per output pixel along each axis: 4 (16 per pixel) gives smooth hard edges;
/// rothko's edges are feathered already, so 2 will do (its shading is the costly part).
fn supersample(style: Style) -> usize {
    match style {
        Style::Rothko => 2,
        _ => 4,
    }
}

/// The builtin art styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Black grid lines, rectangles of red, yellow, blue and white.
    Mondrian,
    /// Circles, arcs, lines and a triangle in strong colours on a pale ground.
    Kandinsky,
    /// Soft-edged stacked colour fields.
    Rothko,
}

impl Style {
    pub const ALL: [Style; 3] = [Style::Mondrian, Style::Kandinsky, Style::Rothko];

    pub fn name(self) -> &'static str {
        match self {
            Style::Mondrian => "mondrian",
            Style::Kandinsky => "kandinsky",
            Style::Rothko => "rothko",
        }
    }

    pub fn from_name(name: &str) -> Result<Style> {
        Style::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| Error::UnknownBuiltin {
                name: name.to_string(),
                known: Style::ALL.map(Style::name).to_vec(),
            })
    }

    /// One `size × size` image of this style from `seed`, as RGB u8 planes (C×H×W).
    pub fn render(self, size: usize, seed: u64) -> Vec<u8> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut canvas = Canvas::new(size, supersample(self), [1.0; 3]);
        match self {
            Style::Mondrian => mondrian::paint(&mut canvas, &mut rng),
            Style::Kandinsky => kandinsky::paint(&mut canvas, &mut rng),
            Style::Rothko => rothko::paint(&mut canvas, &mut rng),
        }
        canvas.to_planes()
    }
}

/// `count` images of one builtin style, RGB, `size × size`.
pub struct Builtin {
    style: Style,
    size: usize,
    seed: u64,
    rendered: Vec<OnceLock<Box<[u8]>>>,
}

impl Builtin {
    /// Default number of images in a builtin set (`builtin:NAME` without a count).
    pub const DEFAULT_COUNT: usize = 4096;

    /// `name` is a [`Style`] name; an unknown one is an error listing the known names.
    pub fn new(name: &str, size: usize, count: usize, seed: u64) -> Result<Self> {
        let style = Style::from_name(name)?;
        if size == 0 || count == 0 {
            return Err(Error::Invalid(format!(
                "builtin:{name} needs a size and a count of at least 1 (got size {size}, count {count})"
            )));
        }
        // every image is rendered once and kept: what the whole set will hold
        let per_image = (3 * size * size + std::mem::size_of::<OnceLock<Vec<u8>>>()) as u128;
        let need = (count as u128 * per_image).min(u64::MAX as u128) as u64;
        atelier_fs::check_host_memory(&format!("builtin:{name}:{count} at {size}×{size}"), need)?;
        let rendered = (0..count).map(|_| OnceLock::new()).collect();
        Ok(Builtin {
            style,
            size,
            seed,
            rendered,
        })
    }

    pub fn style(&self) -> Style {
        self.style
    }
}

impl ImageSet for Builtin {
    fn len(&self) -> usize {
        self.rendered.len()
    }

    fn channels(&self) -> usize {
        3
    }

    fn size(&self) -> usize {
        self.size
    }

    fn get_into(&self, i: usize, out: &mut [f32]) {
        let planes = self.rendered[i].get_or_init(|| {
            self.style
                .render(self.size, derive_seed(self.seed, i as u64))
                .into_boxed_slice()
        });
        pixels::u8_to_unit(planes, out);
    }

    fn describe(&self) -> String {
        format!(
            "builtin:{} ({} images, seed {}, RGB {}×{})",
            self.style.name(),
            self.len(),
            self.seed,
            self.size,
            self.size
        )
    }
}
