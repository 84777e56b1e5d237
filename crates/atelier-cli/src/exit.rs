//! Exit codes and error messages: 0 done, 1 a runtime error (a file, the device, the data), 2 a
//! usage error (a flag's value, a combination of flags: clap's own errors exit 2 as well),
//! 128 + N stopped by signal N after writing a checkpoint. Each error prints once, with every
//! cause in its chain that adds something (an OS error is never repeated).

use std::fmt;

/// A usage error: the command line itself is wrong (exit 2).
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// `Err(Usage)` with a formatted message.
#[macro_export]
macro_rules! usage {
    ($($t:tt)*) => {
        return Err($crate::exit::Usage(format!($($t)*)).into())
    };
}

/// The work stopped on a signal after saving (exit 128 + N); the message was printed.
#[derive(Debug)]
pub struct Stopped {
    pub code: u8,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stopped by a signal (exit code {})", self.code)
    }
}

impl std::error::Error for Stopped {}

/// Whether an error in the chain is a usage error (ours, or a library's "bad setting").
fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<Usage>()
            || matches!(
                c.downcast_ref::<atelier_gan::trainer::TrainError>(),
                Some(
                    atelier_gan::trainer::TrainError::Config(_)
                        | atelier_gan::trainer::TrainError::StepsBehind { .. }
                )
            )
            || matches!(
                c.downcast_ref::<atelier_cyclegan::trainer::CycleError>(),
                Some(
                    atelier_cyclegan::trainer::CycleError::Config(_)
                        | atelier_cyclegan::trainer::CycleError::StepsBehind { .. }
                )
            )
            || matches!(
                c.downcast_ref::<atelier_data::Error>(),
                Some(
                    atelier_data::Error::BadSpec { .. }
                        | atelier_data::Error::UnknownBuiltin { .. }
                        | atelier_data::Error::BadOutput { .. }
                )
            )
            || matches!(
                c.downcast_ref::<atelier_style::StyleError>(),
                Some(atelier_style::StyleError::Invalid(_))
            )
    })
}

/// The error's message with each cause that is not already part of it.
pub fn render(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The exit code for `e` (printing it, unless it is a signal stop already reported).
pub fn report(e: &anyhow::Error) -> u8 {
    if let Some(s) = e.downcast_ref::<Stopped>() {
        return s.code;
    }
    eprintln!("atelier: error: {}", render(e));
    if is_usage(e) { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_cause_prints_once_and_usage_exits_2() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = anyhow::Error::new(io).context(format!(
            "x.png: {}",
            std::io::Error::from(std::io::ErrorKind::NotFound)
        ));
        assert_eq!(render(&e).matches("not found").count(), 1, "{}", render(&e));
        let u: anyhow::Error = Usage("--n must be at least 1".into()).into();
        assert_eq!(report(&u.context("sampling")), 2);
        assert_eq!(report(&anyhow::anyhow!("disk on fire")), 1);
        assert_eq!(report(&Stopped { code: 143 }.into()), 143);
    }
}
