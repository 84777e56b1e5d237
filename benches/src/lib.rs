//! atelier-benches: how the benchmarks clock the GPU, shared by the criterion benchmarks in
//! `benches/` (`cargo bench -p atelier-benches`) and the benchmark suite (`cargo xtask bench`),
//! so both time the same work the same way. The shapes, their work counts and the random
//! inputs live with the kernel families (`atelier_kernels::harness`, each family's
//! `bench.rs`).
//!
//! - [`timing`]: GPU time of a number of runs (timestamp queries, or wall clock around a
//!   synchronised submit where the adapter has none), for criterion's `iter_custom`.

pub mod timing;
