//! DiffAugment: each transform keeps the shape, stays in the range its definition allows,
//! is fixed by the seed, lets gradients through (checked against finite differences in f64),
//! does nothing where p = 0, and gives the same images on the GPU as on the CPU.

use atelier_gan::augment::{DiffAugment, Draws, Policy, cutout_size, max_shift, row};
use atelier_tensor::gradcheck;
use atelier_tensor::{DType, Device, Tensor};

const N: usize = 5;
const C: usize = 3;
const H: usize = 8;
const W: usize = 6;

fn images(seed: u64, device: Device) -> Tensor {
    Tensor::rand_uniform(&[N, C, H, W], -1.0, 1.0, seed, device)
}

fn policy(s: &str) -> Policy {
    s.parse().unwrap()
}

fn apply(p: Policy, x: &Tensor, seed: u64, prob: f32) -> Tensor {
    let d = Draws::draw(N, H, W, seed).tensor(x.device(), x.dtype());
    let p_t = Tensor::full(&[1], prob, x.device());
    let p_t = if x.dtype() == DType::F64 {
        p_t.to_f64()
    } else {
        p_t
    };
    DiffAugment::new(p).apply(x, &d, &p_t)
}

fn image(v: &[f32], i: usize) -> &[f32] {
    &v[i * C * H * W..(i + 1) * C * H * W]
}

#[test]
fn every_policy_keeps_the_shape_and_is_fixed_by_the_seed() {
    let x = images(1, Device::Cpu);
    for s in ["color", "translation", "cutout", "color,translation,cutout"] {
        let a = apply(policy(s), &x, 7, 1.0);
        assert_eq!(a.shape(), x.shape(), "{s}");
        assert_eq!(
            a.to_vec(),
            apply(policy(s), &x, 7, 1.0).to_vec(),
            "{s}: same seed"
        );
        assert_ne!(
            a.to_vec(),
            apply(policy(s), &x, 8, 1.0).to_vec(),
            "{s}: other seed"
        );
        assert_ne!(a.to_vec(), x.to_vec(), "{s} changes the images");
    }
}

#[test]
fn translation_moves_whole_images_by_at_most_an_eighth_with_zero_fill() {
    let x = images(2, Device::Cpu);
    let draws = Draws::draw(N, H, W, 11);
    let y = apply(policy("translation"), &x, 11, 1.0).to_vec();
    let xv = x.to_vec();
    for i in 0..N {
        let (dy, dx) = (
            draws.row(row::SHIFT_Y)[i] as i64,
            draws.row(row::SHIFT_X)[i] as i64,
        );
        assert!(dy.unsigned_abs() as usize <= max_shift(H));
        assert!(dx.unsigned_abs() as usize <= max_shift(W));
        for c in 0..C {
            for r in 0..H as i64 {
                for col in 0..W as i64 {
                    let got = image(&y, i)[(c * H + r as usize) * W + col as usize];
                    let (sr, sc) = (r + dy, col + dx);
                    let want = if (0..H as i64).contains(&sr) && (0..W as i64).contains(&sc) {
                        image(&xv, i)[(c * H + sr as usize) * W + sc as usize]
                    } else {
                        0.0
                    };
                    assert_eq!(got, want, "image {i} ({dy}, {dx}) at {c},{r},{col}");
                }
            }
        }
    }
}

#[test]
fn cutout_zeroes_one_clipped_square_of_half_the_size_per_image() {
    let x = Tensor::ones(&[N, C, H, W], Device::Cpu);
    let draws = Draws::draw(N, H, W, 5);
    let y = apply(policy("cutout"), &x, 5, 1.0).to_vec();
    let (ch, cw) = (cutout_size(H) as i64, cutout_size(W) as i64);
    for i in 0..N {
        let (top, left) = (
            draws.row(row::CUT_Y)[i] as i64,
            draws.row(row::CUT_X)[i] as i64,
        );
        for c in 0..C {
            for r in 0..H as i64 {
                for col in 0..W as i64 {
                    let inside = (top..top + ch).contains(&r) && (left..left + cw).contains(&col);
                    let got = image(&y, i)[(c * H + r as usize) * W + col as usize];
                    assert_eq!(got, if inside { 0.0 } else { 1.0 }, "image {i}");
                }
            }
        }
    }
}

#[test]
fn colour_stays_within_what_its_factors_allow() {
    // brightness adds at most 0.5; saturation scales the distance to the channel mean by at
    // most 2, contrast the distance to the image mean by at most 1.5: from [-1, 1] the result
    // lies within [-1.5 - 2·1.5·2.5, ...] and here, more usefully, stays finite and moves
    let x = images(3, Device::Cpu);
    let y = apply(policy("color"), &x, 3, 1.0).to_vec();
    let bound = 1.5 + 1.5 * 2.0 * 3.0;
    assert!(y.iter().all(|v| v.is_finite() && v.abs() <= bound));
    // a grey constant image only changes brightness (saturation and contrast keep constants)
    let grey = Tensor::full(&[N, C, H, W], 0.25, Device::Cpu);
    let draws = Draws::draw(N, H, W, 4);
    let g = apply(policy("color"), &grey, 4, 1.0).to_vec();
    for i in 0..N {
        let want = 0.25 + draws.row(row::BRIGHTNESS)[i] - 0.5;
        assert!(
            image(&g, i).iter().all(|v| (v - want).abs() < 1e-6),
            "image {i}"
        );
    }
}

#[test]
fn with_p_zero_nothing_changes() {
    let x = images(4, Device::Cpu);
    let y = apply(Policy::ALL, &x, 9, 0.0);
    let err = y
        .to_vec()
        .iter()
        .zip(x.to_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-6, "{err}");
}

#[test]
fn gradients_flow_through_every_transform() {
    // small images in f64: finite differences of the whole policy against autograd
    let (n, c, h, w) = (2, 3, 5, 4);
    let x = Tensor::rand_uniform(&[n, c, h, w], -1.0, 1.0, 6, Device::Cpu).to_f64();
    for s in ["color", "translation", "cutout", "color,translation,cutout"] {
        let aug = DiffAugment::new(policy(s));
        let d = Draws::draw(n, h, w, 21).tensor(Device::Cpu, DType::F64);
        let p = Tensor::from_f64(vec![1.0], &[1]);
        let check = gradcheck::check(|xs| aug.apply(&xs[0], &d, &p), std::slice::from_ref(&x));
        assert!(
            check.max_relative_error < 1e-6,
            "{s}: relative error {}",
            check.max_relative_error
        );
    }
}

#[test]
fn the_gpu_augments_as_the_cpu_does() {
    if !atelier_tests::devices().contains(&Device::Gpu) {
        return;
    }
    let x = images(5, Device::Cpu);
    let cpu = apply(Policy::ALL, &x, 13, 0.7);
    let gpu = apply(Policy::ALL, &x.to_device(Device::Gpu), 13, 0.7);
    let e = atelier_tests::rel_err(
        &gpu.to_vec(),
        &cpu.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>(),
    );
    assert!(e < 1e-5, "{e}");
    // and the gradient reaches the input on the GPU too
    let xg = x.to_device(Device::Gpu).requires_grad_(true);
    apply(Policy::ALL, &xg, 13, 1.0).sum_all().backward();
    let g = xg.grad().expect("a gradient").to_vec();
    assert!(g.iter().any(|&v| v != 0.0) && g.iter().all(|v| v.is_finite()));
}
