//! `atelier gan train` and `atelier cyclegan train` leave TensorBoard event files and a run
//! page: the events hold every scalar at every logged step and the sample grids; index.html,
//! opened in headless Chromium, loads every image it shows and draws every curve. A resumed
//! run logs on in a new event file; a run forced over an old one replaces its event files.
//!
//! Chromium (Debian's `chromium`) must be installed for the browser half: without it the test
//! says so and skips that half, unless ATELIER_REQUIRE_BROWSER=1 (CI sets it), where that is a
//! failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use atelier_runlog::tensorboard::proto::{Kind, What};
use atelier_runlog::tensorboard::read_events;

/// Runs atelier, which must succeed; returns its stderr.
fn atelier(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(args)
        .output()
        .expect("running atelier");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!(
        "$ atelier {}\n{}{err}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
    );
    assert!(out.status.success());
    err
}

fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("events.out.tfevents."))
        .collect();
    v.sort();
    v
}

/// (step, tag) pairs.
type Tagged = Vec<(i64, String)>;

/// (step, tag) of every scalar, and (step, tag) of every image, in the file.
fn contents(path: &Path) -> (Tagged, Tagged) {
    let (mut scalars, mut images) = (Vec::new(), Vec::new());
    for e in read_events(path).unwrap() {
        if let Some(What::Summary(s)) = e.what {
            for v in s.value {
                match v.kind {
                    Some(Kind::SimpleValue(x)) => {
                        assert!(x.is_finite(), "{} at {}", v.tag, e.step);
                        scalars.push((e.step, v.tag));
                    }
                    Some(Kind::Image(i)) => {
                        assert!(image::load_from_memory(&i.encoded_image_string).is_ok());
                        images.push((e.step, v.tag));
                    }
                    None => {}
                }
            }
        }
    }
    (scalars, images)
}

const TAGS: [&str; 7] = [
    "loss/D",
    "loss/G",
    "D/D(x)",
    "D/D(G(z)) before D step",
    "D/D(G(z)) after D step",
    "lr",
    "perf/images_per_s",
];

#[test]
fn gan_train_writes_tensorboard_events_and_a_run_page_that_renders() {
    let dir = std::env::temp_dir().join(format!("atelier-cli-{}-page", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let tiny = [
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
        "--log-every",
        "2",
        "--sample-every",
        "2",
        "--checkpoint-every",
        "4",
    ];
    let mut args = vec![
        "gan",
        "train",
        "--data",
        "builtin:mondrian:16",
        "--steps",
        "4",
    ];
    args.extend(tiny);
    args.extend(["--out", d]);
    atelier(&args);

    let files = event_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let (scalars, images) = contents(&files[0]);
    let expected: Vec<(i64, String)> = [2, 4]
        .iter()
        .flat_map(|&s| TAGS.iter().map(move |t| (s, t.to_string())))
        .collect();
    assert_eq!(scalars, expected);
    assert_eq!(
        images,
        [(2, "samples".to_string()), (4, "samples".to_string())]
    );
    for f in ["index.html", "scalars.csv", "walk.png"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }

    // resumed: a second event file that carries on from step 4
    atelier(&["gan", "train", "--resume", d, "--steps", "6"]);
    let files = event_files(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let (scalars, _) = contents(&files[1]);
    assert_eq!(scalars.first().map(|s| s.0), Some(6));

    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        html.contains("step 6 of 6") && html.contains("checkpoint-step\">6<"),
        "{html}"
    );
    // no network resources (SVG's xmlns names a namespace, it is not fetched)
    assert!(
        ["src=\"http", "href=\"http", "url(http", "@import"]
            .iter()
            .all(|p| !html.contains(p)),
        "no network resources"
    );

    // --no-tensorboard: no event file, the page all the same
    let quiet = dir.join("quiet");
    let mut args = vec![
        "gan",
        "train",
        "--data",
        "builtin:mondrian:16",
        "--steps",
        "2",
    ];
    args.extend(tiny);
    args.extend(["--no-tensorboard", "--out", quiet.to_str().unwrap()]);
    atelier(&args);
    assert!(event_files(&quiet).is_empty());
    assert!(quiet.join("index.html").exists());

    browser_check(
        &dir,
        Expect {
            // the latest grid, the strip of earlier ones (steps 2, 4), the latent walk, real
            // images
            min_images: 5,
            charts: "loss, D, lr, perf",
            missing: "walk.png",
        },
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const CYCLEGAN_TAGS: [&str; 10] = [
    "loss/D_A",
    "loss/G_A",
    "loss/cycle_A",
    "loss/idt_A",
    "loss/D_B",
    "loss/G_B",
    "loss/cycle_B",
    "loss/idt_B",
    "lr",
    "perf/images_per_s",
];

#[test]
fn cyclegan_train_writes_tensorboard_events_and_a_run_page_that_renders() {
    let dir = std::env::temp_dir().join(format!("atelier-cli-{}-cg-page", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "cyclegan",
        "train",
        "--data-a",
        "builtin:mondrian:4",
        "--data-b",
        "builtin:rothko:4",
        "--steps",
        "4",
    ];
    args.extend([
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
        "--log-every",
        "2",
        "--sample-every",
        "2",
        "--out",
        d,
    ]);
    atelier(&args);

    let files = event_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let (scalars, images) = contents(&files[0]);
    let expected: Vec<(i64, String)> = [2, 4]
        .iter()
        .flat_map(|&s| CYCLEGAN_TAGS.iter().map(move |t| (s, t.to_string())))
        .collect();
    assert_eq!(scalars, expected);
    assert_eq!(
        images,
        [(2, "samples".to_string()), (4, "samples".to_string())]
    );
    assert!(dir.join("scalars.csv").exists());
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for text in [
        "CycleGAN: ",
        "step 4 of 4, stopped",
        "checkpoint-step\">4<",
        "real_A | fake_B",
        "builtin:mondrian",
        "&quot;n_blocks&quot;: 1",
    ] {
        assert!(html.contains(text), "{text} missing:\n{html}");
    }
    browser_check(
        &dir,
        Expect {
            // the latest grid and the strip's earlier one (step 2)
            min_images: 2,
            charts: "loss, lr, perf",
            missing: "samples/step_000002.png",
        },
    );

    // a new run forced over this one, without TensorBoard: the old run's event file goes, no
    // new one comes, the page is the new run's
    let mut forced = args.clone();
    forced[7] = "2"; // --steps
    forced.extend(["--force", "--no-tensorboard"]);
    let err = atelier(&forced);
    assert!(err.contains("replaced the previous run's files"), "{err}");
    assert!(event_files(&dir).is_empty());
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("step 2 of 2"), "{html}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What the run page of a test run must show.
struct Expect {
    /// Images on the page, at least.
    min_images: u64,
    /// The charts, in order (their scalar groups).
    charts: &'static str,
    /// A file the page shows, removed to see the check fail on it.
    missing: &'static str,
}

/// Opens index.html through a page beside it that reads the loaded page's DOM: every image
/// must have loaded (natural width > 0) and every chart must have a curve drawn wider than
/// its legend swatch.
fn browser_check(dir: &Path, expect: Expect) {
    let Some(chromium) = find_chromium() else {
        let msg = "run page: no chromium on PATH (apt-get install chromium)";
        if std::env::var("ATELIER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{msg}, and ATELIER_REQUIRE_BROWSER=1");
        }
        eprintln!("skipping the browser check: {msg}");
        return;
    };
    let result = |dir: &Path| -> serde_json::Value {
        std::fs::write(dir.join("check.html"), CHECK_PAGE).unwrap();
        let profile = dir.join(".chromium-profile");
        let out = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--allow-file-access-from-files",
                "--virtual-time-budget=20000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", dir.join("check.html").display()))
            .output()
            .expect("running chromium");
        let dom = String::from_utf8_lossy(&out.stdout);
        let line = dom
            .lines()
            .find_map(|l| l.trim().strip_prefix("<pre>RESULT "))
            .unwrap_or_else(|| {
                panic!(
                    "no result in the DOM:\n{dom}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        serde_json::from_str(
            line.trim_end_matches("</pre></body></html>")
                .trim_end_matches("</pre>"),
        )
        .unwrap()
    };
    let r = result(dir);
    eprintln!("run page in chromium: {r}");
    assert!(r["images"].as_u64().unwrap() >= expect.min_images, "{r}");
    assert_eq!(r["broken"], serde_json::json!([]), "{r}");
    assert_eq!(
        r["groups"],
        serde_json::json!(expect.charts.split(", ").collect::<Vec<_>>()),
        "{r}"
    );
    let drawn: Vec<u64> = r["drawn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        drawn.iter().all(|&n| n >= 1),
        "every chart draws its curves: {r}"
    );

    // the check itself fails on a missing image
    std::fs::remove_file(dir.join(expect.missing)).unwrap();
    let r = result(dir);
    assert_eq!(r["broken"], serde_json::json!([expect.missing]), "{r}");
}

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

const CHECK_PAGE: &str = r#"<!DOCTYPE html><html><body>
<iframe id="f" src="index.html" width="1200" height="3000"></iframe>
<script>
document.getElementById('f').addEventListener('load', () => {
  const d = document.getElementById('f').contentDocument;
  const imgs = Array.from(d.images);
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const drawn = Array.from(d.querySelectorAll('.chart svg')).map(s =>
    Array.from(s.querySelectorAll('polyline')).filter(l => l.getBBox().width > 60).length);
  const groups = Array.from(d.querySelectorAll('.chart')).map(c => c.dataset.group);
  const out = document.createElement('pre');
  out.textContent = 'RESULT ' + JSON.stringify({images: imgs.length, broken, drawn, groups});
  document.body.appendChild(out);
});
</script></body></html>
"#;
