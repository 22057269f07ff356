//! [`read_local_file`]: every file the crate opens on a user's behalf (a
//! snapshot, an allowlist, a kubeconfig and the files it names, the Civo
//! CLI config, the service-account files) is read here, with a cap.
//!
//! Why one reader: a size check that trusts the reported length is fooled
//! by `/dev/zero`, pipes and `/proc` (all report 0), and a FIFO with no
//! writer blocks its reader forever. So the file must be a regular file
//! (checked before opening, since opening a FIFO blocks, and again on the
//! open handle), and at most `max_bytes + 1` bytes are ever read.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The default cap on one local input: 16 MiB, far above any real one (a
/// snapshot of 10,000 clusters is about 5 MiB; a kubeconfig, a few KiB).
pub const MAX_LOCAL_FILE_BYTES: u64 = 16 << 20;

/// Why a local file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalFileError {
    /// The file does not exist.
    #[error("{}: no such file", path.display())]
    #[non_exhaustive]
    NotFound {
        /// The file.
        path: PathBuf,
        /// The io error.
        source: std::io::Error,
    },
    /// Not a regular file: a directory, a FIFO, a socket, a device.
    #[error("{}: not a regular file (a {what})", path.display())]
    #[non_exhaustive]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Larger than the cap.
    #[error("{}: larger than {max_bytes} bytes, the cap on this input", path.display())]
    #[non_exhaustive]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap.
        max_bytes: u64,
    },
    /// Not UTF-8 text.
    #[error("{}: not UTF-8 text", path.display())]
    #[non_exhaustive]
    NotText {
        /// The file.
        path: PathBuf,
    },
    /// Any other io error (permissions, a read failure).
    #[error("{}: {source}", path.display())]
    #[non_exhaustive]
    Io {
        /// The file.
        path: PathBuf,
        /// The io error.
        source: std::io::Error,
    },
}

impl LocalFileError {
    /// Whether the file does not exist (callers that treat a missing
    /// optional file as empty branch on this).
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

/// Reads the regular file at `path` as UTF-8 text, refusing more than
/// `max_bytes`, a file that is not regular (a FIFO is refused before it is
/// opened: opening it would block), and text that is not UTF-8.
///
/// ```
/// use civo_egress::{LocalFileError, read_local_file};
/// let error = read_local_file(std::path::Path::new("/dev/zero"), 1024).unwrap_err();
/// assert!(matches!(error, LocalFileError::NotRegular { .. }), "{error}");
/// ```
///
/// # Errors
///
/// A [`LocalFileError`], naming the file.
pub fn read_local_file(path: &Path, max_bytes: u64) -> Result<String, LocalFileError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            LocalFileError::NotFound { path: path.to_owned(), source }
        } else {
            LocalFileError::Io { path: path.to_owned(), source }
        }
    };
    regular(path, &std::fs::metadata(path).map_err(io)?)?;
    let file = open(path).map_err(io)?;
    // Checked again on the handle: the path may have been swapped between.
    regular(path, &file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(LocalFileError::TooLarge { path: path.to_owned(), max_bytes });
    }
    String::from_utf8(bytes).map_err(|_| LocalFileError::NotText { path: path.to_owned() })
}

/// Opens for reading; on Linux with `O_NONBLOCK`, so that a FIFO swapped
/// in after the check above cannot block the open (the handle is checked
/// again, and a regular file reads the same either way).
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // `O_NONBLOCK` is 0o4000 on these (asm-generic/fcntl.h); mips, sparc,
    // alpha and parisc number it otherwise, and open without it.
    #[cfg(all(
        target_os = "linux",
        any(
            target_arch = "x86",
            target_arch = "x86_64",
            target_arch = "arm",
            target_arch = "aarch64",
            target_arch = "riscv64",
            target_arch = "powerpc64",
            target_arch = "s390x"
        )
    ))]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, 0o4000);
    options.open(path)
}

fn regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), LocalFileError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() { "directory" } else { special_kind(&kind) };
    Err(LocalFileError::NotRegular { path: path.to_owned(), what })
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_char_device() {
        "character device"
    } else if kind.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("civo-egress-local-file-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap(); // ok: test
        dir
    }

    #[test]
    fn reads_regular_files_under_the_cap_only() {
        let dir = dir("cap");
        let path = dir.join("f");
        std::fs::write(&path, "12345").unwrap(); // ok: test
        assert_eq!(read_local_file(&path, 5).unwrap(), "12345"); // ok: test
        assert!(matches!(read_local_file(&path, 4), Err(LocalFileError::TooLarge { max_bytes: 4, .. })));
        std::fs::write(&path, [0xff, 0xfe]).unwrap(); // ok: test
        assert!(matches!(read_local_file(&path, 5), Err(LocalFileError::NotText { .. })));
        assert!(read_local_file(&dir.join("missing"), 5).is_err_and(|e| e.is_not_found()));
        assert!(matches!(read_local_file(&dir, 5), Err(LocalFileError::NotRegular { what: "directory", .. })));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn devices_and_proc_files() {
        let zero = read_local_file(Path::new("/dev/zero"), 1 << 20);
        assert!(matches!(zero, Err(LocalFileError::NotRegular { what: "character device", .. })), "{zero:?}");
        // /proc reports a length of 0 and still has content: read with the cap.
        let status = read_local_file(Path::new("/proc/self/status"), 1 << 20).unwrap(); // ok: test
        assert!(status.contains("Pid:"));
        assert!(matches!(read_local_file(Path::new("/proc/self/status"), 8), Err(LocalFileError::TooLarge { .. })));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = dir("fifo");
        let path = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if made.is_ok_and(|s| s.success()) {
            let error = read_local_file(&path, 5);
            assert!(matches!(error, Err(LocalFileError::NotRegular { what: "FIFO", .. })), "{error:?}");
        } else {
            panic!("mkfifo is needed by this test"); // ok: test
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
