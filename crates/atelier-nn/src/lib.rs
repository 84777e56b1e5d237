//! atelier-nn: what models are built from. For now the optimizers; modules, initialisation
//! and checkpoints join as the models need them.

pub mod optim;

pub use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
