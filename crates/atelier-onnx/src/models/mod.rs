//! Model descriptions: one file per network, each a function from the network's config to a
//! [`Model`] that lists its layers by their state_dict names. Exporting a new network is a file
//! here and a line in [`crate::detect`] that recognises its checkpoint.

pub mod cyclegan;
pub mod dcgan;
pub mod transformer_net;
