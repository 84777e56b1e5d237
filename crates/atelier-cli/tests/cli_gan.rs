//! `atelier gan` end to end, running the built binary with tiny settings (32×32, widths 8):
//! train, resume, sample, interpolate, eval; Ctrl-C; a data folder with a corrupt file.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const TINY: [&str; 12] = [
    "--image-size",
    "32",
    "--ngf",
    "8",
    "--ndf",
    "8",
    "--nz",
    "16",
    "--batch",
    "8",
    "--log-every",
    "2",
];

fn metric_steps(dir: &Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

#[test]
fn train_resume_sample_interpolate_eval() {
    let dir = temp("run");
    let mut args = vec!["gan", "train", "--data", "builtin:kandinsky:32"];
    args.extend(TINY);
    args.extend([
        "--steps",
        "4",
        "--sample-every",
        "2",
        "--checkpoint-every",
        "4",
        "--out",
        s(&dir),
    ]);
    let o = atelier(&args);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("[2/4] Loss_D:") && text.contains("D(G(z)):"),
        "{text}"
    );
    assert!(text.contains("finished: 4 steps"), "{text}");
    for f in [
        "config.json",
        "real.png",
        "samples/step_000002.png",
        "samples/step_000004.png",
        "checkpoint.safetensors",
        "metrics.csv",
        "losses.png",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    assert_eq!(png_size(&dir.join("real.png")), (8 * 34 + 2, 4 * 34 + 2));
    assert_eq!(png_size(&dir.join("samples/step_000004.png")), (274, 274));
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(config.contains("\"image_size\": 32"), "{config}");
    assert_eq!(metric_steps(&dir), [2, 4]);

    // the run folder is not overwritten; --resume carries on
    let again = atelier(&[&args[..], &[]].concat());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let o = atelier(&["gan", "train", "--resume", s(&dir), "--steps", "6"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("at step 4 of 6"), "{}", stdout(&o));
    assert_eq!(metric_steps(&dir), [2, 4, 6]);

    let ck = dir.join("checkpoint.safetensors");
    let grid = dir.join("grid.png");
    let o = atelier(&[
        "gan",
        "sample",
        "--checkpoint",
        s(&ck),
        "--n",
        "16",
        "--seed",
        "1",
        "--out",
        s(&grid),
    ]);
    assert!(o.status.success());
    assert_eq!(png_size(&grid), (4 * 34 + 2, 4 * 34 + 2));

    let strip = dir.join("strip.png");
    let o = atelier(&[
        "gan",
        "interpolate",
        "--checkpoint",
        s(&ck),
        "--from",
        "1",
        "--to",
        "2",
        "--frames",
        "5",
        "--out",
        s(&strip),
    ]);
    assert!(o.status.success());
    assert_eq!(png_size(&strip), (5 * 34 + 2, 36));

    let o = atelier(&[
        "gan",
        "eval",
        "--checkpoint",
        s(&ck),
        "--data",
        "builtin:kandinsky:32",
        "--n",
        "16",
        "--nhoods",
        "8",
    ]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("real vs fake") && text.contains("32×32") && text.contains("average"),
        "{text}"
    );
}

#[test]
fn a_missing_checkpoint_is_a_clear_error() {
    let o = atelier(&[
        "gan",
        "sample",
        "--checkpoint",
        "/nonexistent/checkpoint.safetensors",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/checkpoint.safetensors"), "{err}");
}

#[test]
fn corrupt_and_non_image_files_in_a_data_folder_are_skipped() {
    let data = temp("folder");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    for i in 0..9u8 {
        let img = image::RgbImage::from_fn(40, 36, |x, y| {
            image::Rgb([i * 25, (x * 6) as u8, (y * 7) as u8])
        });
        let dir = if i % 3 == 0 {
            data.join("sub")
        } else {
            data.clone()
        };
        img.save(dir.join(format!("art{i}.png"))).unwrap();
    }
    std::fs::write(data.join("broken.png"), b"\x89PNG but not really").unwrap();
    std::fs::write(data.join("notes.txt"), b"not an image").unwrap();

    let run = temp("folder-run");
    let mut args = vec!["gan", "train", "--data", s(&data)];
    args.extend(TINY);
    args.extend(["--steps", "1", "--out", s(&run)]);
    let o = atelier(&args);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("skipping") && err.contains("broken.png"),
        "{err}"
    );
    assert!(
        err.contains("not images atelier reads") && err.contains("notes.txt"),
        "{err}"
    );
    let text = stdout(&o);
    assert!(
        text.contains("9 images, 1 skipped, 1 not an image"),
        "{text}"
    );

    // a folder with no image at all is an error naming it
    let empty = temp("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = atelier(&[
        "gan",
        "train",
        "--data",
        s(&empty),
        "--out",
        s(&temp("empty-run")),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains(s(&empty)));
}

#[test]
fn f16_where_it_cannot_run_says_why_and_trains_in_fp32() {
    // whether the GPU device can run coop_f16, as `atelier info` lists it
    let info = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("info")
        .env("ATELIER_DEVICE", "gpu")
        .output()
        .expect("running atelier info");
    let info = String::from_utf8_lossy(&info.stdout);
    let gpu_has_f16 = info.contains("coop_f16") && !info.contains("coop_f16 (not here");
    // the CPU device, and the GPU device on an adapter without cooperative matrices (lavapipe
    // in CI): each note names its own reason, and the run trains
    for device in ["cpu", "gpu"] {
        let run = temp(&format!("f16-{device}"));
        let mut args = vec!["gan", "train", "--data", "builtin:kandinsky:8"];
        args.extend(TINY);
        args.extend(["--steps", "1", "--precision", "f16", "--device", device]);
        args.extend(["--out", s(&run)]);
        let o = atelier(&args);
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        let noted = err.contains("--precision f16") && err.contains("stays in fp32");
        match device {
            "cpu" => assert!(
                noted && err.contains("the CPU device computes in fp32"),
                "{err}"
            ),
            _ if gpu_has_f16 => assert!(!noted, "the adapter runs coop_f16: {err}"),
            _ => assert!(noted && err.contains("cooperative matrices"), "{err}"),
        }
    }
}

#[test]
fn shader_dump_writes_what_ran() {
    // one training step on the GPU device with the 64x64 igemm tile forced and the checks off:
    // every module as WGSL, every pipeline as SPIR-V, one index line each
    let dir = temp("dump");
    let run = temp("dump-run");
    let mut args = vec!["gan", "train", "--data", "builtin:kandinsky:8"];
    args.extend(TINY);
    args.extend(["--steps", "1", "--device", "gpu", "--out", s(&run)]);
    let o = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(&args)
        .env("ATELIER_DUMP_SHADERS", &dir)
        .env("ATELIER_KERNELS", "conv2d=igemm64x64")
        .env("ATELIER_SHADER_CHECKS", "off")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index = std::fs::read_to_string(dir.join("pipelines.txt")).unwrap();
    let lines: Vec<&str> = index.lines().filter(|l| !l.starts_with('#')).collect();
    let spv: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "spv"))
        .collect();
    assert!(lines.len() > 10, "{index}");
    assert_eq!(
        spv.len(),
        lines.len(),
        "a SPIR-V file per pipeline:\n{index}"
    );
    for p in &spv {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(
            &bytes[..4],
            &0x0723_0203u32.to_le_bytes(),
            "{}",
            p.display()
        );
        assert!(
            p.to_str().unwrap().ends_with(".trusted.spv"),
            "{}",
            p.display()
        );
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(index.contains(name), "{name} not in the index");
    }
    // the generated tile is there as one text, and its forward ran with its constants
    let igemm = std::fs::read_to_string(dir.join("conv2d.igemm64x64.wgsl")).unwrap();
    assert!(igemm.contains("fn igemm_forward(") && igemm.contains("epilogue"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("conv2d/igemm64x64.wgsl::igemm_forward") && l.contains("C=")),
        "{index}"
    );

    // a folder that cannot be made is said once, and the run goes on
    let blocked = temp("dump-blocked");
    std::fs::write(&blocked, b"a file, not a folder").unwrap();
    let run = temp("dump-run-2");
    let mut args = vec!["gan", "train", "--data", "builtin:kandinsky:8"];
    args.extend(TINY);
    args.extend(["--steps", "1", "--device", "gpu", "--out", s(&run)]);
    let o = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(&args)
        .env("ATELIER_DUMP_SHADERS", blocked.join("sub"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("ATELIER_DUMP_SHADERS=").count(), 1, "{err}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_a_checkpoint_and_exits_130() {
    let dir = temp("ctrl-c");
    let mut args = vec!["gan", "train", "--data", "builtin:mondrian:32"];
    args.extend(TINY);
    args.extend(["--steps", "100000", "--out", s(&dir)]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // wait for the first logged step, then interrupt
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("[2/") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let code = child.wait().unwrap();
    let rest = rest.join("\n");
    assert_eq!(code.code(), Some(130), "{seen}{rest}");
    assert!(rest.contains("stopped by SIGINT at step"), "{seen}{rest}");
    let ck = atelier_nn::Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    let step = ck.int("trainer.step").unwrap().to_string();

    // resuming to the step it stopped at finishes at once
    let o = atelier(&["gan", "train", "--resume", s(&dir), "--steps", &step]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("resuming"), "{}", stdout(&o));
}
