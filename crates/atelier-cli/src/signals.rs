//! Signals during long work (training): SIGINT (Ctrl-C), SIGTERM (`docker stop`, systemd,
//! `timeout`) and SIGHUP (the terminal closed) each ask the work to stop at its next safe
//! point, write a checkpoint, and exit with 128 + the signal's number (130, 143, 129), so a
//! script can tell a stop from a finish and from an error; a second signal exits at once,
//! without a checkpoint (the last one written stays whole: every file is written atomically).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The stop request of the signals handled, shared with the work's loop.
pub struct Stop {
    flag: Arc<AtomicBool>,
    signal: Arc<AtomicI32>,
}

/// A signal's name, for messages.
fn name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// Written without panicking: stderr may be gone (a closed terminal).
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// What happens on the first signal, shown in the message (`"writing a checkpoint"`).
fn first(signal: i32, doing: &str) {
    say(&format!(
        "\natelier: {}: finishing this step and {doing}, then exiting with code {} (a second \
         signal exits at once)",
        name(signal),
        128 + signal
    ));
}

fn second(signal: i32) -> ! {
    say(&format!(
        "\natelier: second signal ({}): exiting at once (code {})",
        name(signal),
        128 + signal
    ));
    std::process::exit(128 + signal)
}

impl Stop {
    /// Handles SIGINT, SIGTERM and SIGHUP from now on; `doing` says what the first one leads
    /// to ("writing a checkpoint").
    pub fn install(doing: &'static str) -> anyhow::Result<Stop> {
        let stop = Stop {
            flag: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicI32::new(0)),
        };
        let (flag, signal) = (stop.flag.clone(), stop.signal.clone());
        let on_signal = move |sig: i32| {
            if flag.swap(true, Ordering::SeqCst) {
                second(sig);
            }
            signal.store(sig, Ordering::SeqCst);
            first(sig, doing);
        };
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
            std::thread::Builder::new()
                .name("atelier-signals".into())
                .spawn(move || {
                    for sig in signals.forever() {
                        on_signal(sig);
                    }
                })?;
        }
        #[cfg(not(unix))]
        ctrlc::set_handler(move || on_signal(2))?;
        Ok(stop)
    }

    /// Set once a signal asked the work to stop.
    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// The signal that asked the work to stop, as (name, exit code).
    pub fn received(&self) -> Option<(&'static str, u8)> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some((name(s), (128 + s) as u8)),
        }
    }
}
