//! The timestamp profiler's bookkeeping: every dispatch is attributed to its kernel, in order,
//! across a flush forced by a full query set. (Its own test binary: profiling is process-wide.)

use atelier_kernels::context::gpu_for_tests;
use atelier_kernels::elementwise::{self, UnaryOp};
use atelier_kernels::profiler::QUERIES;
use atelier_kernels::{GpuBuffer, gpu};

#[test]
fn dispatches_are_attributed_to_their_kernels() {
    if !gpu_for_tests() {
        return;
    }
    let g = gpu();
    if !g.enable_profiling(true) {
        eprintln!("skipping: {} has no TIMESTAMP_QUERY", g.info.name);
        return;
    }
    let x = GpuBuffer::uninit(1000);
    let y = GpuBuffer::uninit(1000);
    g.take_dispatch_times();

    // more passes than the query set holds, so the recorder flushes in the middle
    let fills = QUERIES as usize / 2 + 10;
    for _ in 0..fills {
        elementwise::fill(&x, 1.0);
    }
    elementwise::unary(UnaryOp::Relu, 0.0, &x, &y);
    let times = g.take_dispatch_times();
    assert_eq!(times.len(), fills + 1);
    assert!(
        times[..fills]
            .iter()
            .all(|t| t.kernel == ("elementwise/elementwise.wgsl", "fill"))
    );
    assert_eq!(
        times[fills].kernel,
        ("elementwise/elementwise.wgsl", "unary")
    );
    assert!(times.iter().all(|t| t.ns.is_finite() && t.ns >= 0.0));
    assert!(g.take_dispatch_times().is_empty());

    let profile = g.profile().expect("profiling is on");
    let calls = |name: &str| {
        profile
            .kernels
            .iter()
            .find(|(k, _)| k == name)
            .map_or(0, |(_, t)| t.calls)
    };
    assert!(calls("elementwise/elementwise.wgsl::fill") >= fills as u64);
    assert_eq!(calls("elementwise/elementwise.wgsl::unary"), 1);
    assert!(
        profile
            .to_string()
            .contains("elementwise/elementwise.wgsl::unary")
    );
}
