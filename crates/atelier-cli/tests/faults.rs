//! The fault suite (FAULTS.md lists what each test shows): the built binary against kills,
//! signals, concurrent runs, hostile data folders, bad checkpoints, unwritable outputs and
//! sizes past the device's limits, at tiny sizes (32×32, widths 8) so that it runs in well
//! under a minute on lavapipe.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use atelier_tensor::Device;

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
        "$ atelier {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A DCGAN at 32×32, widths 8, batch 8, losses read every 2 steps.
fn train_args<'a>(data: &'a str, out: &'a str, steps: &'a str) -> Vec<&'a str> {
    vec![
        "gan",
        "train",
        "--data",
        data,
        "--out",
        out,
        "--steps",
        steps,
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
    ]
}

/// Starts `atelier args` and waits until it prints a line starting with `marker` (its first
/// logged step): training has begun.
fn start_until(args: &[&str], marker: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        eprintln!("child: {line}");
        if line.starts_with(marker) {
            // keep reading in the background so the child never blocks on a full pipe
            std::thread::spawn(move || lines.for_each(drop));
            return child;
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    panic!("{args:?} ended ({status}) before printing {marker:?}: {err}");
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// The child's exit status and stderr, or a failure if it has not ended within a minute.
fn wait(mut child: Child) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut err).unwrap();
            }
            eprintln!("child stderr: {err}");
            return (status, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not end within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("samples")] {
        for e in std::fs::read_dir(sub).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().contains(".tmp") {
                found.push(e.path());
            }
        }
    }
    found
}

fn checkpoint_step(dir: &Path) -> i64 {
    atelier_nn::Checkpoint::load(dir.join("checkpoint.safetensors"))
        .unwrap()
        .int("trainer.step")
        .unwrap()
}

#[test]
fn a_run_folder_has_one_owner_and_sigterm_checkpoints_with_143() {
    let dir = temp("owner");
    let args = train_args("builtin:mondrian:32", s(&dir), "100000");
    let first = start_until(&args, "[2/");

    // a second run, and a resume, are refused while the first trains
    let again = atelier(&args);
    assert_eq!(code(&again), 1);
    let err = stderr(&again);
    let pid = format!("PID {}", first.id());
    assert!(
        err.contains("in use by another atelier process") && err.contains(&pid),
        "{err}"
    );
    let resume = atelier(&["gan", "train", "--resume", s(&dir), "--steps", "100000"]);
    assert_eq!(code(&resume), 1);
    assert!(stderr(&resume).contains(&pid), "{}", stderr(&resume));

    // SIGTERM: a checkpoint, then exit 143, said in the message
    signal(&first, "TERM");
    let (status, err) = wait(first);
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("SIGTERM") && err.contains("143"), "{err}");
    let step = checkpoint_step(&dir);
    assert!(step >= 2, "checkpoint at step {step}");
    assert!(temp_files(&dir).is_empty(), "{:?}", temp_files(&dir));
    assert!(!dir.join(".atelier.lock").exists(), "the lock is released");

    // --steps below the checkpoint's step: a usage error that rewrites nothing
    let config = std::fs::read(dir.join("config.json")).unwrap();
    let behind = atelier(&["gan", "train", "--resume", s(&dir), "--steps", "1"]);
    assert_eq!(code(&behind), 2);
    assert!(stderr(&behind).contains("below the checkpoint's step"));
    assert_eq!(std::fs::read(dir.join("config.json")).unwrap(), config);
    assert_eq!(checkpoint_step(&dir), step);
}

#[test]
fn sigkill_at_any_moment_loses_no_run_and_leaves_no_temporary_file() {
    let dir = temp("kill");
    // a checkpoint and a sample grid every step: most moments are inside a write
    let mut args = train_args("builtin:rothko:32", s(&dir), "100000");
    args.extend(["--checkpoint-every", "1", "--sample-every", "1"]);
    let mut resume_args = vec!["gan", "train", "--resume", s(&dir)];
    resume_args.extend(["--steps", "100000"]);
    for (round, delay_ms) in [0u64, 37, 113].into_iter().enumerate() {
        let child = if round == 0 {
            start_until(&args, "[2/")
        } else {
            start_until(&resume_args, "[")
        };
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(&child, "KILL");
        let (status, _) = wait(child);
        assert_eq!(status.code(), None, "killed");
        // whatever the moment, the checkpoint on disk loads
        assert!(checkpoint_step(&dir) >= 1);
    }
    let before = checkpoint_step(&dir);
    let o = atelier(&[
        "gan",
        "train",
        "--resume",
        s(&dir),
        "--steps",
        &(before + 1).to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("took over a stale lock"),
        "{}",
        stderr(&o)
    );
    assert_eq!(checkpoint_step(&dir), before + 1);
    assert!(temp_files(&dir).is_empty(), "{:?}", temp_files(&dir));
}

#[test]
fn a_non_empty_folder_is_refused_unless_forced() {
    let dir = temp("nonempty");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "mine").unwrap();
    std::fs::write(dir.join("notes.txt"), "mine too").unwrap();
    let args = train_args("builtin:kandinsky:16", s(&dir), "1");
    let o = atelier(&args);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("config.json")).unwrap(),
        "mine"
    );

    let mut forced = args.clone();
    forced.push("--force");
    let o = atelier(&forced);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("replaced the previous run's files (config.json)"));
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine too"
    );
    assert!(
        std::fs::read_to_string(dir.join("config.json"))
            .unwrap()
            .contains("kandinsky")
    );

    // a finished run points to --resume, and --resume of it says it is finished
    let o = atelier(&args);
    assert!(stderr(&o).contains("already holds a run") && stderr(&o).contains("--resume"));
    let o = atelier(&["gan", "train", "--resume", s(&dir)]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("already finished at step 1"));
}

#[test]
fn a_hostile_data_folder_neither_hangs_nor_trains_on_grey() {
    let data = temp("hostile");
    std::fs::create_dir_all(data.join("y.png")).unwrap(); // a folder with an image's name
    let art = |i: u8| {
        image::RgbImage::from_fn(40, 36, move |x, y| {
            image::Rgb([i * 20, (x * 6) as u8, (y * 7) as u8])
        })
    };
    for i in 0..8u8 {
        let ext = ["png", "jpg", "gif", "tif"][i as usize % 4];
        art(i).save(data.join(format!("art{i}.{ext}"))).unwrap();
    }
    let mut jpeg = Vec::new();
    art(9)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    std::fs::write(data.join("cut.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    let fifo = data.join("x.png");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(data.join("notes.txt"), "not an image").unwrap();

    let run = temp("hostile-run");
    let child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(train_args(s(&data), s(&run), "1"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, err) = wait(child); // a minute at most: the FIFO must not block
    assert!(status.success(), "{err}");
    assert!(err.contains("x.png: not a regular file (a FIFO)"), "{err}");
    assert!(err.contains("cut.jpg: truncated JPEG"), "{err}");
    assert!(
        err.contains("not images atelier reads") && err.contains("notes.txt"),
        "{err}"
    );
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(
        config.contains("8 images, 2 skipped, 1 not an image"),
        "{config}"
    );
}

/// Rewrites a safetensors file with `edit` applied to its tensors and metadata.
fn rewrite(
    path: &Path,
    edit: impl FnOnce(
        &mut Vec<(String, Vec<usize>, Vec<u8>)>,
        &mut std::collections::HashMap<String, String>,
    ),
) {
    let bytes = std::fs::read(path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut metadata = meta.metadata().clone().unwrap_or_default();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>, safetensors::Dtype)> = st
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.shape().to_vec(), v.data().to_vec(), v.dtype()))
        .collect();
    let mut plain: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(k, s, d, _)| (k.clone(), s.clone(), d.clone()))
        .collect();
    edit(&mut plain, &mut metadata);
    for (t, p) in tensors.iter_mut().zip(plain) {
        (t.1, t.2) = (p.1, p.2);
    }
    let views = tensors.iter().map(|(k, s, d, dt)| {
        (
            k.as_str(),
            safetensors::tensor::TensorView::new(*dt, s.clone(), d).unwrap(),
        )
    });
    std::fs::write(path, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

#[test]
fn bad_checkpoints_are_refused_naming_what_is_wrong() {
    let dir = temp("bad-ck");
    let o = atelier(&train_args("builtin:mondrian:16", s(&dir), "1"));
    assert!(o.status.success());
    let ck = dir.join("checkpoint.safetensors");
    let copy = |name: &str| {
        let p = dir.join(name);
        std::fs::copy(&ck, &p).unwrap();
        p
    };

    // NaN in a BatchNorm buffer (unused while training: the losses stay finite)
    let nan = copy("nan.safetensors");
    rewrite(&nan, |t, _| {
        let var = t
            .iter_mut()
            .find(|t| t.0 == "netG.main.1.running_var")
            .unwrap();
        var.2[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    let out = dir.join("grid.png");
    let o = atelier(&["gan", "sample", "--checkpoint", s(&nan), "--out", s(&out)]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("netG.main.1.running_var holds 1 non-finite"));
    assert!(!out.exists());

    // a config no DCGAN can have
    for (field, bad, says) in [
        ("\"image_size\": 32", "\"image_size\": 48", "image size 48"),
        (
            "\"nz\": 16",
            "\"nz\": 0",
            "nz, ngf and ndf must be at least 1",
        ),
    ] {
        let p = copy("config.safetensors");
        rewrite(&p, |_, meta| {
            let config = meta.get_mut("config").unwrap();
            *config = config.replace(field, bad);
        });
        let o = atelier(&["gan", "sample", "--checkpoint", s(&p), "--out", s(&out)]);
        assert_eq!(code(&o), 1);
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }

    // the wrong kind of file, both ways
    let o = atelier(&[
        "style",
        "apply",
        "--model",
        s(&ck),
        "--input",
        s(&dir.join("real.png")),
        "--out",
        s(&out),
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("this is a DCGAN checkpoint"),
        "{}",
        stderr(&o)
    );
    let net = dir.join("net.safetensors");
    let data = vec![0u8; 4];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &data).unwrap();
    std::fs::write(
        &net,
        safetensors::serialize([("res1.conv1.conv2d.weight", view)], None).unwrap(),
    )
    .unwrap();
    let o = atelier(&["gan", "sample", "--checkpoint", s(&net), "--out", s(&out)]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("this is a style network"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn outputs_are_checked_before_any_work() {
    let dir = temp("outputs");
    let o = atelier(&train_args("builtin:mondrian:16", s(&dir), "1"));
    assert!(o.status.success());
    let ck = dir.join("checkpoint.safetensors");
    let sample = |out: &str| {
        atelier(&[
            "gan",
            "sample",
            "--checkpoint",
            s(&ck),
            "--n",
            "4",
            "--out",
            out,
        ])
    };

    // /proc takes no new files, even from root
    let o = sample("/proc/grid.png");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("cannot write in this folder"),
        "{}",
        stderr(&o)
    );
    let o = sample(s(&dir.join("missing/grid.png")));
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("does not exist"));
    let o = sample(s(&dir.join("grid.txt")));
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(".txt is not an image format"));
    let o = atelier(&train_args("builtin:mondrian:16", "/proc/atelier-run", "1"));
    assert_eq!(code(&o), 1);

    // the format follows the extension
    let jpg = dir.join("grid.jpg");
    assert!(sample(s(&jpg)).status.success());
    assert_eq!(&std::fs::read(&jpg).unwrap()[..3], [0xFF, 0xD8, 0xFF]);

    // style train into an unwritable place fails before training
    let photos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/images/content");
    let style = photos.join("../styles/starry_night.jpg");
    let o = atelier(&[
        "style",
        "train",
        "--style",
        s(&style),
        "--content-dir",
        s(&photos),
        "--out",
        "/proc/m.safetensors",
        "--size",
        "16",
    ]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot write") && !stderr(&o).contains("train:"));
}

#[test]
fn usage_errors_exit_2_and_os_errors_print_once() {
    let missing = "/nonexistent/checkpoint.safetensors";
    for args in [
        vec!["gan", "sample", "--checkpoint", missing, "--n", "0"],
        vec![
            "gan",
            "eval",
            "--checkpoint",
            missing,
            "--data",
            "builtin:rothko",
            "--nhoods",
            "0",
        ],
        vec![
            "gan",
            "interpolate",
            "--checkpoint",
            missing,
            "--from",
            "1",
            "--to",
            "2",
            "--frames",
            "1",
        ],
        vec![
            "gan",
            "train",
            "--data",
            "builtin:rothko",
            "--out",
            "x",
            "--lr",
            "nan",
        ],
        vec![
            "gan",
            "train",
            "--data",
            "builtin:rothko",
            "--out",
            "x",
            "--image-size",
            "48",
        ],
        vec![
            "style",
            "transfer",
            "--content",
            "a.png",
            "--style",
            "b.png",
            "--out",
            "c.png",
            "--lr",
            "nan",
        ],
        vec![
            "style",
            "transfer",
            "--content",
            "a.png",
            "--style",
            "b.png",
            "--out",
            "c.png",
            "--features",
            "random:abc",
        ],
    ] {
        let o = atelier(&args);
        assert_eq!(code(&o), 2, "{args:?}");
    }
    let o = atelier(&["gan", "sample", "--checkpoint", missing]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o).matches("No such file or directory").count(),
        1,
        "{}",
        stderr(&o)
    );
}

/// A side length whose VGG conv1_1 output (64 channels) is over what the device holds in one
/// buffer (style transfer's ops split a larger-than-a-binding tensor into blocks of planes).
fn side_over_the_limit(device: Device) -> usize {
    let limit = atelier_tensor::max_tensor_bytes(device).bytes as f64;
    (limit / (64.0 * 4.0)).sqrt() as usize + 8
}

/// CycleGAN: a training step or a translation past the device's memory (the host's on the
/// fast CPU device) is refused before any work, naming the figures; `--size` is checked before
/// the image is resized (a huge size would fill the host with pixels first).
#[test]
fn cyclegan_sizes_past_the_memory_are_refused_up_front() {
    let dir = temp("cyclegan-sizes");
    std::fs::create_dir_all(&dir).unwrap();
    let run = dir.join("run");
    let small = [
        "--data-a",
        "builtin:mondrian:4",
        "--data-b",
        "builtin:mondrian:4",
        "--ngf",
        "4",
        "--ndf",
        "4",
    ];
    let big = ["--load-size", "8192", "--crop-size", "8192", "--steps", "1"];
    let args = [&["cyclegan", "train", "--out", s(&run)][..], &small, &big].concat();
    let o = atelier_on(Some(Device::Cpu), &args);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("a training step at this --batch, --crop-size, --ngf and --ndf needs")
            && err.contains("of host memory, but only"),
        "{err}"
    );
    assert!(!run.join("checkpoint.safetensors").exists());

    let fits = ["--load-size", "32", "--crop-size", "32", "--steps", "1"];
    let args = [&["cyclegan", "train", "--out", s(&run)][..], &small, &fits].concat();
    let o = atelier_on(Some(Device::Cpu), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let photo = dir.join("photo.png");
    image::RgbImage::from_pixel(40, 30, image::Rgb([90, 120, 200]))
        .save(&photo)
        .unwrap();
    let out = dir.join("out.png");
    let ck = run.join("checkpoint.safetensors");
    let o = atelier_on(
        Some(Device::Cpu),
        &[
            "cyclegan",
            "apply",
            "--model",
            s(&ck),
            "--input",
            s(&photo),
            "--out",
            s(&out),
            "--size",
            "100000",
        ],
    );
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("translating a 100000×75000 image needs")
            && err.contains("of host memory, but only"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn sizes_past_the_device_are_refused_up_front_and_big_work_is_batched() {
    let device = if atelier_kernels::context::gpu_for_tests() {
        Device::Gpu
    } else {
        Device::Cpu
    };
    let dir = temp("sizes");
    std::fs::create_dir_all(&dir).unwrap();
    // what cannot fit, refused before any work, with the figure and the limit (exit 1)
    for (args, says) in [
        (vec!["--batch", "100000"], "generator layer"),
        (vec!["--ngf", "100000"], "generator layer 1 weight"),
    ] {
        let run = dir.join("run");
        let mut a = vec![
            "gan",
            "train",
            "--data",
            "builtin:mondrian:16",
            "--out",
            s(&run),
        ];
        a.extend(args);
        let o = atelier_on(Some(device), &a);
        assert_eq!(code(&o), 1);
        let err = stderr(&o);
        assert!(
            err.contains(says) && err.contains("the largest tensor"),
            "{err}"
        );
        assert!(!run.exists(), "nothing written");
    }
    let side = side_over_the_limit(device);
    let photo = dir.join("square.png");
    image::RgbImage::from_pixel(32, 32, image::Rgb([90, 120, 200]))
        .save(&photo)
        .unwrap();
    for size in [side.to_string(), "100000".to_string()] {
        let o = atelier_on(
            Some(device),
            &[
                "style",
                "transfer",
                "--content",
                s(&photo),
                "--style",
                s(&photo),
                "--out",
                s(&dir.join("t.png")),
                "--size",
                &size,
            ],
        );
        assert_eq!(code(&o), 1);
        assert!(stderr(&o).contains("conv1_1 output"), "{}", stderr(&o));
    }

    // many images are generated in batches (256 at most), not refused
    let run = dir.join("small");
    assert!(
        atelier_on(
            Some(device),
            &train_args("builtin:mondrian:16", s(&run), "1")
        )
        .status
        .success()
    );
    let grid = dir.join("many.png");
    let ck = run.join("checkpoint.safetensors");
    let o = atelier_on(
        Some(device),
        &[
            "gan",
            "sample",
            "--checkpoint",
            s(&ck),
            "--n",
            "600",
            "--out",
            s(&grid),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&grid).unwrap();
    assert_eq!(img.width(), 25 * 34 + 2);
    // the first 16 of 600 are the 16 of a single batch
    let few = dir.join("few.png");
    assert!(
        atelier_on(
            Some(device),
            &[
                "gan",
                "sample",
                "--checkpoint",
                s(&ck),
                "--n",
                "16",
                "--out",
                s(&few)
            ]
        )
        .status
        .success()
    );
    let (a, b) = (img.to_rgb8(), image::open(&few).unwrap().to_rgb8());
    for (x, y) in [(2, 2), (20, 30), (36, 2)] {
        let d = |p: &image::Rgb<u8>, q: &image::Rgb<u8>| {
            (0..3).map(|i| p[i].abs_diff(q[i])).max().unwrap()
        };
        assert!(
            d(a.get_pixel(x, y), b.get_pixel(x, y)) <= 1,
            "pixel {x},{y}"
        );
    }
}

/// Runs the CLI on the GPU with `env` set.
fn atelier_gpu_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atelier"));
    cmd.env("ATELIER_DEVICE", "gpu").envs(env.iter().copied());
    let out = cmd.args(args).output().expect("running atelier");
    eprintln!("$ {env:?} atelier {}\n{}", args.join(" "), stderr(&out));
    out
}

/// GPU memory, with the device's memory capped at a few MiB (`ATELIER_DEVICE_MEMORY_BYTES`:
/// on a hardware GPU the figure is its largest device-local heap): DCGAN and CycleGAN training
/// runs and a style transfer whose estimates exceed it (VGG's weights alone are 49 MiB) are refused before any
/// work, naming both figures; work that allocates past it without an estimate (sampling a
/// checkpoint whose weights do not fit 64 KiB) stops at the first allocation past it with an
/// error naming the bytes, exit 1, not a panic.
#[test]
fn gpu_memory_is_checked_up_front_and_an_allocation_past_it_is_an_error() {
    if !atelier_kernels::context::gpu_for_tests() {
        return;
    }
    let dir = temp("memory");
    std::fs::create_dir_all(&dir).unwrap();
    let run = dir.join("run");
    let cap = [("ATELIER_DEVICE_MEMORY_BYTES", "1048576")];
    let args = [
        "gan",
        "train",
        "--data",
        "builtin:mondrian:16",
        "--out",
        s(&run),
    ];
    let o = atelier_gpu_env(&cap, &args);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("a training step at this batch size and width needs about")
            && err.contains("of GPU memory, but")
            && err.contains("has 1.0 MiB (ATELIER_DEVICE_MEMORY_BYTES)"),
        "{err}"
    );
    assert!(!run.exists(), "nothing written");
    let args = [
        "cyclegan",
        "train",
        "--data-a",
        "builtin:mondrian:4",
        "--data-b",
        "builtin:mondrian:4",
        "--out",
        s(&run),
    ];
    let o = atelier_gpu_env(&cap, &args);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("a training step at this --batch, --crop-size, --ngf and --ndf needs about")
            && err.contains("has 1.0 MiB (ATELIER_DEVICE_MEMORY_BYTES)"),
        "{err}"
    );
    assert!(!run.exists(), "nothing written");

    let photo = dir.join("photo.png");
    image::RgbImage::from_pixel(32, 32, image::Rgb([90, 120, 200]))
        .save(&photo)
        .unwrap();
    let out = dir.join("t.png");
    let cap = [("ATELIER_DEVICE_MEMORY_BYTES", "8388608")];
    let args = [
        "style",
        "transfer",
        "--content",
        s(&photo),
        "--style",
        s(&photo),
    ];
    let o = atelier_gpu_env(
        &cap,
        &[&args[..], &["--out", s(&out), "--size", "32"]].concat(),
    );
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("style transfer at 32×32 needs about")
            && err.contains("has 8.0 MiB (ATELIER_DEVICE_MEMORY_BYTES)"),
        "{err}"
    );
    assert!(!out.exists(), "no image written");

    let o = atelier(&train_args("builtin:mondrian:16", s(&run), "1"));
    assert!(o.status.success(), "{}", stderr(&o));
    let grid = dir.join("grid.png");
    let cap = [("ATELIER_DEVICE_MEMORY_BYTES", "65536")];
    let ck = run.join("checkpoint.safetensors");
    let o = atelier_gpu_env(
        &cap,
        &["gan", "sample", "--checkpoint", s(&ck), "--out", s(&grid)],
    );
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("atelier: error: out of GPU memory: allocating a buffer of")
            && err.contains("has 64.0 KiB (ATELIER_DEVICE_MEMORY_BYTES)")
            && !err.contains("panicked"),
        "{err}"
    );
    assert!(!grid.exists(), "no grid written");
}

/// Sets the value of `flag` in `args`.
fn set(args: &mut [String], flag: &str, value: &str) {
    let i = args.iter().position(|a| a == flag).expect("flag present");
    args[i + 1] = value.into();
}

/// The losses (loss_d, loss_g, d_x, d_g_z1, d_g_z2) of each row of RUN_DIR/metrics.csv.
fn losses(run: &Path) -> Vec<Vec<f64>> {
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .skip(2)
                .take(5)
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn a_batch_over_the_binding_limit_trains_in_chunks_as_it_trains_whole() {
    if !atelier_kernels::context::gpu_for_tests() {
        return;
    }
    let dir = temp("chunks");
    std::fs::create_dir_all(&dir).unwrap();
    // batch 16 at 32×32, widths 8: G's last stage output [16, 8, 16, 16] (128 KiB), the
    // images (192 KiB) and D's first output (128 KiB) are over a binding of 64 KiB
    let args = |run: &'static str| {
        let out = dir.join(run);
        let mut a: Vec<String> = train_args("builtin:mondrian:16", s(&out), "2")
            .into_iter()
            .map(String::from)
            .collect();
        set(&mut a, "--batch", "16");
        set(&mut a, "--log-every", "1");
        a
    };
    let run = |name: &'static str, limit: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atelier"));
        // the binding limit is the GPU's: ask for it (auto would pick the fast CPU device)
        cmd.args(args(name)).env("ATELIER_DEVICE", "gpu");
        if let Some(l) = limit {
            cmd.env("ATELIER_MAX_BINDING_BYTES", l);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        losses(&dir.join(name))
    };
    // the lowered limit is the device's own: a kernel binding more than 64 KiB would be a
    // wgpu validation error, so the run passing shows every large tensor went in chunks
    let whole = run("whole", None);
    let split = run("split", Some("65536"));
    assert_eq!(whole.len(), 2);
    assert_eq!(whole.len(), split.len());
    for (a, b) in whole.iter().zip(&split) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-3 * x.abs().max(1.0), "{a:?} vs {b:?}");
        }
    }
    // one image over a binding is refused before any work, naming it and the limit
    let mut refused = args("refused");
    // at 128×128 with widths 2, one generated image (192 KiB) is over the binding
    set(&mut refused, "--image-size", "128");
    set(&mut refused, "--ngf", "2");
    set(&mut refused, "--ndf", "2");
    let o = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(refused)
        .env("ATELIER_DEVICE", "gpu")
        .env("ATELIER_MAX_BINDING_BYTES", "65536")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("one item of generated images"), "{err}");
    assert!(err.contains("max storage-buffer binding size"), "{err}");
    assert!(!dir.join("refused").exists(), "nothing written");
}

/// `style transfer` and `style apply` with the device's binding limit lowered to 1 MiB give
/// the images they give unsplit. Transfer (at 32 px, one step: VGG-19 is slow on lavapipe)
/// meets VGG's weights over the limit (conv3 to conv5: 1.1 to 9 MiB), so its convolutions run
/// in blocks of channels forward and backward; apply (at 128 px) meets activations over the
/// limit (conv1's output [1, 32, 128, 128] is 2 MiB, deconv2's upsampled, padded input
/// 4.3 MiB), run through reflection padding, convolutions, instance norms and upsampling in
/// blocks of planes. (Each split launcher, the Gram matrices' included, is checked against
/// its unsplit self at tiny sizes in `atelier-kernels` `tests/chunked.rs`.)
#[test]
fn one_image_over_the_binding_limit_transfers_as_it_transfers_whole() {
    if !atelier_kernels::context::gpu_for_tests() {
        return;
    }
    let dir = temp("bigimage");
    std::fs::create_dir_all(&dir).unwrap();
    let (photo, painting) = (dir.join("photo.png"), dir.join("painting.png"));
    image::RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([(x * 8) as u8, (y * 8) as u8, 128])
    })
    .save(&photo)
    .unwrap();
    image::RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([((x ^ y) * 8) as u8, 200, ((x + y) * 4) as u8])
    })
    .save(&painting)
    .unwrap();
    let run = |name: &str, limit: Option<&str>| {
        let out = dir.join(name);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atelier"));
        cmd.args([
            "style",
            "transfer",
            "--content",
            s(&photo),
            "--style",
            s(&painting),
            "--out",
            s(&out),
            "--size",
            "32",
            "--steps",
            "1",
            "--log-every",
            "1",
        ])
        .env("ATELIER_DEVICE", "gpu");
        if let Some(l) = limit {
            cmd.env("ATELIER_MAX_BINDING_BYTES", l);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        image::open(&out).unwrap().to_rgb8()
    };
    // the lowered limit is the device's own: any kernel binding more than 1 MiB would be a
    // wgpu validation error, so the run passing shows every large tensor was split
    let whole = run("whole.png", None);
    let split = run("split.png", Some("1048576"));
    assert_eq!(whole.dimensions(), (32, 32));
    // sums split into blocks round differently: a level of 255 at most
    let worst = most_levels_apart(&whole, &split);
    assert!(worst <= 1, "split image differs by {worst} levels");

    // `style apply` at 128 px with a seeded network
    let model = dir.join("net.safetensors");
    atelier_style::TransformerNet::new(3, Device::Cpu)
        .save(&model, &Default::default())
        .unwrap();
    let apply = |name: &str, limit: Option<&str>| {
        let out = dir.join(name);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atelier"));
        cmd.args(["style", "apply", "--model", s(&model), "--input", s(&photo)])
            .args(["--out", s(&out), "--size", "128"])
            .env("ATELIER_DEVICE", "gpu");
        if let Some(l) = limit {
            cmd.env("ATELIER_MAX_BINDING_BYTES", l);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        image::open(&out).unwrap().to_rgb8()
    };
    let (whole, split) = (
        apply("a_whole.png", None),
        apply("a_split.png", Some("1048576")),
    );
    assert_eq!(whole.dimensions(), (128, 128));
    let worst = most_levels_apart(&whole, &split);
    assert!(worst <= 1, "split stylised image differs by {worst} levels");
}

/// The largest difference of one channel of one pixel between two images of one size.
fn most_levels_apart(a: &image::RgbImage, b: &image::RgbImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels()
        .zip(b.pixels())
        .flat_map(|(p, q)| (0..3).map(move |i| p[i].abs_diff(q[i])))
        .max()
        .unwrap()
}
