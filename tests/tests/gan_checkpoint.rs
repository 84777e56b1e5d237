//! Checkpoints: a round trip keeps every state entry (weights, running statistics,
//! num_batches_tracked as an integer, metadata); loading a file with a missing key, an extra
//! key or a different shape is an error naming the key (and both shapes), and leaves the model
//! as it was.

use std::path::PathBuf;

use atelier_gan::{DcganConfig, Generator};
use atelier_nn::{Checkpoint, CheckpointError, Init, Module};
use atelier_tensor::Device;

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn generator(ngf: usize, image_size: usize, seed: u64) -> Generator {
    let config = DcganConfig {
        nz: 8,
        ngf,
        ndf: 4,
        channels: 3,
        image_size,
    };
    let g = Generator::new(&mut Init::new(Device::Cpu, seed), config);
    atelier_nn::init::dcgan(&g, seed);
    g
}

fn state(m: &dyn Module) -> Vec<(String, Vec<f32>)> {
    m.named_tensors()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec()))
        .collect()
}

#[test]
fn round_trip_keeps_every_entry_with_pytorch_names() {
    let g = generator(4, 32, 1);
    // one training-mode forward: running stats and num_batches_tracked move off their defaults
    g.forward(&atelier_gan::latent::noise(4, 8, 5, Device::Cpu));
    let path = temp_file("round_trip.safetensors");
    let mut ck = Checkpoint::new();
    ck.put_module("netG", &g);
    ck.put_int("trainer.step", 42);
    ck.set_metadata("config", "{\"hello\": 1}");
    ck.save(&path).unwrap();
    assert!(
        !path
            .with_file_name(format!(
                ".round_trip.safetensors.tmp-{}",
                std::process::id()
            ))
            .exists(),
        "the temporary file is renamed away"
    );

    let loaded = Checkpoint::load(&path).unwrap();
    let names: Vec<&str> = loaded.keys().collect();
    for expected in [
        "netG.main.0.weight",
        "netG.main.1.weight",
        "netG.main.1.bias",
        "netG.main.1.running_mean",
        "netG.main.1.running_var",
        "netG.main.1.num_batches_tracked",
        "netG.main.9.weight",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(loaded.int("netG.main.1.num_batches_tracked").unwrap(), 1);
    assert_eq!(loaded.int("trainer.step").unwrap(), 42);
    assert_eq!(loaded.metadata("config"), Some("{\"hello\": 1}"));

    let other = generator(4, 32, 2);
    assert_ne!(state(&g), state(&other));
    loaded.load_module("netG", &other).unwrap();
    assert_eq!(state(&g), state(&other));

    // the stored dtypes are PyTorch's: F32 for floats, I64 for the counter
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        st.tensor("netG.main.1.num_batches_tracked")
            .unwrap()
            .dtype(),
        safetensors::Dtype::I64
    );
    assert_eq!(
        st.tensor("netG.main.0.weight").unwrap().dtype(),
        safetensors::Dtype::F32
    );
}

#[test]
fn a_missing_key_is_an_error_naming_it() {
    let path = temp_file("missing.safetensors");
    let mut ck = Checkpoint::new();
    ck.put_module("netG", &generator(4, 32, 1));
    ck.save(&path).unwrap();
    // a 64×64 generator has one more stage: its main.12.weight is not in the file
    let bigger = generator(4, 64, 3);
    let before = state(&bigger);
    let err = Checkpoint::load(&path)
        .unwrap()
        .load_module("netG", &bigger)
        .unwrap_err();
    match &err {
        CheckpointError::Missing { key, .. } | CheckpointError::Shape { key, .. } => {
            assert!(key.starts_with("netG.main."), "{err}")
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(state(&bigger), before, "a failed load changes nothing");

    // a key that is simply absent
    let g = generator(4, 32, 1);
    let mut partial = Checkpoint::new();
    for (name, t) in g.named_tensors() {
        if name != "main.4.running_var" {
            partial.put_tensor(&format!("netG.{name}"), &t);
        }
    }
    let err = partial.load_module("netG", &g).unwrap_err();
    assert!(
        matches!(&err, CheckpointError::Missing { key, .. } if key == "netG.main.4.running_var"),
        "{err}"
    );
    assert!(err.to_string().contains("netG.main.4.running_var"), "{err}");
}

#[test]
fn a_wrong_shape_is_an_error_naming_the_key_and_both_shapes() {
    let path = temp_file("shape.safetensors");
    let mut ck = Checkpoint::new();
    ck.put_module("netG", &generator(4, 32, 1));
    ck.save(&path).unwrap();
    let wider = generator(8, 32, 1);
    let before = state(&wider);
    let err = Checkpoint::load(&path)
        .unwrap()
        .load_module("netG", &wider)
        .unwrap_err();
    let CheckpointError::Shape {
        key, file, model, ..
    } = &err
    else {
        panic!("expected a shape error, got {err}");
    };
    assert_eq!(key, "netG.main.0.weight");
    assert_eq!(file, &[8, 16, 4, 4]);
    assert_eq!(model, &[8, 32, 4, 4]);
    let msg = err.to_string();
    assert!(
        msg.contains("netG.main.0.weight")
            && msg.contains("[8, 16, 4, 4]")
            && msg.contains("[8, 32, 4, 4]"),
        "{msg}"
    );
    assert_eq!(state(&wider), before, "a failed load changes nothing");
}

#[test]
fn an_unexpected_key_is_an_error() {
    let g = generator(4, 32, 1);
    let mut ck = Checkpoint::new();
    ck.put_module("netG", &g);
    ck.put_int("netG.main.99.num_batches_tracked", 0);
    let err = ck.load_module("netG", &g).unwrap_err();
    assert!(err.to_string().contains("netG.main.99"), "{err}");
}

#[test]
fn a_file_that_is_not_safetensors_is_an_error() {
    let path = temp_file("garbage.safetensors");
    std::fs::write(&path, b"definitely not a checkpoint").unwrap();
    let err = match Checkpoint::load(&path) {
        Err(e) => e,
        Ok(_) => panic!("garbage loaded"),
    };
    assert!(matches!(err, CheckpointError::Format { .. }), "{err}");
}
