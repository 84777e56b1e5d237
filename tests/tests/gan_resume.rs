//! The trainer: a run interrupted after k steps and resumed carries on with the same step
//! count, data position, noise stream and Adam state (moments equal to the saved ones), and
//! ends where an uninterrupted run ends, bit for bit (on the CPU, which is deterministic). A
//! NaN stops a run and keeps the last good checkpoint. Tiny sizes: 32×32, widths 8.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use atelier_gan::trainer::{Event, Outcome, TrainConfig, TrainError, Trainer};
use atelier_nn::{Checkpoint, Module};

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atelier-resume-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn tiny(steps: u64) -> TrainConfig {
    TrainConfig {
        data: "builtin:mondrian:40".into(),
        image_size: 32,
        batch: 8,
        steps: Some(steps),
        epochs: None,
        lr: 2e-4,
        seed: 3,
        nz: 16,
        ngf: 8,
        ndf: 8,
        device: "cpu".into(),
        log_every: 2,
        sample_every: 100,
        checkpoint_every: 100,
        ..TrainConfig::default()
    }
}

fn values(m: &dyn Module) -> Vec<(String, Vec<f32>)> {
    m.named_tensors()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec()))
        .collect()
}

fn adam_moments(t: &Trainer) -> Vec<Vec<f32>> {
    let mut all = Vec::new();
    for opt in [&t.model.opt_g, &t.model.opt_d] {
        let (_, m, v) = opt.state();
        all.extend(m.iter().chain(v).map(|x| x.to_vec()));
    }
    all
}

static NEVER: AtomicBool = AtomicBool::new(false);

#[test]
fn an_interrupted_run_resumes_where_it_stopped() {
    // 5 batches per epoch: 7 steps cross an epoch boundary, the stop at 3 is mid-epoch
    let total = 7;
    let dir = run_dir("interrupted");
    let mut t = Trainer::create(tiny(total), &dir, false).unwrap();
    assert_eq!(t.run.batches_per_epoch, 5);

    // stop after 3 steps, the way Ctrl-C does: a flag seen before the next step
    let stop = AtomicBool::new(false);
    let outcome = t
        .run(&stop, &mut |e| {
            if let Event::Step { step: 3, .. } = e {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
    assert_eq!(outcome, Outcome::Stopped);
    assert_eq!(t.step(), 3);
    let moments_at_stop = adam_moments(&t);
    let g_at_stop = values(&t.model.g);
    drop(t);

    let ck = Checkpoint::load(dir.join("checkpoint.safetensors")).unwrap();
    assert_eq!(ck.int("trainer.step").unwrap(), 3);
    assert_eq!(ck.int("optim.netG.step").unwrap(), 3);
    assert_eq!(ck.int("optim.netD.step").unwrap(), 3);

    let mut t = Trainer::resume(&dir, None, None).unwrap();
    assert_eq!(t.step(), 3);
    assert_eq!(t.model.opt_g.state().0, 3);
    assert_eq!(t.model.opt_d.state().0, 3);
    let st = t.state();
    assert_eq!((st.epoch, st.batch_index, st.rng_position), (0, 3, 3));
    assert_eq!(
        adam_moments(&t),
        moments_at_stop,
        "Adam moments carried over"
    );
    let saved = ck.values("optim.netG.main.0.weight.exp_avg").unwrap();
    assert_eq!(t.model.opt_g.state().1[0].to_vec(), saved);
    assert_eq!(values(&t.model.g), g_at_stop);
    assert_eq!(t.metrics().len(), 2, "rows at steps 2 and 3 are kept");

    assert_eq!(t.run(&NEVER, &mut |_| {}).unwrap(), Outcome::Finished);
    assert_eq!(t.step(), total);

    // the same run without the interruption ends in the same place
    let mut straight = Trainer::create(tiny(total), run_dir("straight"), false).unwrap();
    straight.run(&NEVER, &mut |_| {}).unwrap();
    assert_eq!(values(&t.model.g), values(&straight.model.g));
    assert_eq!(values(&t.model.d), values(&straight.model.d));
    assert_eq!(adam_moments(&t), adam_moments(&straight));
    // (the interrupted run also logged step 3, where it stopped)
    let losses = |t: &Trainer| -> Vec<(u64, f32, f32)> {
        t.metrics()
            .iter()
            .filter(|l| l.step != 3)
            .map(|l| (l.step, l.values.loss_d, l.values.loss_g))
            .collect()
    };
    assert_eq!(losses(&t), losses(&straight));

    for file in ["config.json", "real.png", "metrics.csv", "losses.png"] {
        assert!(dir.join(file).exists(), "{file}");
    }
    assert!(dir.join("samples/step_000007.png").exists());
}

#[test]
fn a_nan_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = run_dir("nan");
    let mut config = tiny(6);
    config.checkpoint_every = 2;
    let mut t = Trainer::create(config, &dir, false).unwrap();
    t.run_until(2, &NEVER, &mut |_| {}).unwrap();
    let path = dir.join("checkpoint.safetensors");
    let good = std::fs::read(&path).unwrap();

    // poison D's last layer: its logits, so every loss from now on, are NaN
    let (_, w) = t.model.d.named_parameters().pop().unwrap();
    w.write(&vec![f32::NAN; w.numel()]);
    let err = t.run(&NEVER, &mut |_| {}).unwrap_err();
    let TrainError::Diverged { step, .. } = &err else {
        panic!("expected divergence, got {err}");
    };
    assert_eq!(
        *step, 4,
        "caught at the first read after the NaN (log_every 2)"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("step 2") && msg.contains("checkpoint"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        good,
        "the good checkpoint is kept"
    );
}

/// The GPU's counters belong to the process: the test that counts them holds this lock while
/// it runs, and so does the other test here that uses the GPU (its read-backs would count).
static GPU_COUNTERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_non_finite_buffer_is_caught_on_the_device_before_it_reaches_a_checkpoint() {
    let _counters = GPU_COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    for device in atelier_tests::devices() {
        let dir = run_dir(&format!("nan-buffer-{device}"));
        let mut config = tiny(4);
        config.device = device.to_string();
        config.checkpoint_every = 2;
        let mut t = Trainer::create(config, &dir, false).unwrap();
        t.run_until(2, &NEVER, &mut |_| {}).unwrap();
        let path = dir.join("checkpoint.safetensors");
        let good = std::fs::read(&path).unwrap();
        // G's first BatchNorm running variance: unused in training mode, so the losses stay
        // finite and only the check at the checkpoint sees it
        let (_, var) = t
            .model
            .g
            .named_buffers()
            .into_iter()
            .find(|(n, _)| n == "main.1.running_var")
            .unwrap();
        let mut v = var.to_vec();
        v[3] = f32::INFINITY;
        var.write(&v);
        let err = t.run(&NEVER, &mut |_| {}).unwrap_err();
        let TrainError::NonFinite { step, tensor, .. } = &err else {
            panic!("{device}: expected a non-finite tensor, got {err}");
        };
        assert_eq!((*step, tensor.as_str()), (4, "netG.main.1.running_var"));
        assert!(err.to_string().contains("step 2"), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            good,
            "the good checkpoint is kept"
        );
    }
}

#[test]
fn on_the_gpu_steps_between_logs_read_nothing_and_create_nothing() {
    if !atelier_tests::devices().contains(&atelier_tensor::Device::Gpu) {
        return;
    }
    let _counters = GPU_COUNTERS.lock().unwrap_or_else(|e| e.into_inner());
    let g = atelier_kernels::gpu();
    let mut config = tiny(8);
    config.device = "gpu".into();
    config.log_every = 4;
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
    // steps 6 and 7: recorded, not read; the pool and the pipeline cache already hold all
    let d = between.unwrap();
    assert_eq!(d.readbacks, 0, "{d}");
    assert_eq!(d.buffers_allocated, 0, "{d}");
    assert_eq!(d.pipelines_compiled, 0, "{d}");
    assert_eq!(t.metrics().len(), 2, "logged at 4 and 8");
}
