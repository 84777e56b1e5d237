//! The CycleGAN trainer: a run interrupted after k steps and resumed carries on with the same
//! weights, Adam state, image pools, data position, crops and flips, and learning rate, and
//! ends where an uninterrupted run ends, bit for bit (on the CPU, which is deterministic).
//! Errors name what was wrong. Tiny sizes: 16×16 crops, widths 2 and 4, one residual block.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use atelier_cyclegan::trainer::{CycleError, Event, Outcome, TrainConfig, Trainer};
use atelier_nn::{Checkpoint, Module};

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-cg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// 6 A images and 4 B images: epochs of 6 items, 3 batches of 2; one epoch at the full
/// learning rate and one of decay, so a 5-step run changes its rate once.
fn tiny(steps: u64) -> TrainConfig {
    TrainConfig {
        data_a: "builtin:mondrian:6".into(),
        data_b: "builtin:rothko:4".into(),
        load_size: 20,
        crop_size: 16,
        batch: 2,
        n_epochs: 1,
        n_epochs_decay: 1,
        steps: Some(steps),
        ngf: 2,
        ndf: 4,
        n_blocks: Some(1),
        n_layers_d: 1,
        pool_size: 3,
        device: "cpu".into(),
        log_every: 1,
        sample_every: 100,
        checkpoint_every: 100,
        ..TrainConfig::default()
    }
}

fn state(t: &Trainer) -> Vec<(String, Vec<f32>)> {
    let mut all: Vec<(String, Vec<f32>)> = t
        .model
        .nets()
        .into_iter()
        .flat_map(|(net, m)| {
            m.named_tensors()
                .into_iter()
                .map(move |(n, v)| (format!("{net}.{n}"), v.to_vec()))
        })
        .collect();
    for (name, opt) in [("G", &t.model.opt_g), ("D", &t.model.opt_d)] {
        let (step, m, v) = opt.state();
        all.push((format!("{name}.step"), vec![step as f32]));
        all.extend(m.iter().chain(v).map(|x| (name.to_string(), x.to_vec())));
    }
    for pool in [&t.model.pool_a, &t.model.pool_b] {
        all.extend(
            pool.images()
                .iter()
                .map(|x| ("pool".to_string(), x.to_vec())),
        );
    }
    all
}

static NEVER: AtomicBool = AtomicBool::new(false);

#[test]
fn an_interrupted_run_resumes_where_it_stopped() {
    let total = 5;
    let dir = run_dir("interrupted");
    let mut t = Trainer::create(tiny(total), &dir, false).unwrap();
    assert_eq!((t.run.epoch_len, t.run.batches_per_epoch), (6, 3));
    let stop = AtomicBool::new(false);
    let mut lrs = Vec::new();
    let outcome = t
        .run(&stop, &mut |e| match e {
            Event::Step { step: 2, .. } => stop.store(true, Ordering::Relaxed),
            Event::Epoch { lr, .. } => lrs.push(lr),
            _ => {}
        })
        .unwrap();
    assert_eq!(outcome, Outcome::Stopped);
    assert_eq!(t.step(), 2);
    assert_eq!(lrs, [2e-4]);
    assert_eq!(
        t.model.pool_a.images().len(),
        3,
        "the pool filled (2 + 1 images)"
    );
    let at_stop = state(&t);
    drop(t);

    let ck = Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.int("trainer.step").unwrap(), 2);
    assert!(ck.contains("netG_A.model.1.weight") && ck.contains("netD_B.model.0.bias"));
    assert!(ck.contains("optim.G.netG_B.model.14.weight.exp_avg"));
    assert!(ck.contains("pool.fake_A.2") && !ck.contains("pool.fake_A.3"));

    let mut t = Trainer::resume(&dir, None, None).unwrap();
    assert_eq!(t.step(), 2);
    assert_eq!(
        state(&t),
        at_stop,
        "weights, Adam state and pools carried over"
    );
    let mut lrs = Vec::new();
    let outcome = t
        .run(&NEVER, &mut |e| {
            if let Event::Epoch { epoch, lr } = e {
                lrs.push((epoch, lr));
            }
        })
        .unwrap();
    assert_eq!(outcome, Outcome::Finished);
    // the second epoch decays: lr · (1 − 1/2)
    assert_eq!(lrs, [(0, 2e-4), (1, 1e-4)]);

    let mut straight = Trainer::create(tiny(total), run_dir("straight"), false).unwrap();
    straight.run(&NEVER, &mut |_| {}).unwrap();
    assert_eq!(
        state(&t),
        state(&straight),
        "the resumed run ends where the straight one does"
    );
    let losses = |t: &Trainer| -> Vec<(u64, [f32; 8])> {
        t.metrics()
            .iter()
            .map(|l| (l.step, l.losses.values()))
            .collect()
    };
    assert_eq!(losses(&t), losses(&straight));
    for file in [
        "config.json",
        "metrics.csv",
        "losses.png",
        "samples/step_000005.png",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let (w, h) = image::image_dimensions(dir.join("samples/step_000005.png")).unwrap();
    // 6 columns (real_A fake_B rec_A real_B fake_A rec_B) × 4 rows of 16 px, 2 px padding
    assert_eq!((w, h), (6 * 18 + 2, 4 * 18 + 2));
}

fn error_of(config: TrainConfig, name: &str) -> String {
    match Trainer::create(config, run_dir(name), false) {
        Ok(_) => panic!("{name}: expected an error"),
        Err(e) => e.to_string(),
    }
}

fn folder(name: &str, images: &[(u32, bool)]) -> PathBuf {
    let dir = run_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, &(size, grey)) in images.iter().enumerate() {
        let path = dir.join(format!("{i}.png"));
        if grey {
            image::GrayImage::from_fn(size, size, |x, _| image::Luma([(x * 8) as u8]))
                .save(&path)
                .unwrap();
        } else {
            image::RgbImage::from_fn(size, size, |x, y| image::Rgb([(x * 8) as u8, y as u8, 40]))
                .save(&path)
                .unwrap();
        }
    }
    dir
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn bad_settings_are_refused_naming_what_is_wrong() {
    let e = error_of(
        TrainConfig {
            crop_size: 24,
            ..tiny(1)
        },
        "crop",
    );
    assert!(
        e.contains("--crop-size 24") && e.contains("--load-size 20"),
        "{e}"
    );

    let e = error_of(
        TrainConfig {
            crop_size: 18,
            ..tiny(1)
        },
        "crop4",
    );
    assert!(e.contains("--crop-size 18 must be a multiple of 4"), "{e}");
    let e = error_of(
        TrainConfig {
            n_layers_d: 3,
            ..tiny(1)
        },
        "small",
    );
    assert!(
        e.contains("--crop-size 16 is too small") && e.contains("24"),
        "{e}"
    );

    let empty = folder("empty", &[]);
    let e = error_of(
        TrainConfig {
            data_b: s(&empty),
            ..tiny(1)
        },
        "empty",
    );
    assert!(e.contains("--data-b") && e.contains(&s(&empty)), "{e}");

    // grey A, RGB B: the identity loss cannot compare them
    let grey = folder("grey", &[(24, true), (30, true)]);
    let e = error_of(
        TrainConfig {
            data_a: s(&grey),
            ..tiny(1)
        },
        "channels",
    );
    assert!(
        e.contains("same channels") && e.contains("--lambda-identity 0"),
        "{e}"
    );
    // without it, grey ↔ RGB trains
    let mut t = Trainer::create(
        TrainConfig {
            data_a: s(&grey),
            lambda_identity: 0.0,
            ..tiny(1)
        },
        run_dir("grey-run"),
        false,
    )
    .unwrap();
    assert_eq!((t.run.model.nc_a, t.run.model.nc_b), (1, 3));
    t.run(&NEVER, &mut |_| {}).unwrap();

    // a run folder whose checkpoint is not a CycleGAN's
    let dcgan = run_dir("dcgan");
    let mut gan = atelier_gan::trainer::Trainer::create(
        atelier_gan::trainer::TrainConfig {
            data: "builtin:rothko:8".into(),
            image_size: 32,
            batch: 4,
            steps: Some(1),
            nz: 4,
            ngf: 2,
            ndf: 2,
            device: "cpu".into(),
            ..atelier_gan::trainer::TrainConfig::default()
        },
        &dcgan,
        false,
    )
    .unwrap();
    gan.run(&NEVER, &mut |_| {}).unwrap();
    drop(gan); // its run folder's lock
    let e = Trainer::resume(&dcgan, None, None).err().unwrap();
    assert!(matches!(e, CycleError::BadRun { .. }), "{e}");
    assert!(e.to_string().contains("not a CycleGAN run"), "{e}");
    let e = atelier_cyclegan::apply::load_generator(
        &dcgan.join("checkpoint.safetensors"),
        atelier_cyclegan::apply::Direction::AtoB,
        atelier_tensor::Device::Cpu,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("neither a CycleGAN checkpoint"), "{e}");
}

#[test]
fn a_non_finite_weight_never_reaches_a_checkpoint_and_the_folder_has_one_owner() {
    let dir = run_dir("non-finite");
    let mut t = Trainer::create(tiny(2), &dir, false).unwrap();
    // the folder is claimed: a second trainer is refused while this one lives
    let e = Trainer::resume(&dir, None, None).err().unwrap().to_string();
    assert!(e.contains("in use by another atelier process"), "{e}");
    t.run_until(1, &NEVER, &mut |_| {}).unwrap();
    assert_eq!(t.step(), 1);
    let (name, w) = t.model.g_b.named_parameters().swap_remove(3);
    let mut values = w.to_vec();
    values[1] = f32::NAN;
    w.write(&values);
    let e = t.checkpoint(&mut |_| {}).err().unwrap();
    assert!(matches!(e, CycleError::NonFinite { .. }), "{e}");
    assert!(
        e.to_string().contains(&format!("netG_B.{name}")) && e.to_string().contains("step 1"),
        "{e}"
    );
    drop(t);
    // the last good checkpoint stays, and resuming it with fewer steps changes nothing
    let ck = Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.int("trainer.step").unwrap(), 1);
    let e = Trainer::resume(&dir, Some(0), None).err().unwrap();
    assert!(matches!(e, CycleError::StepsBehind { at: 1, .. }), "{e}");
}
