//! Sequential: layers applied in order, named by their index as in PyTorch (`0.weight`,
//! `1.running_mean`, ...). A BatchNorm2d directly followed by a ReLU or LeakyReLU runs as one
//! fused kernel (`BatchNorm2d::forward_act`); the layers and their names stay as they are.

use std::any::Any;

use atelier_tensor::Tensor;

use super::{BatchNorm2d, LeakyReLU, ReLU};
use crate::module::{Module, prefixed};

#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer (builder style).
    pub fn with(mut self, layer: impl Module) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    pub fn push(&mut self, layer: impl Module) {
        self.layers.push(Box::new(layer));
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    pub fn layer(&self, i: usize) -> &dyn Module {
        &*self.layers[i]
    }
}

/// The slope of `layer` as a LeakyReLU (0 for a ReLU) when it is one that
/// [`BatchNorm2d::forward_act`] can fuse (slope at least 0).
fn fusable_activation(layer: &dyn Module) -> Option<f32> {
    let any = layer as &dyn Any;
    if any.is::<ReLU>() {
        return Some(0.0);
    }
    any.downcast_ref::<LeakyReLU>()
        .map(|l| l.0)
        .filter(|&slope| slope >= 0.0)
}

impl Module for Sequential {
    /// The layers in order, except that a BatchNorm2d directly followed by a ReLU or
    /// LeakyReLU runs as one fused layer ([`BatchNorm2d::forward_act`]; the same values).
    fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.clone();
        let mut i = 0;
        while i < self.layers.len() {
            let layer = &*self.layers[i];
            let bn = (layer as &dyn Any).downcast_ref::<BatchNorm2d>();
            let act = self
                .layers
                .get(i + 1)
                .and_then(|l| fusable_activation(&**l));
            if let (Some(bn), Some(slope)) = (bn, act) {
                h = bn.forward_act(&h, slope);
                i += 2;
            } else {
                h = layer.forward(&h);
                i += 1;
            }
        }
        h
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.named_parameters()))
            .collect()
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.named_buffers()))
            .collect()
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.named_tensors()))
            .collect()
    }

    fn set_training(&self, training: bool) {
        self.layers.iter().for_each(|l| l.set_training(training));
    }

    fn children(&self) -> Vec<&dyn Module> {
        self.layers.iter().map(|l| &**l).collect()
    }
}
