//! atelier-fs: the file-system rules every atelier command follows, in one place.
//!
//! - [`atomic`]: files are written to a temporary name that is unique to the process, synced,
//!   and renamed over the target, so a reader (or a crash, a kill, a full disk) never sees half
//!   a file; temporary files that a killed process left behind are removed on the next start.
//! - [`lock`] and [`run_dir`]: a run folder has one owner at a time (a lock file holding the
//!   owner's PID, released by the OS when the owner dies), and a new run never starts in a
//!   folder that holds something else unless asked to (`--force`).
//! - [`check`]: outputs are checked before work starts (the folder exists and is writable) and
//!   inputs are opened only when they are regular files (a FIFO would block forever).
//! - [`memory`]: how much host memory is free, to refuse work that cannot fit before it starts.

pub mod atomic;
pub mod check;
pub mod error;
pub mod lock;
pub mod memory;
pub mod process;
pub mod run_dir;

pub use atomic::{clean_stale_temps, temp_path, write_atomic, write_atomic_with};
pub use check::{check_output_file, check_regular_file, check_writable_dir, read_regular_file};
pub use error::{FsError, Result};
pub use lock::RunLock;
pub use memory::{check_device_memory, check_host_memory, host_memory_available};
pub use run_dir::RunDir;
