//! A RunLog's event files read back: every record's framing and CRCs, the file-version event,
//! every scalar at its step and tag, the image as a PNG of the right size, and a resumed run's
//! session start; scalars.csv holds the same values.

use std::path::{Path, PathBuf};

use atelier_runlog::RunLog;
use atelier_runlog::tensorboard::proto::{Kind, SessionStatus, What};
use atelier_runlog::tensorboard::{ReadError, read_events};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-runlog-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("events.out.tfevents.")
        })
        .collect();
    v.sort();
    v
}

/// (step, tag, value) of every scalar in `events`.
fn scalars_of(events: &[atelier_runlog::tensorboard::proto::Event]) -> Vec<(i64, String, f32)> {
    let mut out = Vec::new();
    for e in events {
        if let Some(What::Summary(s)) = &e.what {
            for v in &s.value {
                if let Some(Kind::SimpleValue(x)) = v.kind {
                    out.push((e.step, v.tag.clone(), x));
                }
            }
        }
    }
    out
}

#[test]
fn scalars_and_images_read_back_with_valid_crcs() {
    let dir = temp("write");
    let grid = dir.join("grid.png");
    image::RgbImage::from_fn(20, 12, |x, y| image::Rgb([x as u8 * 10, y as u8 * 20, 7]))
        .save(&grid)
        .unwrap();

    let mut log = RunLog::create(&dir, true).unwrap();
    let mut expected = Vec::new();
    for step in [10u64, 20, 30] {
        let d = 1.0 / step as f64;
        let values = [
            ("loss/D", d),
            ("loss/G", 2.0 * d),
            ("D/x", 0.5),
            ("lr", 2e-4),
        ];
        log.scalars(step, &values).unwrap();
        for (tag, v) in values {
            expected.push((step as i64, tag.to_string(), v as f32));
        }
    }
    log.image(30, "samples", &grid).unwrap();
    drop(log);

    let files = event_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let events = read_events(&files[0]).unwrap();
    assert_eq!(
        events[0].what,
        Some(What::FileVersion("brain.Event:2".into())),
        "the first event names the file version"
    );
    assert!(
        events.iter().all(|e| e.wall_time > 1.6e9),
        "wall times are Unix seconds"
    );
    assert_eq!(scalars_of(&events), expected);

    let image = events
        .iter()
        .find_map(|e| match &e.what {
            Some(What::Summary(s)) => s.value.iter().find_map(|v| match &v.kind {
                Some(Kind::Image(i)) => Some((e.step, v.tag.clone(), i.clone())),
                _ => None,
            }),
            _ => None,
        })
        .expect("an image event");
    assert_eq!((image.0, image.1.as_str()), (30, "samples"));
    assert_eq!(
        (image.2.width, image.2.height, image.2.colorspace),
        (20, 12, 3)
    );
    let decoded = image::load_from_memory(&image.2.encoded_image_string).unwrap();
    assert_eq!(decoded.to_rgb8(), image::open(&grid).unwrap().to_rgb8());

    // scalars.csv carries the same rows
    let csv = std::fs::read_to_string(dir.join("scalars.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + expected.len());
    assert!(csv.contains("20,loss/G,0.1\n"), "{csv}");

    // a flipped byte anywhere in a record is caught by its CRC
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let corrupt = dir.join("corrupt");
    std::fs::write(&corrupt, &bytes).unwrap();
    assert!(
        matches!(read_events(&corrupt), Err(ReadError::Record { .. })),
        "corruption must fail a CRC check"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resumed_log_starts_a_session_after_its_checkpoint_and_keeps_earlier_scalars() {
    let dir = temp("resume");
    let mut log = RunLog::create(&dir, true).unwrap();
    for step in 1..=6u64 {
        log.scalars(step, &[("loss/D", step as f64)]).unwrap();
    }
    drop(log);
    // resumed from a checkpoint at step 4: steps 5 and 6 will be logged again
    std::thread::sleep(std::time::Duration::from_millis(5));
    let mut log = RunLog::resume(&dir, 4, true).unwrap();
    assert_eq!(
        log.history()
            .get("loss/D")
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    log.scalars(5, &[("loss/D", 50.0)]).unwrap();
    let second = log.event_file().unwrap().to_path_buf();
    drop(log);

    let files = event_files(&dir);
    assert_eq!(files.len(), 2);
    let events = read_events(&second).unwrap();
    let start = events
        .iter()
        .find_map(|e| match &e.what {
            Some(What::SessionLog(s)) => Some((e.step, s.status)),
            _ => None,
        })
        .expect("a session log");
    assert_eq!(start, (5, SessionStatus::Start as i32));
    assert_eq!(scalars_of(&events), vec![(5, "loss/D".to_string(), 50.0)]);

    // without TensorBoard: no event file, scalars still kept
    let quiet = temp("quiet");
    let mut log = RunLog::create(&quiet, false).unwrap();
    log.scalars(1, &[("x", 1.0)]).unwrap();
    assert!(log.event_file().is_none() && event_files(&quiet).is_empty());
    assert_eq!(log.history().get("x"), &[(1, 1.0)]);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&quiet).unwrap();
}
