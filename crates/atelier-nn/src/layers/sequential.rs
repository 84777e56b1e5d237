//! Sequential: layers applied in order, named by their index as in PyTorch (`0.weight`,
//! `1.running_mean`, ...).

use atelier_tensor::Tensor;

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
    pub fn add(mut self, layer: impl Module) -> Sequential {
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

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.layers
            .iter()
            .fold(x.clone(), |h, layer| layer.forward(&h))
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
