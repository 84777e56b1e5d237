//! `atelier cyclegan` end to end, running the built binary with tiny settings (16×16 crops,
//! widths 2 and 4, one residual block): train, Ctrl-C, resume, apply to a folder and to one
//! image, and the errors a user meets first.

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(&args)
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

    // a new run into the same folder is refused; --resume carries on to 6 steps
    let again = atelier(&args);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));
    let o = atelier(&["cyclegan", "train", "--resume", s(&dir), "--steps", "6"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains(&format!("at step {stopped} of 6")), "{text}");
    assert!(text.contains("finished: 6 steps"), "{text}");
    assert_eq!(
        metric_steps(&dir),
        (1..=6).collect::<Vec<u64>>(),
        "every step logged once"
    );
    let grid = dir.join("samples/step_000006.png");
    let (w, h) = image::image_dimensions(&grid).unwrap();
    assert_eq!(
        (w, h),
        (6 * 18 + 2, 4 * 18 + 2),
        "rows real_A | fake_B | … | rec_B"
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
