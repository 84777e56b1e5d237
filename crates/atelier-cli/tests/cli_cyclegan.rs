//! `atelier cyclegan` end to end, running the built binary with tiny settings (16×16 crops,
//! widths 2 and 4, one residual block): train (the run folder locked while it trains),
//! Ctrl-C, resume (TensorBoard logging on in a second event file), apply to a folder and to
//! one image, export the generators (ONNX, and a .pth that `apply` reads back), and the
//! errors a user meets first.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use atelier_runlog::tensorboard::proto::{Kind, What};
use atelier_runlog::tensorboard::read_events;

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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-cli-cg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const TINY: [&str; 20] = [
    "--load-size",
    "20",
    "--crop-size",
    "16",
    "--ngf",
    "2",
    "--ndf",
    "4",
    "--n-blocks",
    "1",
    "--n-layers-d",
    "1",
    "--batch",
    "2",
    "--pool-size",
    "4",
    "--log-every",
    "1",
    "--sample-every",
    "2",
];

/// The folder's TensorBoard event files, oldest first.
fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("events.out.tfevents."))
        .collect();
    v.sort();
    v
}

/// (step, number of scalars) of each event with scalars, and the steps of sample grids.
fn logged(path: &Path) -> (Vec<(i64, usize)>, Vec<i64>) {
    let (mut scalars, mut images) = (Vec::new(), Vec::new());
    for e in read_events(path).unwrap() {
        let Some(What::Summary(s)) = e.what else {
            continue;
        };
        let n = s
            .value
            .iter()
            .filter(|v| matches!(v.kind, Some(Kind::SimpleValue(x)) if x.is_finite()))
            .count();
        if n > 0 {
            scalars.push((e.step, n));
        }
        if s.value
            .iter()
            .any(|v| matches!(v.kind, Some(Kind::Image(_))))
        {
            images.push(e.step);
        }
    }
    (scalars, images)
}

fn metric_steps(dir: &Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

#[cfg(unix)]
#[test]
fn train_interrupt_resume_apply() {
    let dir = temp("run");
    let mut args = vec![
        "cyclegan",
        "train",
        "--data-a",
        "builtin:mondrian:8",
        "--data-b",
        "builtin:rothko:6",
        "--steps",
        "100000",
        "--out",
        s(&dir),
    ];
    args.extend(TINY);
    // the plain reference: slow enough a step that the interrupt below lands early (the
    // resumed run's length follows wherever it landed)
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(&args)
        .env("ATELIER_DEVICE", "reference")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // wait for the second logged step, then interrupt as Ctrl-C does
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("[2/") {
            break;
        }
    }
    for name in [
        "D_A:", "G_A:", "cycle_A:", "idt_A:", "D_B:", "G_B:", "cycle_B:", "idt_B:",
    ] {
        assert!(seen.contains(name), "{name} not logged:\n{seen}");
    }

    // while it trains the folder is its own: a second run and a resume are refused, naming
    // the folder and the process that holds it
    let pid = format!("PID {}", child.id());
    let refused_resume = [
        "cyclegan",
        "train",
        "--resume",
        s(&dir),
        "--steps",
        "100000",
    ];
    for other in [&args[..], &refused_resume[..]] {
        let o = atelier(other);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(
            err.contains(s(&dir))
                && err.contains("in use by another atelier process")
                && err.contains(&pid),
            "{err}"
        );
    }

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let code = child.wait().unwrap();
    let rest = rest.join("\n");
    // stopped by SIGINT with a checkpoint: 128 + 2
    assert_eq!(code.code(), Some(130), "exit {code:?}\n{seen}{rest}");
    assert!(rest.contains("stopped by SIGINT at step"), "{seen}{rest}");
    for f in [
        "config.json",
        "checkpoint.safetensors",
        "metrics.csv",
        "losses.png",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let stopped: u64 = metric_steps(&dir).last().copied().unwrap();
    assert!(stopped >= 2);
    // the resumed run goes on to the second even step after the stop (a grid every second
    // step): 6 when the interrupt landed at step 2 or 3, later if the run got further
    let end = (stopped / 2 + 2) * 2;
    let end_arg = end.to_string();
    let resume_args = [
        "cyclegan",
        "train",
        "--resume",
        s(&dir),
        "--steps",
        &end_arg,
    ];

    assert!(!dir.join(".atelier.lock").exists(), "the lock is released");

    // a new run into the same folder is refused; --resume carries on to `end` steps
    let again = atelier(&args);
    assert_eq!(again.status.code(), Some(1));
    let err = stderr(&again);
    assert!(
        err.contains(s(&dir))
            && err.contains("already holds a run")
            && err.contains("--resume")
            && err.contains("--force"),
        "{err}"
    );
    let o = atelier(&resume_args);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains(&format!("at step {stopped} of {end}")),
        "{text}"
    );
    assert!(text.contains(&format!("finished: {end} steps")), "{text}");
    assert_eq!(
        metric_steps(&dir),
        (1..=end).collect::<Vec<u64>>(),
        "every step logged once"
    );
    let grid = dir.join(format!("samples/step_{end:06}.png"));
    let (w, h) = image::image_dimensions(&grid).unwrap();
    assert_eq!(
        (w, h),
        (6 * 18 + 2, 4 * 18 + 2),
        "rows real_A | fake_B | … | rec_B"
    );

    // TensorBoard: the first run's event file up to the stop, the resumed run's after it;
    // every step's eight losses, learning rate and images/s, and the grid of every second step
    let files = event_files(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let (first, resumed) = (logged(&files[0]), logged(&files[1]));
    let steps = |l: &(Vec<(i64, usize)>, Vec<i64>)| l.0.iter().map(|s| s.0).collect::<Vec<_>>();
    let (stopped, end) = (stopped as i64, end as i64);
    assert_eq!(steps(&first), (1..=stopped).collect::<Vec<_>>());
    assert_eq!(steps(&resumed), (stopped + 1..=end).collect::<Vec<_>>());
    assert!(
        first.0.iter().chain(&resumed.0).all(|&(_, n)| n == 10),
        "8 losses, lr, images/s: {first:?} {resumed:?}"
    );
    let grids: Vec<i64> = first.1.iter().chain(&resumed.1).copied().collect();
    assert_eq!(grids, (2..=end).step_by(2).collect::<Vec<_>>());
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        html.contains(&format!("step {end} of {end}"))
            && html.contains(&format!("checkpoint-step\">{end}<")),
        "{html}"
    );

    // a finished run says so; fewer steps than it has done is a usage error
    let o = atelier(&["cyclegan", "train", "--resume", s(&dir)]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains(&format!("already finished at step {end}")),
        "{}",
        stdout(&o)
    );
    let o = atelier(&["cyclegan", "train", "--resume", s(&dir), "--steps", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("below the checkpoint's step {end}")),
        "{}",
        stderr(&o)
    );

    // apply G_B to a folder of photos of any size (a corrupt file among them)
    let ck = dir.join("checkpoint.safetensors");
    let photos = temp("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for (name, (w, h)) in [("a.png", (23, 17)), ("b.jpg", (16, 30))] {
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 9) as u8, (y * 7) as u8, 90]))
            .save(photos.join(name))
            .unwrap();
    }
    std::fs::write(photos.join("broken.png"), b"not a png").unwrap();
    let out = temp("translated");
    let o = atelier(&[
        "cyclegan",
        "apply",
        "--model",
        s(&ck),
        "--direction",
        "BtoA",
        "--input",
        s(&photos),
        "--out",
        s(&out),
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("netG_B"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("translated 2 image(s)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        image::image_dimensions(out.join("a.png")).unwrap(),
        (23, 17)
    );
    assert_eq!(
        image::image_dimensions(out.join("b.png")).unwrap(),
        (16, 30)
    );

    // one image to one file
    let one = temp("one.png");
    let o = atelier(&[
        "cyclegan",
        "apply",
        "--model",
        s(&ck),
        "--input",
        s(&photos.join("a.png")),
        "--out",
        s(&one),
    ]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("netG_A"),
        "AtoB by default: {}",
        stdout(&o)
    );
    assert_eq!(image::image_dimensions(&one).unwrap(), (23, 17));

    export_generators(&ck, &photos.join("a.png"), &one);
}

/// `export` of a CycleGAN checkpoint's generators: ONNX (netG_A by default, netG_B asked for;
/// an example input in [-1, 1] with atelier's output), and .pth files holding the plain
/// ResnetGenerator state_dict that `cyclegan apply` reads back as a `latest_net_G.pth`, with
/// the same result as the checkpoint itself (`translated` is G_A's translation of `photo`).
fn export_generators(ck: &Path, photo: &Path, translated: &Path) {
    let dir = temp("export");
    std::fs::create_dir_all(&dir).unwrap();
    let stored = atelier_nn::Checkpoint::load(ck).unwrap();
    for (what, channels) in [(None, 3), (Some("netG_B"), 3)] {
        let onnx = dir.join(format!("{}.onnx", what.unwrap_or("default")));
        let example = dir.join(format!("{}.safetensors", what.unwrap_or("default")));
        let mut args = vec![
            "export",
            "--format",
            "onnx",
            "--checkpoint",
            s(ck),
            "--out",
            s(&onnx),
            "--example",
            s(&example),
        ];
        if let Some(w) = what {
            args.extend(["--what", w]);
        }
        let o = atelier(&args);
        assert!(o.status.success());
        assert!(
            stdout(&o).contains(what.unwrap_or("netG_A")),
            "{}",
            stdout(&o)
        );
        let ex = atelier_nn::Checkpoint::load(&example).unwrap();
        assert_eq!(ex.shape("input").unwrap(), [2, channels, 38, 44]);
        let x = ex.values("input").unwrap();
        assert!(x.iter().all(|v| (-1.0..=1.0).contains(v)));
        // the two strides and upsamplings round 38 up to 40
        assert_eq!(ex.shape("output").unwrap(), [2, channels, 40, 44]);
        assert!(std::fs::metadata(&onnx).unwrap().len() > 0);
    }

    for net in ["netG_A", "netG_B"] {
        let pth = dir.join(format!("latest_net_{}.pth", &net[3..]));
        let o = atelier(&[
            "export",
            "--format",
            "pth",
            "--checkpoint",
            s(ck),
            "--out",
            s(&pth),
            "--what",
            net,
        ]);
        assert!(o.status.success());
        let exported = atelier_pth::load(&pth).unwrap();
        let prefix = format!("{net}.");
        let keys: Vec<&str> = stored
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .collect();
        assert!(keys.contains(&"model.1.weight"), "{keys:?}");
        let mut written: Vec<&str> = exported.keys().collect();
        written.sort();
        assert_eq!(written, keys, "{net}: the state_dict, nothing else");
        for key in keys {
            let full = format!("{prefix}{key}");
            let t = exported.get(key).unwrap();
            assert_eq!(t.shape, stored.shape(&full).unwrap(), "{full}");
            assert_eq!(t.values, stored.values(&full).unwrap(), "{full}");
        }
    }

    // G_A's file translates as the checkpoint's G_A does
    let again = dir.join("again.png");
    let o = atelier(&[
        "cyclegan",
        "apply",
        "--model",
        s(&dir.join("latest_net_G_A.pth")),
        "--input",
        s(photo),
        "--out",
        s(&again),
    ]);
    assert!(o.status.success());
    assert_eq!(
        image::open(&again).unwrap().to_rgb8(),
        image::open(translated).unwrap().to_rgb8()
    );

    // one generator's file holds no netG_B
    let o = atelier(&[
        "export",
        "--format",
        "onnx",
        "--checkpoint",
        s(&dir.join("latest_net_G_B.pth")),
        "--out",
        s(&dir.join("x.onnx")),
        "--what",
        "netG_B",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("one CycleGAN generator"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_folder_that_is_not_empty_is_refused_naming_it() {
    let dir = temp("not-empty");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let mut args = vec![
        "cyclegan",
        "train",
        "--data-a",
        "builtin:mondrian:4",
        "--data-b",
        "builtin:rothko:4",
        "--steps",
        "1",
        "--out",
        s(&dir),
    ];
    args.extend(TINY);
    let o = atelier(&args);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(s(&dir)) && err.contains("not empty (notes.txt)") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "nothing written"
    );
    // --force: the run goes in beside the user's file
    args.push("--force");
    let o = atelier(&args);
    assert!(o.status.success());
    assert!(dir.join("checkpoint.safetensors").exists());
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"mine");
}

#[test]
fn errors_name_the_flag_and_the_problem() {
    let run = temp("bad");
    let mut args = vec![
        "cyclegan",
        "train",
        "--data-a",
        "builtin:mondrian:4",
        "--data-b",
        "builtin:rothko:4",
        "--out",
        s(&run),
    ];
    args.extend(TINY);
    let mut crop = args.clone();
    crop[11] = "32"; // --crop-size
    let o = atelier(&crop);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--crop-size 32 is larger than --load-size 20"),
        "{}",
        stderr(&o)
    );

    let empty = temp("empty-domain");
    std::fs::create_dir_all(&empty).unwrap();
    let mut e = args.clone();
    e[5] = s(&empty);
    let o = atelier(&e);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--data-b") && stderr(&o).contains(s(&empty)),
        "{}",
        stderr(&o)
    );

    let o = atelier(&[
        "cyclegan",
        "apply",
        "--model",
        "/nonexistent/checkpoint.safetensors",
        "--input",
        "x.png",
        "--out",
        "y.png",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/nonexistent/checkpoint.safetensors"));
}
