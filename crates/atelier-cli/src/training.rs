//! What the training commands share (`cyclegan train`; `gan train` keeps its own bar): the
//! progress bar, the device line. The stop flag that signals set is `signals::Stop`; the run
//! log and page are `runlog`'s; the run folder's ownership is the trainers' (atelier_fs::RunDir).

use indicatif::{ProgressBar, ProgressStyle};

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
        atelier_tensor::Device::Cpu => format!(
            "cpu: the {} ({} threads)",
            atelier_kernels::cpu::cpu_mode(),
            atelier_kernels::cpu::threads()
        ),
    }
}

/// Prints a line without panicking when stdout is gone (a closed terminal after SIGHUP).
pub fn out(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}
