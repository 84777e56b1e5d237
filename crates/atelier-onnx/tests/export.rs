//! Exported files parse as ONNX ModelProtos with the expected graph: opset and IR version,
//! the op types in order, every parameter as an initializer under its state_dict name with
//! its shape and values, dynamic dims named, and every node input defined before use.
//! (That onnxruntime runs them and matches atelier to 1e-4 is checked by
//! scripts/check_onnx.py, which needs Python.)

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use atelier_gan::model::DcganConfig;
use atelier_gan::step::Dcgan;
use atelier_gan::trainer::{RunConfig, TrainConfig, TrainerState, checkpoint};
use atelier_nn::Module;
use atelier_onnx::proto::tensor_shape_proto::dimension::Value as DimValue;
use atelier_onnx::proto::{ModelProto, ValueInfoProto, type_proto};
use atelier_onnx::{Detected, detect, detect_in, export, save};
use atelier_tensor::{Device, Tensor};
use prost::Message;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn dims(v: &ValueInfoProto) -> Vec<String> {
    let Some(type_proto::Value::TensorType(t)) = &v.r#type.as_ref().unwrap().value else {
        panic!("{}: not a tensor", v.name)
    };
    t.shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| match d.value.as_ref().unwrap() {
            DimValue::DimValue(n) => n.to_string(),
            DimValue::DimParam(p) => p.clone(),
        })
        .collect()
}

/// Exports the checkpoint at `path` to a file and reads the file back.
fn round_trip(path: &Path, out: &str) -> (ModelProto, Detected) {
    let (model, weights, what) = detect(path).unwrap();
    let proto = export(&model, &weights, &[("source", "test".into())]).unwrap();
    let file = temp(out);
    save(&proto, &file).unwrap();
    let back = ModelProto::decode(&std::fs::read(&file).unwrap()[..]).unwrap();
    assert_eq!(back, proto);
    (back, what)
}

/// Every node's inputs exist before it; returns the op types in order.
fn check_wiring(m: &ModelProto) -> Vec<String> {
    let g = m.graph.as_ref().unwrap();
    let mut defined: HashSet<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
    defined.insert(&g.input[0].name);
    defined.insert("");
    for n in &g.node {
        for i in &n.input {
            assert!(
                defined.contains(i.as_str()),
                "{}: input {i:?} undefined",
                n.name
            );
        }
        defined.extend(n.output.iter().map(String::as_str));
    }
    assert_eq!(
        g.node.last().unwrap().output,
        vec![g.output[0].name.clone()]
    );
    assert_eq!((m.ir_version, m.opset_import[0].version), (8, 17));
    assert!(m.opset_import[0].domain.is_empty());
    g.node.iter().map(|n| n.op_type.clone()).collect()
}

/// initializer name → (dims, values).
fn initializers(m: &ModelProto) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    m.graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .filter(|t| t.data_type == 1)
        .map(|t| {
            let values = t
                .raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (
                t.name.clone(),
                (t.dims.iter().map(|&d| d as usize).collect(), values),
            )
        })
        .collect()
}

#[test]
fn dcgan_generator_exports_with_dynamic_batch_and_its_state_dict() {
    let config = DcganConfig {
        nz: 5,
        ngf: 2,
        ndf: 2,
        channels: 3,
        image_size: 32,
    };
    let model = Dcgan::new(config, Device::Cpu, 7, 2e-4);
    // give BatchNorm non-trivial running statistics, as a trained generator has
    for (name, t) in model.g.named_buffers() {
        if name.ends_with("running_var") {
            t.assign(&Tensor::rand_uniform(t.shape(), 0.5, 2.0, 3, Device::Cpu));
        }
    }
    let run = RunConfig {
        train: TrainConfig::default(),
        model: config,
        dataset: "test".into(),
        batches_per_epoch: 1,
        total_steps: 1,
    };
    let path = temp("dcgan.safetensors");
    checkpoint::save(&path, &model, &TrainerState::default(), &run).unwrap();

    let (m, what) = round_trip(&path, "dcgan.onnx");
    assert!(matches!(what, Detected::Dcgan(c) if c == config));
    let ops = check_wiring(&m);
    let stage = ["ConvTranspose", "BatchNormalization", "Relu"];
    let mut expected: Vec<&str> = stage.repeat(3);
    expected.extend(["ConvTranspose", "Tanh"]);
    assert_eq!(ops, expected);
    let g = m.graph.as_ref().unwrap();
    assert_eq!(dims(&g.input[0]), ["batch", "5", "1", "1"]);
    assert_eq!(dims(&g.output[0]), ["batch", "3", "32", "32"]);

    // every parameter and running statistic, under its state_dict name, with its values
    let inits = initializers(&m);
    let tensors: Vec<(String, Tensor)> = model
        .g
        .named_tensors()
        .into_iter()
        .filter(|(n, _)| !n.ends_with("num_batches_tracked"))
        .collect();
    assert_eq!(inits.len(), tensors.len());
    for (name, t) in tensors {
        let (shape, values) = &inits[&name];
        assert_eq!(shape, t.shape(), "{name}");
        assert_eq!(values, &t.to_vec(), "{name}");
    }
    let first = &g.node[0];
    let attr = |n: &str| {
        first
            .attribute
            .iter()
            .find(|a| a.name == n)
            .unwrap()
            .ints
            .clone()
    };
    assert_eq!(
        (attr("kernel_shape"), attr("strides"), attr("pads")),
        (vec![4, 4], vec![1, 1], vec![0; 4])
    );
    assert_eq!(
        g.node[3]
            .attribute
            .iter()
            .find(|a| a.name == "strides")
            .unwrap()
            .ints,
        [2, 2]
    );
}

#[test]
fn transformer_net_exports_fully_dynamic_with_every_parameter() {
    let net = atelier_style::TransformerNet::new(3, Device::Cpu);
    let path = temp("style.safetensors");
    net.save(&path, &HashMap::new()).unwrap();
    let (m, what) = round_trip(&path, "style.onnx");
    assert!(matches!(what, Detected::TransformerNet));
    let ops = check_wiring(&m);
    let count = |op: &str| ops.iter().filter(|o| *o == op).count();
    // 3 down + 10 in residual blocks + 3 up convolutions, each after a reflection pad
    assert_eq!((count("Conv"), count("Pad")), (16, 16));
    assert_eq!(
        (
            count("InstanceNormalization"),
            count("Resize"),
            count("Add")
        ),
        (15, 2, 5)
    );
    assert_eq!(count("Relu"), 3 + 5 + 2);
    assert_eq!(ops.first().map(String::as_str), Some("Pad"));
    assert_eq!(ops.last().map(String::as_str), Some("Conv"));
    let g = m.graph.as_ref().unwrap();
    assert_eq!(dims(&g.input[0]), ["batch", "3", "height", "width"]);
    assert_eq!(
        dims(&g.output[0]),
        ["batch", "3", "out_height", "out_width"]
    );

    let inits = initializers(&m);
    let params = net.named_parameters();
    for (name, t) in &params {
        let (shape, values) = &inits[name];
        assert_eq!(shape, t.shape(), "{name}");
        assert_eq!(values, &t.to_vec(), "{name}");
    }
    // besides the parameters: the two upsampling scales
    assert_eq!(inits.len(), params.len() + 2);
    let pad = &g.node[0];
    let mode = pad.attribute.iter().find(|a| a.name == "mode").unwrap();
    assert_eq!(mode.s, b"reflect");
}

/// The op types of a ResnetGenerator with `blocks` residual blocks, in order.
fn resnet_generator_ops(blocks: usize) -> Vec<&'static str> {
    let mut ops = vec!["Pad", "Conv", "InstanceNormalization", "Relu"];
    for _ in 0..2 {
        ops.extend(["Conv", "InstanceNormalization", "Relu"]);
    }
    for _ in 0..blocks {
        ops.extend(["Pad", "Conv", "InstanceNormalization", "Relu"]);
        ops.extend(["Pad", "Conv", "InstanceNormalization", "Add"]);
    }
    for _ in 0..2 {
        ops.extend(["ConvTranspose", "InstanceNormalization", "Relu"]);
    }
    ops.extend(["Pad", "Conv", "Tanh"]);
    ops
}

/// Every parameter of `g`, under its state_dict name, with its values, and nothing else but
/// the instance norms' constant scales and shifts.
fn check_parameters(m: &ModelProto, g: &dyn Module) {
    let inits = initializers(m);
    let params = g.named_parameters();
    for (name, t) in &params {
        let (shape, values) = &inits[name];
        assert_eq!(shape, t.shape(), "{name}");
        assert_eq!(values, &t.to_vec(), "{name}");
    }
    let constants: Vec<&String> = inits
        .keys()
        .filter(|k| !params.iter().any(|(n, _)| n == *k))
        .collect();
    assert!(
        constants.iter().all(|k| k.contains("instance_norm")),
        "{constants:?}"
    );
}

#[test]
fn cyclegan_generators_export_from_a_checkpoint_and_from_a_bare_state_dict() {
    use atelier_cyclegan::apply::Direction;
    use atelier_cyclegan::trainer::{self, RunConfig, TrainConfig, TrainerState};
    use atelier_cyclegan::{CycleGan, CycleGanConfig, GeneratorConfig};

    // grey A, RGB B: the two generators differ in their channels
    let config = CycleGanConfig {
        nc_a: 1,
        nc_b: 3,
        ngf: 2,
        ndf: 2,
        n_blocks: 2,
        n_layers_d: 1,
    };
    let train = TrainConfig {
        lambda_identity: 0.0,
        ..TrainConfig::default()
    };
    let model = CycleGan::new(
        config,
        train.losses(),
        Device::Cpu,
        5,
        atelier_cyclegan::step::cyclegan_adam(2e-4, 0.5),
    );
    let run = RunConfig {
        total_steps: 1,
        model: config,
        dataset_a: "a".into(),
        dataset_b: "b".into(),
        epoch_len: 1,
        batches_per_epoch: 1,
        train,
    };
    let path = temp("cyclegan.safetensors");
    trainer::checkpoint::save(&path, &model, &TrainerState::default(), &run).unwrap();

    // G_A by default, G_B when asked
    for (direction, g, (c_in, c_out)) in [
        (None, &model.g_a, (1, 3)),
        (Some(Direction::BtoA), &model.g_b, (3, 1)),
    ] {
        let (m, w, what) = match direction {
            None => detect(&path).unwrap(),
            Some(d) => detect_in(&path, d).unwrap(),
        };
        let expected = GeneratorConfig {
            input_nc: c_in,
            output_nc: c_out,
            ngf: 2,
            n_blocks: 2,
        };
        let net = direction.unwrap_or(Direction::AtoB);
        assert!(
            matches!(what, Detected::CycleGan { direction: Some(d), config } if d == net && config == expected),
            "{direction:?}"
        );
        let proto = export(&m, &w, &[]).unwrap();
        let file = temp(&format!("{}.onnx", net.net()));
        save(&proto, &file).unwrap();
        let back = ModelProto::decode(&std::fs::read(&file).unwrap()[..]).unwrap();
        assert_eq!(check_wiring(&back), resnet_generator_ops(2));
        let graph = back.graph.as_ref().unwrap();
        assert_eq!(
            dims(&graph.input[0]),
            ["batch", &c_in.to_string(), "height", "width"]
        );
        assert_eq!(
            dims(&graph.output[0]),
            ["batch", &c_out.to_string(), "out_height", "out_width"]
        );
        check_parameters(&back, g);
    }

    // one generator's state_dict as pytorch-CycleGAN-and-pix2pix saves it (latest_net_G.pth),
    // with the instance-norm buffers old PyTorch versions left in it: its block count and
    // channels come from the keys
    let mut tensors: Vec<(String, atelier_pth::Tensor)> = model
        .g_b
        .named_parameters()
        .into_iter()
        .map(|(k, t)| (k, atelier_pth::Tensor::f32(t.shape().to_vec(), t.to_vec())))
        .collect();
    tensors.push((
        "model.2.running_mean".into(),
        atelier_pth::Tensor::f32(vec![2], vec![0.0; 2]),
    ));
    let pth = temp("latest_net_G.pth");
    atelier_pth::save(&pth, &tensors).unwrap();
    let (m, w, what) = detect(&pth).unwrap();
    assert!(matches!(
        what,
        Detected::CycleGan {
            direction: None,
            config: GeneratorConfig {
                input_nc: 3,
                output_nc: 1,
                ngf: 2,
                n_blocks: 2
            }
        }
    ));
    let proto = export(&m, &w, &[]).unwrap();
    assert_eq!(check_wiring(&proto), resnet_generator_ops(2));
    check_parameters(&proto, &model.g_b);

    // a generator state_dict with a key of the wrong shape is refused naming it
    let mut bad = tensors.clone();
    let down = bad.iter_mut().find(|(k, _)| k == "model.4.weight").unwrap();
    down.1 = atelier_pth::Tensor::f32(vec![4, 3, 3, 3], vec![0.0; 4 * 3 * 9]);
    let bad_path = temp("bad_net_G.pth");
    atelier_pth::save(&bad_path, &bad).unwrap();
    let err = detect(&bad_path).err().unwrap().to_string();
    assert!(
        err.contains("bad_net_G.pth") && err.contains("model.4.weight"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_no_model_is_refused_with_a_reason() {
    let path = temp("other.safetensors");
    let mut ck = atelier_nn::Checkpoint::new();
    ck.put_int("x", 1);
    ck.save(&path).unwrap();
    let err = detect(&path).err().unwrap().to_string();
    assert!(err.contains("neither a DCGAN checkpoint"), "{err}");
}
