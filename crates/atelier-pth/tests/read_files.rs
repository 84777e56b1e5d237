//! Reading real torch.save files (made by PyTorch; tests/data/pth/README.md) and checking
//! every key, shape, dtype and value against what PyTorch itself read from them.

use std::path::PathBuf;

use atelier_pth::{DType, Format, PthError, StateDict};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/pth")
        .join(name)
}

fn load(name: &str) -> StateDict {
    atelier_pth::load(data(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Values read as f32 must be the f32 rounding of PyTorch's (exactly: every source dtype
/// converts to f32 exactly or by one rounding, as PyTorch's `.float()` does).
fn assert_same_values(key: &str, got: &[f32], expected: &[f32]) {
    assert_eq!(got.len(), expected.len(), "{key}: element count");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.to_bits(), e.to_bits(), "{key}[{i}]: {g} vs {e}");
    }
}

fn dtype_of(torch_name: &str) -> DType {
    match torch_name {
        "torch.float32" => DType::F32,
        "torch.float64" => DType::F64,
        "torch.float16" => DType::F16,
        "torch.bfloat16" => DType::BF16,
        "torch.int64" => DType::I64,
        other => panic!("dtype {other} not in this test"),
    }
}

#[test]
fn both_formats_read_strided_shared_and_every_dtype_as_pytorch_does() {
    let expected = load("edge_cases_expected.safetensors");
    let order: Vec<&str> = expected.metadata["order"].split(',').collect();
    let dtypes: Vec<&str> = expected.metadata["dtypes"].split(',').collect();
    for (file, format) in [
        ("edge_cases.pth", Format::TorchZip),
        ("edge_cases_legacy.pth", Format::TorchLegacy),
    ] {
        let sd = load(file);
        assert_eq!(sd.format(), format, "{file}");
        // nested under "state_dict", beside an int and a string
        assert_eq!(
            sd.keys().collect::<Vec<_>>(),
            order,
            "{file}: keys in file order"
        );
        for (key, dtype) in order.iter().zip(&dtypes) {
            let t = sd.get(key).unwrap();
            let e = expected.get(key).unwrap();
            assert_eq!(t.shape, e.shape, "{file} {key}: shape");
            assert_eq!(t.dtype, dtype_of(dtype), "{file} {key}: dtype");
            assert_same_values(&format!("{file} {key}"), &t.values, &e.values);
        }
    }
}

/// Every key and shape as PyTorch listed them, and the values of the tensors PyTorch wrote
/// out, for one of the reference models.
fn check_against_torch(file: &str, values_file: &str) -> StateDict {
    let sd = load(file);
    let torch = load(values_file);
    let keys: Vec<&str> = torch.metadata["keys"].split(',').collect();
    let shapes: Vec<Vec<usize>> = torch.metadata["shapes"]
        .split(';')
        .map(|s| {
            s.split(',')
                .filter(|d| !d.is_empty())
                .map(|d| d.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(sd.keys().collect::<Vec<_>>(), keys, "{file}: keys in order");
    for (key, shape) in keys.iter().zip(&shapes) {
        assert_eq!(&sd.get(key).unwrap().shape, shape, "{file} {key}");
        assert_eq!(sd.get(key).unwrap().dtype, DType::F32, "{file} {key}");
    }
    assert!(!torch.is_empty());
    for (key, t) in torch.iter() {
        assert_same_values(
            &format!("{file} {key}"),
            &sd.get(key).unwrap().values,
            &t.values,
        );
    }
    sd
}

#[test]
fn legacy_transformer_net_reads_as_pytorch_reads_it() {
    let sd = check_against_torch("transformer_net.pth", "transformer_net_values.safetensors");
    assert_eq!(sd.format(), Format::TorchLegacy);
    assert!(
        sd.contains("in1.running_mean"),
        "stale keys are read (the model ignores them)"
    );
}

#[test]
fn zip_resnet_generator_reads_as_pytorch_reads_it() {
    let sd = check_against_torch(
        "resnet_generator.pth",
        "resnet_generator_values.safetensors",
    );
    assert_eq!(sd.format(), Format::TorchZip);
    // the layout the CycleGAN generator needs, from the reference's own config
    let io = load("resnet_generator_io.safetensors");
    let config = &io.metadata["config"];
    let field = |name: &str| -> usize {
        let at = config.find(&format!("\"{name}\":")).unwrap() + name.len() + 3;
        config[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (ngf, n_blocks) = (field("ngf"), field("n_blocks"));
    sd.expect("model.1.weight", &[ngf, 3, 7, 7]).unwrap();
    for b in 0..n_blocks {
        for conv in [1, 5] {
            let key = format!("model.{}.conv_block.{conv}.weight", 10 + b);
            sd.expect(&key, &[4 * ngf, 4 * ngf, 3, 3]).unwrap();
        }
    }
    let after = 10 + n_blocks;
    sd.expect(&format!("model.{after}.weight"), &[4 * ngf, 2 * ngf, 3, 3])
        .unwrap();
    sd.expect(
        &format!("model.{}.weight", after + 3),
        &[2 * ngf, ngf, 3, 3],
    )
    .unwrap();
    sd.expect(&format!("model.{}.weight", after + 7), &[3, ngf, 7, 7])
        .unwrap();
}

#[test]
fn a_file_that_would_run_code_is_refused_naming_the_global() {
    let err = atelier_pth::load(data("runs_code.pth")).unwrap_err();
    match &err {
        PthError::Global { module, name, .. } => {
            assert_eq!((module.as_str(), name.as_str()), ("posix", "system"))
        }
        other => panic!("expected a refused global, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("runs_code.pth") && message.contains("posix.system"),
        "{message}"
    );
}

#[test]
fn filtered_loads_skip_other_keys() {
    let sd = atelier_pth::load_filtered(data("tiny_vgg19_features.pth"), &|k| {
        k.starts_with("features.")
    })
    .unwrap();
    assert_eq!(
        sd.keys().collect::<Vec<_>>(),
        [
            "features.0.weight",
            "features.0.bias",
            "features.2.weight",
            "features.2.bias"
        ]
    );
}

#[test]
fn missing_and_misshapen_keys_name_the_file_and_the_key() {
    let sd = load("netG_tiny.pth");
    let missing = sd.expect("main.99.weight", &[1]).unwrap_err().to_string();
    assert!(
        missing.contains("netG_tiny.pth") && missing.contains("main.99.weight"),
        "{missing}"
    );
    let shape = sd
        .expect("main.0.weight", &[8, 32, 3, 3])
        .unwrap_err()
        .to_string();
    assert!(
        shape.contains("main.0.weight") && shape.contains("[8, 32, 4, 4]"),
        "{shape}"
    );
}

#[test]
fn every_truncation_of_a_real_file_is_an_error_not_a_panic() {
    for file in ["edge_cases.pth", "edge_cases_legacy.pth"] {
        let bytes = std::fs::read(data(file)).unwrap();
        assert!(atelier_pth::load_bytes(&bytes, file).is_ok());
        for cut in 0..bytes.len() {
            let result = atelier_pth::load_bytes(&bytes[..cut], file);
            assert!(result.is_err(), "{file} cut at {cut} loaded");
        }
    }
}
