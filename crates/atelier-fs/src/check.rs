//! Checks made before work starts: that an output can be written, that an input is a regular
//! file (opening a FIFO for reading blocks until something writes to it, forever in practice).

use std::fs::{File, Metadata};
use std::path::Path;

use crate::error::{FsError, Result};

/// What kind of non-regular file `meta` describes, in words.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// An error unless `path` is (or links to) a regular file.
pub fn check_regular_file(path: &Path) -> Result<Metadata> {
    let meta = std::fs::metadata(path).map_err(|e| FsError::io(path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind(&meta),
        });
    }
    Ok(meta)
}

/// Opens `path` for reading only if it is a regular file. On Unix the open itself cannot block
/// (O_NONBLOCK), and the type is checked on the opened file, so a file swapped for a FIFO
/// after a check is caught too.
pub fn open_regular(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| FsError::io(path, e))?;
    let meta = file.metadata().map_err(|e| FsError::io(path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind(&meta),
        });
    }
    // O_NONBLOCK has no effect on regular files; reads behave as usual.
    Ok(file)
}

/// The bytes of a regular file (see [`open_regular`]).
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| FsError::io(path, e))?;
    Ok(bytes)
}

/// An error unless `dir` is an existing folder in which this process can create files (tried
/// by creating and removing a hidden probe file: permission bits do not tell, for root, on a
/// read-only mount, or on a full quota).
pub fn check_writable_dir(dir: &Path) -> Result<()> {
    let shown = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match std::fs::metadata(shown) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FsError::NoFolder {
                path: shown.to_path_buf(),
            });
        }
        Err(e) => return Err(FsError::io(shown, e)),
        Ok(m) if !m.is_dir() => {
            return Err(FsError::NotAFolder {
                path: shown.to_path_buf(),
            });
        }
        Ok(_) => {}
    }
    let probe = shown.join(format!(".atelier-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
    {
        Ok(f) => {
            drop(f);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(FsError::NotWritable {
            path: shown.to_path_buf(),
            error,
        }),
    }
}

/// An error unless a file can be written at `path`: it is not a folder, and its folder exists
/// and is writable.
pub fn check_output_file(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(FsError::Refused {
            path: path.to_path_buf(),
            message: "is a folder; give a file name".into(),
        });
    }
    check_writable_dir(path.parent().unwrap_or(Path::new("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("atelier-fs-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("x.png");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = read_regular_file(&fifo).unwrap_err().to_string();
        assert!(err.contains("a FIFO") && err.contains("x.png"), "{err}");
        let err = check_regular_file(&fifo).unwrap_err().to_string();
        assert!(err.contains("a FIFO"), "{err}");
        assert!(
            check_regular_file(&dir)
                .unwrap_err()
                .to_string()
                .contains("a folder")
        );
    }

    #[test]
    fn outputs_need_an_existing_writable_folder() {
        let dir = std::env::temp_dir();
        check_output_file(&dir.join("ok.png")).unwrap();
        let err = check_output_file(&dir.join("no-such-folder-atelier/x.png")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(
            check_output_file(&dir)
                .unwrap_err()
                .to_string()
                .contains("is a folder")
        );
        #[cfg(target_os = "linux")]
        {
            // /proc refuses new files even for root
            let err = check_output_file(Path::new("/proc/x.png")).unwrap_err();
            assert!(err.to_string().contains("cannot write"), "{err}");
        }
    }
}
