//! [`ImageSet`]: a dataset of fixed-size images, each handed out as C×H×W floats in [-1, 1].

/// A dataset of `len()` images, all `channels() × size() × size()`.
///
/// Pixels are f32 in [-1, 1] (the range of DCGAN's tanh output), laid out channel-major
/// (C, H, W) so a batch of them is NCHW. Implementations are `Send + Sync` so the
/// [`Batcher`](crate::Batcher) can read them from its background thread.
pub trait ImageSet: Send + Sync {
    /// Number of images.
    fn len(&self) -> usize;

    /// 1 (grey) or 3 (RGB).
    fn channels(&self) -> usize;

    /// Height and width (images are square).
    fn size(&self) -> usize;

    /// Writes image `i` into `out` (length `channels() * size() * size()`).
    fn get_into(&self, i: usize, out: &mut [f32]);

    /// Writes image `i` as draw number `draw` gives it (`draw` seeds whatever is random about
    /// an image: a random crop, a flip, a random pick). Sets without randomness ignore it,
    /// which is the default. The [`Batcher`](crate::Batcher) derives each draw from (seed,
    /// epoch, place in the epoch), so a resumed run draws the same.
    fn get_drawn(&self, i: usize, draw: u64, out: &mut [f32]) {
        let _ = draw;
        self.get_into(i, out)
    }

    /// Image `i` as a new vector of `channels() * size() * size()` floats.
    fn get(&self, i: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.image_len()];
        self.get_into(i, &mut out);
        out
    }

    /// Floats in one image: `channels() * size() * size()`.
    fn image_len(&self) -> usize {
        self.channels() * self.size() * self.size()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short description for logs and config.json, e.g. `folder art/ (212 images, RGB 64×64)`.
    fn describe(&self) -> String;
}
