//! atelier-benches: the shapes that matter and what running a kernel at them costs, shared by
//! the criterion benchmarks in `benches/` (`cargo bench -p atelier-benches`) and the benchmark
//! suite (`cargo xtask bench`), so both time the same work and count it the same way.
//!
//! - [`shapes`]: the DCGAN layers (pytorch/examples, 64×64 images, ngf = ndf = 64) and the
//!   VGG-19 3×3 convolutions, batchnorm and matmul sizes.
//! - [`work`]: the FLOPs and the compulsory bytes of one run, with the formula per family.
//! - [`inputs`]: random input buffers, and how many copies to rotate through so caches don't
//!   flatter.
//! - [`timing`]: GPU time of a number of runs (timestamp queries, or wall clock around a
//!   synchronised submit where the adapter has none), for criterion's `iter_custom`.

pub mod inputs;
pub mod shapes;
pub mod timing;
pub mod work;
