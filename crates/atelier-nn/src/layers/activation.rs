//! Activations: modules without state, so they can sit in a [`Sequential`](crate::Sequential).

use atelier_tensor::Tensor;

use crate::module::Module;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Module for $name {
            fn forward(&self, $x: &Tensor) -> Tensor {
                $body
            }
            fn named_parameters(&self) -> Vec<(String, Tensor)> {
                Vec::new()
            }
        }
    };
}

activation!(
    /// max(x, 0).
    ReLU,
    |x| x.relu()
);
activation!(
    /// tanh(x).
    Tanh,
    |x| x.tanh()
);
activation!(
    /// 1 / (1 + e^-x).
    Sigmoid,
    |x| x.sigmoid()
);

/// x for x > 0, slope·x otherwise (DCGAN's discriminator uses slope 0.2).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU(pub f32);

impl Module for LeakyReLU {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.leaky_relu(self.0)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
}
