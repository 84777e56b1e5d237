//! `atelier style` end to end: train a network on a small folder of photos, apply it, and
//! check that its outputs carry more of the painting's style than its inputs; and the errors
//! a user sees for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atelier_style::image_io::{image_to_tensor, load_image, resize_long_side, save_png};
use atelier_style::loss::{DEEPEST_LAYER, LossWeights, PerceptualLoss};
use atelier_style::vgg::Vgg19;
use atelier_tensor::Device;
use image::{Rgb, Rgb32FImage};

fn atelier(args: &[&str]) -> Output {
    atelier_on(None, args)
}

/// Runs the CLI with `ATELIER_DEVICE` set to `device` (`auto` picks the fast CPU device over
/// a software GPU, so a test that measures against the GPU must ask for it).
fn atelier_on(device: Option<Device>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atelier"));
    if let Some(d) = device {
        cmd.env("ATELIER_DEVICE", d.to_string());
    }
    let out = cmd.args(args).output().expect("running atelier");
    eprintln!(
        "atelier {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The test images: copies of a few photos and paintings from the project's shared data,
/// their long side reduced to 256 pixels (`tests/data/images`, see its README).
fn test_images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/images")
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

#[test]
fn train_then_apply_lowers_the_style_loss() {
    let data = test_images();
    if !atelier_kernels::context::gpu_for_tests() {
        return;
    }
    let dir = fresh_dir("style_train_apply");
    let photos = dir.join("photos");
    std::fs::create_dir(&photos).unwrap();
    let names = [
        "tubingen.jpg",
        "golden_gate.jpg",
        "chelsea.png",
        "coffee.png",
    ];
    for name in names {
        std::fs::copy(data.join("content").join(name), photos.join(name)).unwrap();
    }
    let style = data.join("styles/starry_night.jpg");
    let model = dir.join("model.safetensors");
    let run_dir = dir.join("run");
    let out = atelier_on(
        Some(Device::Gpu),
        &[
            "style",
            "train",
            "--style",
            s(&style),
            "--content-dir",
            s(&photos),
            "--out",
            s(&model),
            "--size",
            "24",
            "--style-size",
            "32",
            "--epochs",
            "3",
            "--batch",
            "2",
            "--lr",
            "0.02",
            "--features",
            "random",
            "--sample-every",
            "2",
            "--run-dir",
            s(&run_dir),
        ],
    );
    assert!(out.status.success(), "train failed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("weaker than with trained weights"));
    // the run folder: style image, sample grids (every 2 steps and the last, step 6), the page,
    // the scalars, and a TensorBoard event file
    for f in [
        "style.png",
        "samples/step_000002.png",
        "samples/step_000006.png",
        "index.html",
    ] {
        assert!(run_dir.join(f).exists(), "{f} missing");
    }
    let scalars = std::fs::read_to_string(run_dir.join("scalars.csv")).unwrap();
    assert!(
        scalars.contains("loss/style") && scalars.contains("perf/images_per_s"),
        "{scalars}"
    );
    assert!(std::fs::read_dir(&run_dir).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("events.out.tfevents.")
    }));

    // the same features the training used (random, seed 0), the painting at its training size
    let vgg = Vgg19::random(0, DEEPEST_LAYER, Device::Gpu).unwrap();
    let painting = image_to_tensor(
        &resize_long_side(&load_image(&style).unwrap(), 32),
        Device::Gpu,
    );
    let weights = LossWeights {
        content: 1.0,
        style: 1.0,
        tv: 0.0,
    };
    let loss = PerceptualLoss::new(&vgg, &painting, weights);
    let (mut before, mut after) = (0.0, 0.0);
    for name in names {
        let result = dir.join(format!("{name}.stylised.png"));
        let out = atelier_on(
            Some(Device::Gpu),
            &[
                "style",
                "apply",
                "--model",
                s(&model),
                "--input",
                s(&photos.join(name)),
                "--out",
                s(&result),
                "--size",
                "24",
            ],
        );
        assert!(out.status.success(), "apply failed");
        let input = resize_long_side(&load_image(&photos.join(name)).unwrap(), 24);
        let output = load_image(&result).unwrap();
        assert_eq!(output.dimensions(), input.dimensions(), "{name}");
        let (x, y) = (
            image_to_tensor(&input, Device::Gpu),
            image_to_tensor(&output, Device::Gpu),
        );
        let target = loss.content_target(&x);
        let (lx, ly) = (loss.measure(&x, &target), loss.measure(&y, &target));
        eprintln!("{name}: style loss {:.3e} -> {:.3e}", lx.style, ly.style);
        before += lx.style;
        after += ly.style;
    }
    assert!(
        after < 0.8 * before,
        "the network's outputs have style loss {after:.3e}, its inputs {before:.3e}"
    );
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = fresh_dir("style_errors");
    let not_an_image = dir.join("notes.png");
    std::fs::write(&not_an_image, "not a picture").unwrap();
    let out_png = dir.join("out.png");
    let model_bin = dir.join("m.bin");
    let picture = dir.join("grey.png");
    save_png(&Rgb32FImage::from_pixel(16, 16, Rgb([0.5; 3])), &picture).unwrap();
    let cases: [(Vec<&str>, &str); 6] = [
        (
            vec![
                "style",
                "transfer",
                "--content",
                "no/such.jpg",
                "--style",
                s(&not_an_image),
                "--out",
                s(&out_png),
            ],
            "--content: no/such.jpg: No such file or directory",
        ),
        (
            vec![
                "style",
                "transfer",
                "--content",
                s(&not_an_image),
                "--style",
                s(&not_an_image),
                "--out",
                s(&out_png),
            ],
            "not a readable image",
        ),
        (
            vec![
                "style",
                "transfer",
                "--content",
                s(&not_an_image),
                "--style",
                s(&not_an_image),
                "--out",
                "no/dir/out.png",
            ],
            "folder no/dir does not exist",
        ),
        (
            vec![
                "style",
                "transfer",
                "--content",
                s(&not_an_image),
                "--style",
                s(&not_an_image),
                "--out",
                s(&out_png),
                "--optimizer",
                "sgd",
            ],
            "is not adam or lbfgs",
        ),
        (
            vec![
                "style",
                "train",
                "--style",
                s(&not_an_image),
                "--content-dir",
                s(&dir),
                "--out",
                s(&model_bin),
            ],
            "must end in .safetensors",
        ),
        (
            vec![
                "style",
                "apply",
                "--model",
                s(&not_an_image),
                "--input",
                s(&picture),
                "--out",
                s(&out_png),
            ],
            "not a weights file atelier reads",
        ),
    ];
    for (args, message) in cases {
        let out = atelier(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
