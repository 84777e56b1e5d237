//! PyTorch files at the command line, as downloaded: a bare DCGAN generator state_dict for
//! `gan sample|interpolate|eval`, a fast-neural-style model for `style apply`, a
//! torchvision-keyed VGG file for `style transfer`; `export --format pth` and back; and the
//! errors for files that are not what the command needs (tests/data/pth/README.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn atelier(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(args)
        .output()
        .expect("running atelier");
    eprintln!(
        "$ atelier {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn pth(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/pth")
        .join(name);
    p.to_str().unwrap().to_string()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn image_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn gan_commands_take_a_bare_pytorch_generator() {
    let dir = fresh_dir("pth_gan");
    let netg = pth("netG_tiny.pth");
    let grid = dir.join("grid.png");
    let out = atelier(&[
        "gan",
        "sample",
        "--checkpoint",
        &netg,
        "--n",
        "4",
        "--out",
        s(&grid),
        "--device",
        "cpu",
    ]);
    assert!(out.status.success());
    // 2×2 grid of 64×64 images (the size inferred from the file)
    let (w, h) = image_size(&grid);
    assert!((128..140).contains(&w) && w == h, "{w}×{h}");

    let walk = dir.join("walk.png");
    let out = atelier(&[
        "gan",
        "interpolate",
        "--checkpoint",
        &netg,
        "--from",
        "1",
        "--to",
        "2",
        "--frames",
        "3",
        "--out",
        s(&walk),
        "--device",
        "cpu",
    ]);
    assert!(out.status.success());
    let (w, h) = image_size(&walk);
    assert!(w > 3 * 64 && (64..76).contains(&h), "{w}×{h}");

    let out = atelier(&[
        "gan",
        "eval",
        "--checkpoint",
        &netg,
        "--data",
        "builtin:rothko",
        "--n",
        "8",
        "--nhoods",
        "4",
        "--device",
        "cpu",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bare generator state_dict") && text.contains("average"),
        "{text}"
    );
}

#[test]
fn exported_generators_and_style_networks_read_back_unchanged() {
    let dir = fresh_dir("pth_export");
    // a pytorch/examples generator: exported, it is the same state_dict (running statistics
    // and int64 num_batches_tracked included)
    let out_g = dir.join("netG.pth");
    let out = atelier(&[
        "export",
        "--format",
        "pth",
        "--checkpoint",
        &pth("netG_tiny.pth"),
        "--out",
        s(&out_g),
    ]);
    assert!(out.status.success());
    let original = atelier_pth::load(pth("netG_tiny.pth")).unwrap();
    let exported = atelier_pth::load(&out_g).unwrap();
    assert_eq!(exported.format(), atelier_pth::Format::TorchZip);
    assert_eq!(
        exported.keys().collect::<Vec<_>>(),
        original.keys().collect::<Vec<_>>()
    );
    for (key, t) in original.iter() {
        assert_eq!(exported.get(key).unwrap(), t, "{key}");
    }

    // a legacy-format TransformerNet: the stale running statistics are left out
    let out_t = dir.join("style.pth");
    let out = atelier(&[
        "export",
        "--format",
        "pth",
        "--checkpoint",
        &pth("transformer_net.pth"),
        "--out",
        s(&out_t),
    ]);
    assert!(out.status.success());
    let original = atelier_pth::load(pth("transformer_net.pth")).unwrap();
    let exported = atelier_pth::load(&out_t).unwrap();
    let kept: Vec<&str> = original
        .keys()
        .filter(|k| !k.contains(".running_"))
        .collect();
    assert_eq!(exported.keys().collect::<Vec<_>>(), kept);
    for key in kept {
        assert_eq!(
            exported.get(key).unwrap(),
            original.get(key).unwrap(),
            "{key}"
        );
    }
}

#[test]
fn exporting_a_training_run_writes_both_networks() {
    let dir = fresh_dir("pth_export_run");
    let run = dir.join("run");
    let out = atelier(&[
        "gan",
        "train",
        "--data",
        "builtin:mondrian",
        "--image-size",
        "32",
        "--ngf",
        "4",
        "--ndf",
        "4",
        "--nz",
        "8",
        "--batch",
        "4",
        "--steps",
        "1",
        "--device",
        "cpu",
        "--out",
        s(&run),
    ]);
    assert!(out.status.success());
    let ck = run.join("checkpoint.safetensors");
    let stored = atelier_nn::Checkpoint::load(&ck).unwrap();
    for (what, prefix) in [("netG", "netG."), ("netD", "netD.")] {
        let file = dir.join(format!("{what}.pth"));
        let out = atelier(&[
            "export",
            "--format",
            "pth",
            "--checkpoint",
            s(&ck),
            "--out",
            s(&file),
            "--what",
            what,
        ]);
        assert!(out.status.success());
        let exported = atelier_pth::load(&file).unwrap();
        let keys: Vec<&str> = stored
            .keys()
            .filter_map(|k| k.strip_prefix(prefix))
            .collect();
        assert!(!keys.is_empty());
        assert_eq!(exported.len(), keys.len(), "{what}");
        for key in keys {
            let t = exported
                .get(key)
                .unwrap_or_else(|| panic!("{what}: {key} missing"));
            let full = format!("{prefix}{key}");
            assert_eq!(t.shape, stored.shape(&full).unwrap(), "{full}");
            assert_eq!(t.values, stored.values(&full).unwrap(), "{full}");
        }
    }
}

#[test]
fn style_commands_take_pytorch_files() {
    let dir = fresh_dir("pth_style");
    let photo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/images/content/chelsea.png");
    let styled = dir.join("styled.png");
    let out = atelier(&[
        "style",
        "apply",
        "--model",
        &pth("transformer_net.pth"),
        "--input",
        s(&photo),
        "--out",
        s(&styled),
        "--size",
        "32",
        "--device",
        "cpu",
    ]);
    assert!(out.status.success());
    let (w, h) = image_size(&styled);
    assert_eq!(w.max(h), 32);

    // a VGG file with torchvision's keys is read by content; this one stops at conv1_2, so
    // style transfer (which needs up to relu5_1) names the first key it lacks
    let out = atelier(&[
        "style",
        "transfer",
        "--content",
        s(&photo),
        "--style",
        s(&photo),
        "--features",
        &pth("tiny_vgg19_features.pth"),
        "--out",
        s(&dir.join("t.png")),
        "--size",
        "32",
        "--steps",
        "1",
        "--device",
        "cpu",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("tiny_vgg19_features.pth") && err.contains("features.5.weight"),
        "{err}"
    );
}

#[test]
fn files_that_are_not_what_a_command_needs_say_so() {
    let dir = fresh_dir("pth_errors");
    let out = atelier(&[
        "gan",
        "sample",
        "--checkpoint",
        &pth("transformer_net.pth"),
        "--out",
        s(&dir.join("x.png")),
        "--device",
        "cpu",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("this is a style network") && err.contains("not a DCGAN"),
        "{err}"
    );

    let out = atelier(&[
        "export",
        "--format",
        "pth",
        "--checkpoint",
        &pth("runs_code.pth"),
        "--out",
        s(&dir.join("x.pth")),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("posix.system") && err.contains("runs_code.pth"),
        "{err}"
    );
    assert!(!dir.join("x.pth").exists());
}
