//! Whether tensors hold only finite numbers, checked on their device with one scalar read:
//! `x · 0` is 0 for a finite x and NaN for a NaN or an infinity, so the sum over every tensor
//! of `sum(x · 0)` is NaN exactly when some element somewhere is not finite. No new kernel, no
//! read-back of the tensors themselves; meant for checkpoints, not for every step.

use atelier_tensor::{Device, Tensor, no_grad};

/// The name of the first tensor that holds a NaN or an infinity, or `None` when all are
/// finite. One read-back when all are finite; one more per tensor to find the culprit when not.
pub fn find_non_finite(tensors: &[(String, Tensor)]) -> Option<String> {
    no_grad(|| {
        let zeroed = |t: &Tensor| t.mul_scalar(0.0).sum_all();
        // one sum per device (a module may keep small buffers, such as counters, on the host)
        let all_finite = [Device::Gpu, Device::Cpu].into_iter().all(|device| {
            tensors
                .iter()
                .filter(|(_, t)| t.device() == device)
                .map(|(_, t)| zeroed(t))
                .reduce(|a, b| a.add(&b))
                .is_none_or(|total| total.item().is_finite())
        });
        if all_finite {
            return None;
        }
        tensors
            .iter()
            .find(|(_, t)| !zeroed(t).item().is_finite())
            .map(|(name, _)| name.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_on(device: Device) {
        let ok = Tensor::from_vec(vec![1.0, -2.0, 3e38, 0.0], &[4], device);
        let named = |t: &Tensor, n: &str| (n.to_string(), t.clone());
        assert_eq!(find_non_finite(&[named(&ok, "a")]), None);
        let host = Tensor::from_vec(vec![f32::NAN], &[1], Device::Cpu);
        let mixed = [named(&ok, "a"), named(&host, "counter")];
        assert_eq!(find_non_finite(&mixed).as_deref(), Some("counter"));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let t = Tensor::from_vec(vec![1.0, bad, 2.0], &[3], device);
            let found = find_non_finite(&[named(&ok, "a"), named(&t, "b"), named(&ok, "c")]);
            assert_eq!(found.as_deref(), Some("b"), "{bad}");
        }
    }

    #[test]
    fn nan_and_infinities_are_found_on_the_cpu() {
        check_on(Device::Cpu);
    }

    #[test]
    fn nan_and_infinities_are_found_on_the_gpu() {
        if atelier_kernels::context::gpu_for_tests() {
            check_on(Device::Gpu);
        }
    }
}
