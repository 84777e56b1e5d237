//! What the training commands share (`cyclegan train`; `gan train` keeps its own bar): the
//! check that a new run does not overwrite an old one, the progress bar, the device line. The
//! stop flag that signals set is `signals::Stop`.

use std::path::Path;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

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
        out(&line);
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

/// Prints a line without panicking when stdout is gone (a closed terminal after SIGHUP).
pub fn out(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}
