//! Reductions longer than a software adapter's per-invocation loop limit still sum every
//! element: lavapipe silently ends a shader's loop after tens of thousands of iterations, so
//! a workgroup of 256 threads striding over 2^24 elements (65,536 each) would drop some.

use atelier_kernels::context::gpu_for_tests;
use atelier_tensor::{Device, Tensor};

#[test]
fn a_sum_over_sixteen_million_elements_counts_them_all() {
    if !gpu_for_tests() {
        return;
    }
    for len in [6_000_000usize, 1 << 24] {
        let ones = Tensor::ones(&[len], Device::Gpu);
        let total = ones.sum(&[0], false).item();
        assert_eq!(total, len as f32, "sum of {len} ones");
        let rows = Tensor::ones(&[2, len / 2], Device::Gpu);
        let per_row = rows.sum(&[1], false).to_vec();
        assert_eq!(
            per_row,
            vec![(len / 2) as f32; 2],
            "row sums of [2, {}] ones",
            len / 2
        );
    }
    // batch statistics' pattern: per channel over N, H, W (two reduced strides)
    let planes = Tensor::ones(&[8, 2, 512, 512], Device::Gpu);
    let per_channel = planes.sum(&[0, 2, 3], false).to_vec();
    assert_eq!(per_channel, vec![(8 * 512 * 512) as f32; 2]);
    // and the largest: max agrees too
    let ramp: Vec<f32> = (0..3_000_000).map(|i| (i % 1_000_003) as f32).collect();
    let t = Tensor::from_vec(ramp, &[3_000_000], Device::Gpu);
    assert_eq!(t.max(&[0], false).item(), 1_000_002.0);
}
