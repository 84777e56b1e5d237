//! The way back: a state_dict written in torch's zip format reads back unchanged (keys in
//! order, shapes, dtypes, values). That PyTorch accepts it with weights_only=True was checked
//! by hand (see the crate README).

use atelier_pth::{DType, Format, Tensor};

fn sample() -> Vec<(String, Tensor)> {
    let ramp = |n: usize| (0..n).map(|i| i as f32 * 0.25 - 1.0).collect::<Vec<_>>();
    vec![
        (
            "main.0.weight".into(),
            Tensor::f32(vec![2, 3, 4, 4], ramp(96)),
        ),
        (
            "main.1.num_batches_tracked".into(),
            Tensor::new(vec![], DType::I64, vec![1234.0]),
        ),
        (
            "half".into(),
            Tensor::new(vec![4], DType::F16, vec![0.5, -2.0, 0.0, 1024.0]),
        ),
        ("empty".into(), Tensor::f32(vec![0, 2], vec![])),
        // past 255 entries the memo indices need LONG_BINPUT; past 255 elements BININT2
        ("long".into(), Tensor::f32(vec![300], ramp(300))),
    ]
}

#[test]
fn written_files_read_back_unchanged() {
    let mut entries = sample();
    for i in 0..300 {
        entries.push((format!("many.{i}"), Tensor::f32(vec![1], vec![i as f32])));
    }
    let bytes = atelier_pth::to_bytes(&entries).unwrap();
    let sd = atelier_pth::load_bytes(&bytes, "written.pth").unwrap();
    assert_eq!(sd.format(), Format::TorchZip);
    assert_eq!(sd.len(), entries.len());
    for ((key, t), (k2, t2)) in entries.iter().zip(sd.iter()) {
        assert_eq!(key, k2);
        assert_eq!(t, t2, "{key}");
    }
}

#[test]
fn save_writes_through_a_temporary_file() {
    let dir = std::env::temp_dir().join(format!("atelier-pth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("netG.pth");
    atelier_pth::save(&path, &sample()).unwrap();
    assert!(!dir.join("netG.pth.tmp").exists());
    let sd = atelier_pth::load(&path).unwrap();
    assert_eq!(
        sd.get("main.1.num_batches_tracked").unwrap().values,
        [1234.0]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
