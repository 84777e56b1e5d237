//! ReflectionPad2d: padding by mirroring the border, as PyTorch's (no state).

use atelier_tensor::Tensor;

use crate::module::Module;

/// Pads every side by the same number of pixels, mirrored at the border (the edge pixel is
/// not repeated), as `nn.ReflectionPad2d(pad)`.
#[derive(Clone, Copy, Debug)]
pub struct ReflectionPad2d(pub usize);

impl Module for ReflectionPad2d {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.reflection_pad2d([self.0; 4])
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
}
