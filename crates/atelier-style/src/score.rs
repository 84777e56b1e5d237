//! Scoring a result by what style transfer is for: its style loss against the painting
//! (compared with the photo's own) and its content loss against the photo (compared with the
//! painting's own), unweighted, at the result's size, with the same features.

use image::Rgb32FImage;

use crate::image_io::{fit_long_side, image_to_tensor, resize};
use crate::loss::{LossValues, LossWeights, PerceptualLoss};
use crate::vgg::Vgg19;

/// Unweighted losses of the photo, the painting and the result.
#[derive(Clone, Copy, Debug)]
pub struct Scores {
    /// The photo itself: content loss 0, style loss the baseline.
    pub photo: LossValues,
    /// The painting, resized to the photo's size.
    pub painting: LossValues,
    pub result: LossValues,
}

impl Scores {
    /// The result's style loss as a fraction of the photo's.
    pub fn style_ratio(&self) -> f32 {
        self.result.style / self.photo.style
    }

    /// The result's content loss as a fraction of the painting's.
    pub fn content_ratio(&self) -> f32 {
        self.result.content / self.painting.content
    }
}

/// Scores `result` against `content` (resized to the result's size) and `style` (resized to
/// the result's longer side, its own aspect ratio kept, as the transfer sees it).
pub fn score(
    vgg: &Vgg19,
    content: &Rgb32FImage,
    style: &Rgb32FImage,
    result: &Rgb32FImage,
) -> Scores {
    let device = vgg.device();
    let (w, h) = result.dimensions();
    let (sw, sh) = fit_long_side(style.width(), style.height(), w.max(h));
    let unweighted = LossWeights {
        content: 1.0,
        style: 1.0,
        tv: 0.0,
    };
    let loss = PerceptualLoss::new(
        vgg,
        &image_to_tensor(&resize(style, sw, sh), device),
        unweighted,
    );
    let photo = image_to_tensor(&resize(content, w, h), device);
    let target = loss.content_target(&photo);
    let measure =
        |img: &Rgb32FImage| loss.measure(&image_to_tensor(&resize(img, w, h), device), &target);
    Scores {
        photo: loss.measure(&photo, &target),
        painting: measure(style),
        result: measure(result),
    }
}
