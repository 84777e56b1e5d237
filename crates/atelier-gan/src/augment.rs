//! DiffAugment (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training",
//! NeurIPS 2020): the same random, differentiable transforms applied to every image the
//! discriminator sees, real and fake, in D's step and in G's step, so D cannot memorise a
//! small collection and G's gradient still flows through the transforms to G.
//!
//! The transforms follow the paper's reference code (`DiffAugment_pytorch.py`), on images in
//! [-1, 1]:
//!
//! | policy | transform (per image) |
//! | --- | --- |
//! | `color` | brightness `x + (r − 0.5)`; saturation `(x − mean_c) · 2r + mean_c`; contrast `(x − mean_chw) · (r + 0.5) + mean_chw` |
//! | `translation` | a shift by up to 1/8 of the image (whole pixels, zero fill) |
//! | `cutout` | a square of half the image's size set to 0, centred anywhere |
//!
//! Each is built from tensor ops (broadcast add/multiply, channel means, masks, and the
//! `translate2d` gather), so autograd carries G's gradient through them. The random numbers of
//! a batch are drawn on the host from the run's seeded generator ([`Draws`]) and uploaded as
//! one small tensor; nothing is read back.
//!
//! Each transform is applied to an image with probability `p` (a device tensor of one value),
//! as in ADA (Karras et al. 2020); `p` = 1 is DiffAugment itself, and [`crate::ada`] adjusts it.
//! An image a transform skips gets that transform's identity parameters (brightness 0, scale
//! 1, shift 0, no cutout), so every image still goes through the same ops.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use atelier_tensor::{DType, Device, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Which transform groups to apply (`--diffaug color,translation,cutout`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub color: bool,
    pub translation: bool,
    pub cutout: bool,
}

impl Policy {
    pub const ALL: Policy = Policy {
        color: true,
        translation: true,
        cutout: true,
    };

    pub fn is_empty(&self) -> bool {
        !(self.color || self.translation || self.cutout)
    }
}

impl FromStr for Policy {
    type Err = String;

    /// A comma-separated list of `color`, `translation`, `cutout` (or `none`).
    fn from_str(s: &str) -> Result<Policy, String> {
        let mut p = Policy::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "color" | "colour" => p.color = true,
                "translation" => p.translation = true,
                "cutout" => p.cutout = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown DiffAugment transform {other:?} (use color, translation, cutout)"
                    ));
                }
            }
        }
        Ok(p)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.color, "color"),
            (self.translation, "translation"),
            (self.cutout, "cutout"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        if names.is_empty() {
            write!(f, "none")
        } else {
            write!(f, "{}", names.join(","))
        }
    }
}

/// Rows of a [`Draws`] tensor, each `[N]`: a uniform gate per transform (the transform is
/// applied where `gate < p`), then the transform's own random numbers.
pub mod row {
    pub const GATE_BRIGHTNESS: usize = 0;
    /// Uniform in [0, 1).
    pub const BRIGHTNESS: usize = 1;
    pub const GATE_SATURATION: usize = 2;
    pub const SATURATION: usize = 3;
    pub const GATE_CONTRAST: usize = 4;
    pub const CONTRAST: usize = 5;
    pub const GATE_TRANSLATION: usize = 6;
    /// Whole numbers in [-H/8, H/8] and [-W/8, W/8].
    pub const SHIFT_Y: usize = 7;
    pub const SHIFT_X: usize = 8;
    pub const GATE_CUTOUT: usize = 9;
    /// The cutout square's top-left corner (may lie outside the image; the square is clipped).
    pub const CUT_Y: usize = 10;
    pub const CUT_X: usize = 11;
    pub const COUNT: usize = 12;
}

/// The largest translation along an axis of `size` pixels: 1/8 of it, rounded.
pub fn max_shift(size: usize) -> usize {
    (size as f64 / 8.0 + 0.5) as usize
}

/// The cutout square's side along an axis of `size` pixels: half of it, rounded.
pub fn cutout_size(size: usize) -> usize {
    (size as f64 / 2.0 + 0.5) as usize
}

/// The random numbers of one augmentation of a batch of `n` images of `h`×`w`: `[COUNT, n]`
/// values, row-major (see [`row`]), drawn as the reference code draws them.
#[derive(Clone, Debug, PartialEq)]
pub struct Draws {
    pub n: usize,
    pub values: Vec<f32>,
}

impl Draws {
    pub fn draw(n: usize, h: usize, w: usize, seed: u64) -> Draws {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut values = vec![0.0f32; row::COUNT * n];
        let (sy, sx) = (max_shift(h) as i64, max_shift(w) as i64);
        let (cy, cx) = (cutout_size(h) as i64, cutout_size(w) as i64);
        for r in 0..row::COUNT {
            for i in 0..n {
                values[r * n + i] = match r {
                    row::SHIFT_Y => rng.random_range(-sy..=sy) as f32,
                    row::SHIFT_X => rng.random_range(-sx..=sx) as f32,
                    // the reference: offset in [0, size + (1 - cut % 2)), corner offset - cut/2
                    row::CUT_Y => (rng.random_range(0..h as i64 + 1 - cy % 2) - cy / 2) as f32,
                    row::CUT_X => (rng.random_range(0..w as i64 + 1 - cx % 2) - cx / 2) as f32,
                    _ => rng.random::<f32>(),
                };
            }
        }
        Draws { n, values }
    }

    /// Row `r` as a host vector.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.values[r * self.n..(r + 1) * self.n]
    }

    /// The draws as a `[COUNT, n]` tensor on `device` (f64 on the CPU when `dtype` is).
    pub fn tensor(&self, device: Device, dtype: DType) -> Tensor {
        let t = Tensor::from_vec(self.values.clone(), &[row::COUNT, self.n], device);
        match dtype {
            DType::F64 => t.to_f64(),
            DType::F32 => t,
        }
    }
}

/// Index grids of one image size (made once, reused every step).
struct Grids {
    /// Row indices `[1, 1, H, 1]` and column indices `[1, 1, 1, W]`.
    ys: Tensor,
    xs: Tensor,
    /// Half the cutout's side along each axis, `[1]`.
    half_y: Tensor,
    half_x: Tensor,
}

/// DiffAugment for a policy, with its cached index grids.
pub struct DiffAugment {
    pub policy: Policy,
    grids: RefCell<HashMap<(usize, usize, Device, bool), Grids>>,
}

/// `f(&x)` keeps x's dtype: f64 CPU tensors need f64 constants.
fn like(x: &Tensor, values: Vec<f32>, shape: &[usize]) -> Tensor {
    let t = Tensor::from_vec(values, shape, x.device());
    match x.dtype() {
        DType::F64 => t.to_f64(),
        DType::F32 => t,
    }
}

impl DiffAugment {
    pub fn new(policy: Policy) -> DiffAugment {
        DiffAugment {
            policy,
            grids: RefCell::new(HashMap::new()),
        }
    }

    /// Applies the policy to `x` `[N, C, H, W]` with `draws` (a `[COUNT, N]` tensor from
    /// [`Draws::tensor`], on x's device) and the probability `p` (`[1]`, on x's device).
    pub fn apply(&self, x: &Tensor, draws: &Tensor, p: &Tensor) -> Tensor {
        let &[n, _, h, w] = x.shape() else {
            panic!(
                "DiffAugment: images must be [N, C, H, W], got {:?}",
                x.shape()
            );
        };
        assert_eq!(
            draws.shape(),
            [row::COUNT, n],
            "DiffAugment: draws must be [{}, {n}]",
            row::COUNT
        );
        let per_image = |r: usize| draws.slice(0, r, r + 1).reshape(&[n, 1, 1, 1]);
        // 1 where the transform applies to the image (gate < p), else 0
        let gate = |r: usize| p.gt_mask(&per_image(r));
        let mut x = x.clone();
        if self.policy.color {
            let b = gate(row::GATE_BRIGHTNESS).mul(&per_image(row::BRIGHTNESS).add_scalar(-0.5));
            x = x.add(&b);
            // saturation: the scale 2r, or 1 where skipped: 1 + gate · (2r − 1)
            let s = gate(row::GATE_SATURATION)
                .mul(&per_image(row::SATURATION).mul_scalar(2.0).add_scalar(-1.0))
                .add_scalar(1.0);
            let m = x.mean(&[1], true);
            x = x.sub(&m).mul(&s).add(&m);
            // contrast: the scale r + 0.5, or 1 where skipped
            let c = gate(row::GATE_CONTRAST)
                .mul(&per_image(row::CONTRAST).add_scalar(-0.5))
                .add_scalar(1.0);
            let m = x.mean(&[1, 2, 3], true);
            x = x.sub(&m).mul(&c).add(&m);
        }
        if self.policy.translation {
            let g = gate(row::GATE_TRANSLATION).reshape(&[n, 1]);
            let dy = per_image(row::SHIFT_Y).reshape(&[n, 1]).mul(&g);
            let dx = per_image(row::SHIFT_X).reshape(&[n, 1]).mul(&g);
            x = x.translate2d(&Tensor::concat(&[dy, dx], 1));
        }
        if self.policy.cutout {
            x = x.mul(&self.cutout_mask(&x, draws, p, h, w));
        }
        x
    }

    /// `[N, 1, H, W]`: 0 inside each image's cutout square, 1 elsewhere.
    fn cutout_mask(&self, x: &Tensor, draws: &Tensor, p: &Tensor, h: usize, w: usize) -> Tensor {
        let n = x.shape()[0];
        let key = (h, w, x.device(), x.dtype() == DType::F64);
        let mut cache = self.grids.borrow_mut();
        let grids = cache.entry(key).or_insert_with(|| Grids {
            ys: like(x, (0..h).map(|i| i as f32).collect(), &[1, 1, h, 1]),
            xs: like(x, (0..w).map(|i| i as f32).collect(), &[1, 1, 1, w]),
            half_y: like(x, vec![cutout_size(h) as f32 / 2.0], &[1]),
            half_x: like(x, vec![cutout_size(w) as f32 / 2.0], &[1]),
        });
        let per_image = |r: usize| draws.slice(0, r, r + 1).reshape(&[n, 1, 1, 1]);
        // a whole-number index i lies in [corner, corner + size) iff |i − centre| < size / 2,
        // with centre = corner + (size − 1) / 2
        let inside = |grid: &Tensor, corner: usize, half: &Tensor, size: usize| {
            let centre = per_image(corner).add_scalar((size as f32 - 1.0) / 2.0);
            half.gt_mask(&grid.sub(&centre).abs())
        };
        let in_y = inside(&grids.ys, row::CUT_Y, &grids.half_y, cutout_size(h));
        let in_x = inside(&grids.xs, row::CUT_X, &grids.half_x, cutout_size(w));
        let on = p.gt_mask(&per_image(row::GATE_CUTOUT));
        in_y.mul(&in_x).mul(&on).neg().add_scalar(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_print() {
        assert_eq!(
            "color,translation,cutout".parse::<Policy>(),
            Ok(Policy::ALL)
        );
        let p: Policy = "translation".parse().unwrap();
        assert!(p.translation && !p.color && !p.cutout);
        assert_eq!(p.to_string(), "translation");
        assert!("none".parse::<Policy>().unwrap().is_empty());
        let err = "colour,blur".parse::<Policy>().unwrap_err();
        assert!(err.contains("blur"), "{err}");
    }

    #[test]
    fn draws_are_in_the_reference_ranges() {
        let d = Draws::draw(500, 32, 24, 9);
        let (sy, sx) = (max_shift(32) as f32, max_shift(24) as f32);
        assert_eq!((sy, sx), (4.0, 3.0));
        assert!(
            d.row(row::SHIFT_Y)
                .iter()
                .all(|v| v.abs() <= sy && v.fract() == 0.0)
        );
        assert!(
            d.row(row::SHIFT_X)
                .iter()
                .all(|v| v.abs() <= sx && v.fract() == 0.0)
        );
        // both extremes are drawn
        assert!(d.row(row::SHIFT_Y).contains(&-sy) && d.row(row::SHIFT_Y).contains(&sy));
        // corner = offset − 8 with offset in [0, 32]: [-8, 24]
        let cut = d.row(row::CUT_Y);
        assert!(cut.iter().all(|&v| (-8.0..=24.0).contains(&v)));
        assert!(cut.contains(&-8.0) && cut.contains(&24.0));
        for r in [row::BRIGHTNESS, row::GATE_CUTOUT] {
            assert!(d.row(r).iter().all(|v| (0.0..1.0).contains(v)));
        }
        assert_eq!(
            d,
            Draws::draw(500, 32, 24, 9),
            "the same seed draws the same"
        );
        assert_ne!(d, Draws::draw(500, 32, 24, 10));
    }
}
