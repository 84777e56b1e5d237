//! Modules on the CPU: names as PyTorch's state_dict, Linear's arithmetic, BatchNorm's
//! train/eval switch and counter, DCGAN initialisation statistics.

use atelier_nn::{BatchNorm2d, Conv2d, Init, LeakyReLU, Linear, Module, Sequential};
use atelier_tensor::{Device, Tensor};

fn names(m: &dyn Module) -> Vec<String> {
    m.named_tensors().into_iter().map(|(n, _)| n).collect()
}

#[test]
fn sequential_names_follow_pytorch() {
    let mut init = Init::new(Device::Cpu, 0);
    let net = Sequential::new()
        .with(Conv2d::new(&mut init, 3, 4, 3, 1, 1, true))
        .with(BatchNorm2d::new(&mut init, 4))
        .with(LeakyReLU(0.2))
        .with(Conv2d::new(&mut init, 4, 1, 3, 1, 1, false));
    assert_eq!(
        names(&net),
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked",
            "3.weight"
        ]
    );
    let params: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        params,
        ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight"]
    );
    assert!(net.parameters().iter().all(|p| p.requires_grad()));
}

#[test]
fn linear_is_x_times_w_transposed_plus_b() {
    let mut init = Init::new(Device::Cpu, 1);
    let lin = Linear::new(&mut init, 3, 2, true);
    lin.weight.write(&[1.0, 2.0, 3.0, -1.0, 0.0, 1.0]);
    lin.bias.as_ref().unwrap().write(&[0.5, -0.5]);
    let x = Tensor::from_vec(vec![1.0, 1.0, 1.0, 2.0, 0.0, -1.0], &[2, 3], Device::Cpu);
    assert_eq!(lin.forward(&x).to_vec(), [6.5, -0.5, -0.5, -3.5]);
}

#[test]
fn batchnorm_counts_batches_and_switches_to_running_statistics() {
    let mut init = Init::new(Device::Cpu, 2);
    let bn = BatchNorm2d::new(&mut init, 2);
    let x = Tensor::randn(&[4, 2, 3, 3], 3.0, 2.0, 7, Device::Cpu);
    let y = bn.forward(&x);
    assert_eq!(bn.batches_tracked(), 1);
    // training mode: normalised by the batch, mean ≈ 0
    let mean: f32 = y.to_vec().iter().sum::<f32>() / y.numel() as f32;
    assert!(mean.abs() < 1e-5, "{mean}");
    // the running mean moved 10% of the way to the batch mean (about 3)
    let rm = bn.running_mean.to_vec();
    assert!(rm.iter().all(|m| (0.2..0.4).contains(m)), "{rm:?}");

    bn.set_training(false);
    let y_eval = bn.forward(&x);
    assert_eq!(bn.batches_tracked(), 1, "evaluation does not count");
    // evaluation mode: (x − running_mean) / sqrt(running_var + eps), far from zero mean here
    let mean: f32 = y_eval.to_vec().iter().sum::<f32>() / y_eval.numel() as f32;
    assert!(mean > 1.0, "{mean}");
    assert_eq!(
        bn.running_mean.to_vec(),
        rm,
        "evaluation does not update statistics"
    );
}

#[test]
fn dcgan_init_draws_conv_weights_from_n_0_002_and_gamma_from_n_1_002() {
    let mut init = Init::new(Device::Cpu, 3);
    let net = Sequential::new()
        .with(Conv2d::new(&mut init, 64, 64, 4, 2, 1, false))
        .with(BatchNorm2d::new(&mut init, 512));
    atelier_nn::init::dcgan(&net, 9);
    let stats = |v: Vec<f32>| {
        let n = v.len() as f32;
        let mean = v.iter().sum::<f32>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
        (mean, var.sqrt())
    };
    let tensors = net.named_tensors();
    let (m, s) = stats(tensors[0].1.to_vec());
    assert!(m.abs() < 1e-3 && (s - 0.02).abs() < 1e-3, "conv {m} {s}");
    let (m, s) = stats(tensors[1].1.to_vec());
    assert!(
        (m - 1.0).abs() < 5e-3 && (s - 0.02).abs() < 3e-3,
        "gamma {m} {s}"
    );
    assert!(tensors[2].1.to_vec().iter().all(|&b| b == 0.0), "beta");
}

#[test]
fn instance_norm_without_affine_has_no_state_and_normalises_each_image() {
    use atelier_nn::{InstanceNorm2d, ReflectionPad2d};
    let mut init = Init::new(Device::Cpu, 4);
    let plain = InstanceNorm2d::new(&mut init, 3, false);
    assert!(names(&plain).is_empty());
    let affine = InstanceNorm2d::new(&mut init, 3, true);
    assert_eq!(names(&affine), ["weight", "bias"]);
    let x = Tensor::randn(&[2, 3, 5, 4], 2.0, 3.0, 8, Device::Cpu);
    let y = plain.forward(&x).to_vec();
    for plane in y.chunks(20) {
        let mean = plane.iter().sum::<f32>() / 20.0;
        let var = plane.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 20.0;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-3,
            "{mean} {var}"
        );
    }
    // with γ = 1 and β = 0 the affine one computes the same
    assert_eq!(affine.forward(&x).to_vec(), y);
    assert_eq!(
        ReflectionPad2d(2).forward(&x).shape(),
        [2, 3, 9, 8],
        "padded on all four sides"
    );
}

#[test]
fn normal_init_draws_weights_and_zeroes_biases() {
    let mut init = Init::new(Device::Cpu, 5);
    let net = Sequential::new()
        .with(Conv2d::new(&mut init, 16, 32, 3, 1, 1, true))
        .with(BatchNorm2d::new(&mut init, 32));
    atelier_nn::init::normal(&net, 0.02, 6);
    let stats = |v: &[f32]| {
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
        (mean, std)
    };
    let tensors: Vec<(String, Vec<f32>)> = net
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec()))
        .collect();
    let (mean, std) = stats(&tensors[0].1);
    assert!(
        mean.abs() < 2e-3 && (std - 0.02).abs() < 2e-3,
        "{mean} {std}"
    );
    assert!(tensors[1].1.iter().all(|&b| b == 0.0), "conv bias");
    let (mean, std) = stats(&tensors[2].1);
    assert!(
        (mean - 1.0).abs() < 0.01 && (std - 0.02).abs() < 0.01,
        "{mean} {std}"
    );
    assert!(tensors[3].1.iter().all(|&b| b == 0.0), "BatchNorm β");
}
