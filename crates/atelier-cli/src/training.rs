//! What the training commands share (`gan train`, `cyclegan train`): the stop flag that
//! Ctrl-C sets, the check that a new run does not overwrite an old one, the progress bar.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

/// A flag that the first Ctrl-C sets (the loop then finishes its step and writes a
/// checkpoint); a second Ctrl-C exits at once.
pub fn stop_on_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\natelier: second Ctrl-C, exiting without a checkpoint");
            std::process::exit(130);
        }
        eprintln!("\natelier: Ctrl-C: finishing this step and writing a checkpoint...");
    })
    .context("installing the Ctrl-C handler")?;
    Ok(stop)
}

/// An error when `out` already holds a run (`command` continues it with `--resume`).
pub fn refuse_existing_run(out: &Path, command: &str) -> anyhow::Result<()> {
    if atelier_gan::run::checkpoint_path(out).exists() {
        bail!(
            "{} already holds a run; continue it with `{command} --resume {0}`, or pick another \
             --out",
            out.display()
        );
    }
    Ok(())
}

/// A bar of `total` steps starting at `at`, with a message.
pub fn step_bar(total: u64, at: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30.cyan/blue} {pos}/{len} steps  {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_position(at);
    bar
}

/// Prints `line` above the bar (or plainly when the bar is hidden, off a terminal).
pub fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        println!("{line}");
    } else {
        bar.println(line);
    }
}

/// Whether `--device` was given on the command line (a resumed run keeps its own otherwise).
pub fn device_flag_given() -> bool {
    std::env::args().any(|a| a == "--device" || a.starts_with("--device="))
}

/// The device a run trains on, in words.
pub fn describe_device(d: atelier_tensor::Device) -> String {
    match d {
        atelier_tensor::Device::Gpu => {
            let info = &atelier_kernels::gpu().info;
            format!("gpu: {} ({:?})", info.name, info.backend)
        }
        atelier_tensor::Device::Cpu => "cpu (the reference implementation; slow)".into(),
    }
}
