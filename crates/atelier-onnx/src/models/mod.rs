//! Model descriptions: one file per network, each a function from the network's config to a
//! [`Model`]. Adding a network (CycleGAN's ResnetGenerator, say) is adding a file here that
//! lists its layers by their state_dict names, and a line in [`crate::detect`].

pub mod dcgan;
pub mod transformer_net;
