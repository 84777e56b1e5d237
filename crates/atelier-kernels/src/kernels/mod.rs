//! One module per WGSL file; one launcher per entry point. Launchers record work into the
//! open encoder and never read back. Each has a twin of the same name in [`crate::reference`].

pub mod batchnorm;
pub mod conv2d;
pub mod conv_tune;
pub mod elementwise;
pub mod instance_norm;
pub mod layout;
pub mod matmul;
pub mod optim;
pub mod peak;
pub mod pool;
pub mod reduce;
pub mod resample;
pub mod translate;

/// Threads per workgroup for the one-invocation-per-element kernels.
pub const WG: u32 = 256;

/// Workgroups needed for `n` elements at `WG` per workgroup.
pub fn groups_for(n: usize) -> u32 {
    let g = n.div_ceil(WG as usize);
    u32::try_from(g).expect("atelier: too many workgroups")
}
