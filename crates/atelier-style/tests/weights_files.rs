//! VGG-19 weights files: torchvision's keys, errors that name the key and the shapes; and
//! TransformerNet checkpoints: PyTorch's state_dict keys and shapes, round trips.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use atelier_style::TransformerNet;
use atelier_style::vgg::Vgg19;
use atelier_style::weights::{WeightsFile, write_tensors};
use atelier_tensor::{Conv2dParams, Device, Tensor};

fn temp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn write(path: &Path, tensors: &[(&str, Tensor)]) {
    let named: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(k, t)| (k.to_string(), t.clone()))
        .collect();
    write_tensors(path, &named, HashMap::new()).unwrap();
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 0.1, seed, Device::Cpu)
}

#[test]
fn vgg_reads_torchvision_keys() {
    let path = temp("vgg_first_block.safetensors");
    let (w0, b0) = (randn(&[64, 3, 3, 3], 1), randn(&[64], 2));
    let (w2, b2) = (randn(&[64, 64, 3, 3], 3), randn(&[64], 4));
    write(
        &path,
        &[
            ("features.0.weight", w0.clone()),
            ("features.0.bias", b0.clone()),
            ("features.2.weight", w2.clone()),
            ("features.2.bias", b2.clone()),
            // what a converted file also holds, beyond the layers needed: ignored
            ("features.5.weight", randn(&[128, 64, 3, 3], 5)),
        ],
    );
    let vgg = Vgg19::load(&path, "relu1_2", Device::Cpu).unwrap();
    let x = Tensor::rand_uniform(&[1, 3, 8, 8], 0.0, 1.0, 6, Device::Cpu);
    let got = vgg.extract(&x, &["relu1_2"]).remove(0).to_vec();
    // by hand: ImageNet normalisation, conv, relu, conv, relu
    let mean = Tensor::from_vec(vec![0.485, 0.456, 0.406], &[1, 3, 1, 1], Device::Cpu);
    let std = Tensor::from_vec(vec![0.229, 0.224, 0.225], &[1, 3, 1, 1], Device::Cpu);
    let p = Conv2dParams::new(1, 1);
    let want = x
        .sub(&mean)
        .div(&std)
        .conv2d(&w0, Some(&b0), p)
        .relu()
        .conv2d(&w2, Some(&b2), p)
        .relu()
        .to_vec();
    assert_eq!(got, want);
}

#[test]
fn vgg_errors_name_the_key_and_the_shapes() {
    let path = temp("vgg_wrong_shape.safetensors");
    write(
        &path,
        &[
            ("features.0.weight", randn(&[64, 3, 3, 3], 1)),
            ("features.0.bias", randn(&[64], 2)),
            ("features.2.weight", randn(&[64, 32, 3, 3], 3)),
        ],
    );
    let err = Vgg19::load(&path, "relu1_2", Device::Cpu)
        .err()
        .expect("a wrong shape is an error")
        .to_string();
    assert!(
        err.contains("features.2.weight")
            && err.contains("[64, 32, 3, 3]")
            && err.contains("[64, 64, 3, 3]"),
        "{err}"
    );
    assert!(err.contains("vgg_wrong_shape.safetensors"), "{err}");

    let path = temp("vgg_missing_key.safetensors");
    write(&path, &[("features.0.weight", randn(&[64, 3, 3, 3], 1))]);
    let err = Vgg19::load(&path, "relu1_1", Device::Cpu)
        .err()
        .expect("a missing key is an error")
        .to_string();
    assert!(
        err.contains("missing key features.0.bias") && err.contains("[64]"),
        "{err}"
    );

    let err = Vgg19::load(&temp("no_such_file.safetensors"), "relu1_1", Device::Cpu)
        .err()
        .expect("a missing file is an error")
        .to_string();
    assert!(err.contains("no_such_file.safetensors"), "{err}");
}

/// `TransformerNet().state_dict()` of pytorch/examples
/// fast_neural_style/neural_style/transformer_net.py: every key and shape, in order
/// (InstanceNorm2d(affine=True) keeps no running statistics; nn.Upsample has no parameters).
#[rustfmt::skip]
const PYTORCH_STATE_DICT: [(&str, &[usize]); 62] = [
    ("conv1.conv2d.weight", &[32, 3, 9, 9]),
    ("conv1.conv2d.bias", &[32]),
    ("in1.weight", &[32]),
    ("in1.bias", &[32]),
    ("conv2.conv2d.weight", &[64, 32, 3, 3]),
    ("conv2.conv2d.bias", &[64]),
    ("in2.weight", &[64]),
    ("in2.bias", &[64]),
    ("conv3.conv2d.weight", &[128, 64, 3, 3]),
    ("conv3.conv2d.bias", &[128]),
    ("in3.weight", &[128]),
    ("in3.bias", &[128]),
    ("res1.conv1.conv2d.weight", &[128, 128, 3, 3]),
    ("res1.conv1.conv2d.bias", &[128]),
    ("res1.in1.weight", &[128]),
    ("res1.in1.bias", &[128]),
    ("res1.conv2.conv2d.weight", &[128, 128, 3, 3]),
    ("res1.conv2.conv2d.bias", &[128]),
    ("res1.in2.weight", &[128]),
    ("res1.in2.bias", &[128]),
    ("res2.conv1.conv2d.weight", &[128, 128, 3, 3]),
    ("res2.conv1.conv2d.bias", &[128]),
    ("res2.in1.weight", &[128]),
    ("res2.in1.bias", &[128]),
    ("res2.conv2.conv2d.weight", &[128, 128, 3, 3]),
    ("res2.conv2.conv2d.bias", &[128]),
    ("res2.in2.weight", &[128]),
    ("res2.in2.bias", &[128]),
    ("res3.conv1.conv2d.weight", &[128, 128, 3, 3]),
    ("res3.conv1.conv2d.bias", &[128]),
    ("res3.in1.weight", &[128]),
    ("res3.in1.bias", &[128]),
    ("res3.conv2.conv2d.weight", &[128, 128, 3, 3]),
    ("res3.conv2.conv2d.bias", &[128]),
    ("res3.in2.weight", &[128]),
    ("res3.in2.bias", &[128]),
    ("res4.conv1.conv2d.weight", &[128, 128, 3, 3]),
    ("res4.conv1.conv2d.bias", &[128]),
    ("res4.in1.weight", &[128]),
    ("res4.in1.bias", &[128]),
    ("res4.conv2.conv2d.weight", &[128, 128, 3, 3]),
    ("res4.conv2.conv2d.bias", &[128]),
    ("res4.in2.weight", &[128]),
    ("res4.in2.bias", &[128]),
    ("res5.conv1.conv2d.weight", &[128, 128, 3, 3]),
    ("res5.conv1.conv2d.bias", &[128]),
    ("res5.in1.weight", &[128]),
    ("res5.in1.bias", &[128]),
    ("res5.conv2.conv2d.weight", &[128, 128, 3, 3]),
    ("res5.conv2.conv2d.bias", &[128]),
    ("res5.in2.weight", &[128]),
    ("res5.in2.bias", &[128]),
    ("deconv1.conv2d.weight", &[64, 128, 3, 3]),
    ("deconv1.conv2d.bias", &[64]),
    ("in4.weight", &[64]),
    ("in4.bias", &[64]),
    ("deconv2.conv2d.weight", &[32, 64, 3, 3]),
    ("deconv2.conv2d.bias", &[32]),
    ("in5.weight", &[32]),
    ("in5.bias", &[32]),
    ("deconv3.conv2d.weight", &[3, 32, 9, 9]),
    ("deconv3.conv2d.bias", &[3]),
];

#[test]
fn transformer_net_has_pytorchs_state_dict() {
    let net = TransformerNet::new(0, Device::Cpu);
    let got: Vec<(String, Vec<usize>)> = net
        .named_parameters()
        .into_iter()
        .map(|(k, t)| (k, t.shape().to_vec()))
        .collect();
    let want: Vec<(String, Vec<usize>)> = PYTORCH_STATE_DICT
        .iter()
        .map(|(k, s)| (k.to_string(), s.to_vec()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn transformer_net_round_trips_through_safetensors() {
    let net = TransformerNet::new(3, Device::Cpu);
    let path = temp("transformer_net.safetensors");
    net.save(
        &path,
        &HashMap::from([("atelier.style".into(), "test".into())]),
    )
    .unwrap();
    let file = WeightsFile::read(&path).unwrap();
    assert_eq!(file.metadata.get("format").map(String::as_str), Some("pt"));
    assert_eq!(
        file.metadata.get("atelier.style").map(String::as_str),
        Some("test")
    );
    let back = TransformerNet::load(&path, Device::Cpu).unwrap();
    for ((k, a), (_, b)) in net.named_parameters().iter().zip(back.named_parameters()) {
        assert_eq!(a.to_vec(), b.to_vec(), "{k}");
    }
    // the same network computes the same image
    let x = Tensor::rand_uniform(&[1, 3, 12, 12], 0.0, 1.0, 4, Device::Cpu);
    assert_eq!(net.stylize(&x).to_vec(), back.stylize(&x).to_vec());

    // old pytorch/examples checkpoints carry InstanceNorm running statistics: ignored
    let mut named = net.named_parameters();
    named.push(("in1.running_mean".into(), Tensor::zeros(&[32], Device::Cpu)));
    write_tensors(&path, &named, HashMap::new()).unwrap();
    TransformerNet::load(&path, Device::Cpu).unwrap();

    // anything else is not a TransformerNet
    named.push(("fc.weight".into(), Tensor::zeros(&[2], Device::Cpu)));
    write_tensors(&path, &named, HashMap::new()).unwrap();
    let err = TransformerNet::load(&path, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("fc.weight"), "{err}");
}
