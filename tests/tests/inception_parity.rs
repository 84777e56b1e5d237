//! The FID Inception network against pytorch-fid's own modules (float64, random but
//! reproducible weights; see scripts/make_inception_fixture.py and tests/data/inception): the
//! bilinear resize, each block type, and the whole network (block 1 and the pool features).
//! Every case, size and name comes from the fixture's metadata.

use std::path::PathBuf;

use atelier_gan::inception::{self, BLOCKS, InceptionV3, resize_bilinear, synthetic};
use atelier_tensor::{Device, Tensor};
use atelier_tests::{Refs, rel_err};
use serde_json::Value;

fn fixture() -> Refs {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/inception/fid_inception");
    Refs::from_path(&path.with_extension("safetensors"))
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_u64().expect("a size") as usize)
        .collect()
}

fn check(what: &str, got: &Tensor, refs: &Refs, key: &str, tol: f64) {
    assert_eq!(got.shape(), refs.shape(key), "{what}: shape of {key}");
    let e = rel_err(&got.to_vec(), refs.values(key));
    assert!(e < tol, "{what}: {key} rel err {e:.3e} (tol {tol:.0e})");
    eprintln!("{what}: {key} rel err {e:.2e}");
}

fn cases(refs: &Refs, kind: &str) -> Vec<Value> {
    let all: Vec<Value> = refs
        .cases()
        .into_iter()
        .filter(|c| c["kind"] == kind)
        .collect();
    assert!(!all.is_empty(), "the fixture has no {kind} case");
    all
}

#[test]
fn bilinear_resize_matches_pytorch_fid_s_interpolate() {
    let refs = fixture();
    for device in atelier_tests::devices() {
        for case in cases(&refs, "resize") {
            let name = case["name"].as_str().unwrap();
            let shape = usizes(&case["input"]);
            let size = usizes(&case["size"]);
            let n: usize = shape.iter().product();
            let x = Tensor::from_vec(
                synthetic::input(&format!("input.resize.{name}"), n, -1.0, 1.0),
                &shape,
                device,
            );
            let y = resize_bilinear(&x, size[0], size[1]);
            check(
                &format!("resize {name} on {device}"),
                &y,
                &refs,
                &format!("resize.{name}"),
                1e-5,
            );
        }
    }
}

#[test]
fn every_block_type_matches_pytorch_fid() {
    let refs = fixture();
    let weights = synthetic::state_dict();
    for device in atelier_tests::devices() {
        let net = InceptionV3::load(&weights, device).unwrap();
        for case in cases(&refs, "block") {
            let name = case["name"].as_str().unwrap();
            let shape = usizes(&case["input"]);
            let (_, _, kind) = BLOCKS
                .iter()
                .find(|(n, _, _)| *n == name)
                .unwrap_or_else(|| panic!("no block {name}"));
            let n: usize = shape.iter().product();
            let x = Tensor::from_vec(
                synthetic::input(&format!("input.{name}"), n, 0.0, 2.0),
                &shape,
                device,
            );
            let y = net.block(name, *kind, &x);
            check(
                &format!("{name} on {device}"),
                &y,
                &refs,
                &format!("block.{name}"),
                2e-5,
            );
        }
    }
}

#[test]
fn the_whole_network_matches_pytorch_fid() {
    let refs = fixture();
    let weights = synthetic::state_dict();
    let case = &cases(&refs, "network")[0];
    let shape = usizes(&case["input"]);
    let n: usize = shape.iter().product();
    let values = synthetic::input("input.network", n, 0.0, 1.0);
    for device in atelier_tests::devices() {
        let net = InceptionV3::load(&weights, device).unwrap();
        let x = Tensor::from_vec(values.clone(), &shape, device);
        let out = net.forward(&x, false);
        check(
            &format!("block 1 on {device}"),
            &out.block1,
            &refs,
            "network.block1",
            2e-5,
        );
        // pytorch-fid keeps the pooled map [N, 2048, 1, 1]; atelier flattens it to [N, 2048]
        let pool = out.pool.reshape(refs.shape("network.pool"));
        check(
            &format!("features on {device}"),
            &pool,
            &refs,
            "network.pool",
            1e-4,
        );
    }
}

#[test]
fn missing_or_misshapen_weights_are_named() {
    let mut weights = synthetic::state_dict();
    let key = "Mixed_6b.branch7x7_2.conv.weight";
    let (shape, values) = weights.tensors.remove(key).unwrap();
    let err = InceptionV3::load(&weights, Device::Cpu)
        .err()
        .expect("an error");
    assert!(err.to_string().contains(key), "{err}");
    let mut wrong = shape.clone();
    wrong.swap(2, 3);
    weights.insert(key, wrong, values);
    let err = InceptionV3::load(&weights, Device::Cpu)
        .err()
        .expect("an error");
    let msg = err.to_string();
    assert!(
        msg.contains(key) && msg.contains("[128, 128, 7, 1]"),
        "{msg}"
    );
    assert_eq!(inception::spec::expected_keys().len(), 94 * 5);
}
