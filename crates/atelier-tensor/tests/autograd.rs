//! Autograd semantics: accumulation, no_grad, detach, requires_grad, freeing the graph, errors.

use atelier_tensor::{Device, Tensor, no_grad};

fn leaf(v: &[f32]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()], Device::Cpu).requires_grad_(true)
}

#[test]
fn gradients_accumulate_across_backward_calls() {
    let x = leaf(&[1.0, 2.0]);
    x.mul_scalar(3.0).sum_all().backward();
    x.mul_scalar(3.0).sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
}

#[test]
fn a_tensor_used_twice_gets_the_sum() {
    let x = leaf(&[3.0]);
    let y = x.mul(&x).add(&x); // dy/dx = 2x + 1 = 7
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![7.0]);
}

#[test]
fn no_grad_records_nothing() {
    let x = leaf(&[1.0]);
    let y = no_grad(|| x.mul_scalar(2.0));
    assert!(!y.requires_grad());
    assert!(y.grad_fn().is_none());
    // grad mode is restored afterwards
    assert_eq!(x.mul_scalar(2.0).grad_fn(), Some("mul_scalar"));
}

#[test]
fn detach_stops_gradients() {
    let x = leaf(&[2.0]);
    let y = x.mul(&x.detach()); // d/dx treats the detached copy as a constant: grad = 2
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0]);
}

#[test]
fn inputs_without_requires_grad_get_no_gradient() {
    let x = leaf(&[1.0, 2.0]);
    let c = Tensor::from_vec(vec![5.0, 6.0], &[2], Device::Cpu);
    x.mul(&c).sum_all().backward();
    assert!(c.grad().is_none());
    assert_eq!(x.grad().unwrap().to_vec(), vec![5.0, 6.0]);
}

#[test]
fn the_graph_is_freed_after_backward() {
    let x = leaf(&[1.0]);
    let h = x.exp();
    let y = h.mul_scalar(2.0).sum_all();
    assert!(h.grad_fn().is_some());
    y.backward();
    assert!(h.grad_fn().is_none(), "intermediate nodes are dropped");
    assert!(y.grad_fn().is_none());
}

#[test]
#[should_panic(expected = "backward: called on a tensor of shape [2]")]
fn backward_needs_a_scalar() {
    leaf(&[1.0, 2.0]).mul_scalar(2.0).backward();
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [4] do not broadcast")]
fn shape_errors_name_the_op_and_shapes() {
    let a = Tensor::zeros(&[2, 3], Device::Cpu);
    let b = Tensor::zeros(&[4], Device::Cpu);
    let _ = a.add(&b);
}

#[test]
#[should_panic(expected = "matmul: inner sizes differ")]
fn matmul_shape_error() {
    let a = Tensor::zeros(&[2, 3], Device::Cpu);
    let _ = a.matmul(&a);
}

#[test]
fn seeded_creation_is_deterministic_and_device_independent() {
    let a = Tensor::randn(&[100], 0.0, 1.0, 42, Device::Cpu).to_vec();
    let b = Tensor::randn(&[100], 0.0, 1.0, 42, Device::Cpu).to_vec();
    assert_eq!(a, b);
    let mean = a.iter().sum::<f32>() / 100.0;
    assert!(mean.abs() < 0.3, "randn mean {mean}");
    let u = Tensor::rand_uniform(&[1000], 2.0, 3.0, 1, Device::Cpu).to_vec();
    assert!(u.iter().all(|&v| (2.0..3.0).contains(&v)));
}
