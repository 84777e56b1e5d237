//! Whether a process is still running (for temporary files and locks that name their PID).

/// Whether process `pid` exists. Where this cannot be known, `true` (nothing is removed).
#[cfg(unix)]
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
pub fn pid_alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        assert!(pid_alive(std::process::id()));
        let child = std::process::Command::new("true").spawn();
        if let Ok(mut child) = child {
            let pid = child.id();
            child.wait().unwrap();
            // reaped: the PID is free (reuse within this test is vanishingly unlikely)
            assert!(!pid_alive(pid));
        }
    }
}
