//! The trainer's options for small collections, end to end at tiny sizes on the CPU:
//! DiffAugment with ADA, mirroring and the EMA generator resume bit for bit (p, the sign sum,
//! the average and its update count carried in the checkpoint); `--init-from` fine-tunes from
//! another run and refuses a different architecture by name; the GPU loop stays free of
//! read-backs and allocations with every option on.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use atelier_gan::ada::AdaConfig;
use atelier_gan::trainer::checkpoint::{NET_G_EMA, load_generator};
use atelier_gan::trainer::{Event, Outcome, TrainConfig, TrainError, Trainer};
use atelier_nn::{Checkpoint, Module};
use atelier_tensor::Device;

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-small-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn tiny(steps: u64) -> TrainConfig {
    TrainConfig {
        data: "builtin:kandinsky:24".into(),
        image_size: 32,
        batch: 4,
        steps: Some(steps),
        epochs: None,
        lr: 2e-3,
        seed: 5,
        nz: 8,
        ngf: 4,
        ndf: 4,
        device: "cpu".into(),
        log_every: 2,
        sample_every: 3,
        checkpoint_every: 100,
        diffaug: "color,translation,cutout".into(),
        ada: Some(AdaConfig {
            target: 0.6,
            interval: 2,
            kimg: 0.02, // p moves by 0.4 per adjustment: it visibly changes in a few steps
        }),
        mirror: true,
        ema: Some(0.9),
        init_from: None,
        swd_every: None,
        swd_images: 16,
    }
}

fn values(m: &dyn Module) -> Vec<Vec<f32>> {
    m.named_tensors()
        .into_iter()
        .map(|(_, t)| t.to_vec())
        .collect()
}

static NEVER: AtomicBool = AtomicBool::new(false);

fn ada_state(t: &Trainer) -> (Vec<f32>, Vec<f32>, u64) {
    let ada = t.model.ada.as_ref().unwrap();
    (ada.p.to_vec(), ada.signs.to_vec(), ada.seen)
}

#[test]
fn a_run_with_diffaugment_ada_mirror_and_ema_resumes_exactly() {
    let total = 9;
    let dir = run_dir("resume");
    let mut t = Trainer::create(tiny(total), &dir, false).unwrap();
    // stop at 5: mid-way between ADA's adjustments (every 2 steps), so a sign sum is pending
    let stop = AtomicBool::new(false);
    let outcome = t
        .run(&stop, &mut |e| {
            if let Event::Step { step: 5, .. } = e {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
    assert_eq!(outcome, Outcome::Stopped);
    let (p, signs, seen) = ada_state(&t);
    assert_eq!(seen, 4, "one batch since the adjustment at step 4");
    let ema_at_stop = values(&t.model.ema.as_ref().unwrap().g);
    assert_ne!(ema_at_stop, values(&t.model.g), "the average lags G");
    drop(t);

    let ck = Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.values("ada.p").unwrap(), p);
    assert_eq!(ck.int("ema.updates").unwrap(), 5);
    assert!(ck.contains(&format!("{NET_G_EMA}.main.0.weight")));

    let mut t = Trainer::resume(&dir, None, None).unwrap();
    assert_eq!(ada_state(&t), (p.clone(), signs, seen));
    assert_eq!(t.model.ema.as_ref().unwrap().updates, 5);
    assert_eq!(values(&t.model.ema.as_ref().unwrap().g), ema_at_stop);
    assert_eq!(t.run(&NEVER, &mut |_| {}).unwrap(), Outcome::Finished);

    let mut straight = Trainer::create(tiny(total), run_dir("straight"), false).unwrap();
    straight.run(&NEVER, &mut |_| {}).unwrap();
    assert_eq!(values(&t.model.g), values(&straight.model.g));
    assert_eq!(values(&t.model.d), values(&straight.model.d));
    assert_eq!(
        values(&t.model.ema.as_ref().unwrap().g),
        values(&straight.model.ema.as_ref().unwrap().g)
    );
    assert_eq!(ada_state(&t), ada_state(&straight));
    // p starts at 0 and moves by at most ADA's step (0.4 here) per adjustment (one between
    // logs), clamped to [0, 1]
    let logged: Vec<f32> = straight.metrics().iter().map(|l| l.values.aug_p).collect();
    assert_eq!(logged.len(), 5, "logged at 2, 4, 6, 8, 9");
    assert_eq!(logged[0], 0.0);
    assert!(logged.iter().all(|p| (0.0..=1.0).contains(p)), "{logged:?}");
    assert!(
        logged.windows(2).all(|w| (w[1] - w[0]).abs() <= 0.4 + 1e-6),
        "{logged:?}"
    );
    assert!(
        logged.iter().any(|&p| p != logged[0]),
        "ADA moved p: {logged:?}"
    );

    // the run folder has the animation, and sampling picks the average by default
    assert!(dir.join("progress.gif").exists());
    let path = dir.join("checkpoint.safetensors");
    let ema = load_generator(&path, Device::Cpu, true).unwrap();
    let raw = load_generator(&path, Device::Cpu, false).unwrap();
    assert!(ema.ema && !raw.ema);
    assert_eq!(values(&ema.g), values(&t.model.ema.as_ref().unwrap().g));
    assert_eq!(values(&raw.g), values(&t.model.g));
}

#[test]
fn init_from_fine_tunes_and_refuses_another_architecture() {
    let source_dir = run_dir("source");
    let mut source = Trainer::create(tiny(2), &source_dir, false).unwrap();
    source.run(&NEVER, &mut |_| {}).unwrap();
    let ck = source_dir.join("checkpoint.safetensors");

    let mut config = tiny(1);
    config.data = "builtin:rothko:12".into();
    config.init_from = Some(ck.clone());
    let tuned = Trainer::create(config.clone(), run_dir("tuned"), false).unwrap();
    assert_eq!(tuned.step(), 0, "a new run");
    assert_eq!(tuned.model.opt_g.state().0, 0, "new optimizer state");
    assert_eq!(values(&tuned.model.g), values(&source.model.g));
    assert_eq!(values(&tuned.model.d), values(&source.model.d));
    assert_eq!(
        values(&tuned.model.ema.as_ref().unwrap().g),
        values(&source.model.ema.as_ref().unwrap().g)
    );

    config.ngf = 8;
    config.nz = 16;
    let err = Trainer::create(config, run_dir("mismatch"), false)
        .err()
        .expect("an error");
    let msg = err.to_string();
    assert!(matches!(err, TrainError::BadRun { .. }), "{msg}");
    assert!(
        msg.contains("ngf 4 there, 8 here") && msg.contains("nz 8 there, 16 here"),
        "{msg}"
    );
}

#[test]
fn on_the_gpu_augmented_steps_read_nothing_and_create_nothing() {
    if !atelier_tests::devices().contains(&Device::Gpu) {
        return;
    }
    let g = atelier_kernels::gpu();
    let mut config = tiny(8);
    config.device = "gpu".into();
    config.log_every = 4;
    config.sample_every = 100;
    config.ada = Some(AdaConfig {
        interval: 1,
        ..AdaConfig::default()
    });
    let mut t = Trainer::create(config, run_dir("gpu"), false).unwrap();
    let mut before = None;
    let mut between = None;
    t.run(&NEVER, &mut |e| {
        if let Event::Step { step, .. } = e {
            match step {
                5 => before = Some(g.stats()),
                7 => between = Some(g.stats() - before.unwrap()),
                _ => {}
            }
        }
    })
    .unwrap();
    let d = between.unwrap();
    assert_eq!(d.readbacks, 0, "{d}");
    assert_eq!(d.buffers_allocated, 0, "{d}");
    assert_eq!(d.pipelines_compiled, 0, "{d}");
    let p = t.metrics().last().unwrap().values.aug_p;
    assert!((0.0..=1.0).contains(&p), "{p}");
}
