//! Standard output that survives a closed pipe and reports any other failed
//! write, and local input read with a size cap.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use civo_egress::{LocalFileError, MAX_LOCAL_FILE_BYTES, read_local_file};

use crate::failure::Failure;

/// Set once a write to stdout failed: later writes are skipped.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// The first failed write that was not a closed pipe (a full disk, an io
/// error): the command then fails with exit 3, whatever it found.
static WRITE_ERROR: OnceLock<std::io::Error> = OnceLock::new();

/// Writes to stdout unless it is closed; a failed write closes it for good.
/// A closed pipe (`| head`) is silent and keeps the command's exit code;
/// any other failure is recorded for [`write_failure`].
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = WRITE_ERROR.set(e);
        }
    }
}

/// The failure of a write to stdout that was not a closed pipe, if one
/// failed: checked once the command ran, so that a firewall file written to
/// a full disk is not taken for a written one.
pub fn write_failure() -> Option<Failure> {
    WRITE_ERROR.get().map(|e| Failure::Runtime(format!("cannot write standard output: {e}")))
}

/// `println!` that stops writing, without a panic, once stdout is closed.
macro_rules! say {
    ($($arg:tt)*) => { $crate::out::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!`, likewise.
macro_rules! say_raw {
    ($($arg:tt)*) => { $crate::out::write_stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics: a closed or full stderr loses the line,
/// not the command (its exit code still says what happened).
macro_rules! note {
    ($($arg:tt)*) => { $crate::out::write_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Writes to stderr, ignoring a failure: the line is all that is lost.
pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Failure::Runtime(format!("cannot write JSON: {e}")))?;
    say!("{json}");
    Ok(())
}

/// Reads a local file, or standard input for `-`, refusing more than
/// [`MAX_LOCAL_FILE_BYTES`] (16 MiB). A file is read with
/// [`read_local_file`]: a regular file only (a FIFO is refused before it is
/// opened, a device or `/proc` file is not trusted for its length).
pub fn read(path: &Path) -> Result<String, Failure> {
    let cap = MAX_LOCAL_FILE_BYTES >> 20;
    if path != Path::new("-") {
        return read_local_file(path, MAX_LOCAL_FILE_BYTES).map_err(|e| {
            let name = path.display();
            Failure::Usage(match e {
                LocalFileError::TooLarge { .. } => format!("{name} is larger than {cap} MiB, the cap on local input"),
                LocalFileError::NotFound { .. } => format!("cannot read {name}: no such file"),
                LocalFileError::NotRegular { what, .. } => format!("cannot read {name}: not a regular file (a {what})"),
                LocalFileError::NotText { .. } => format!("cannot read {name}: not UTF-8 text"),
                LocalFileError::Io { source, .. } => format!("cannot read {name}: {source}"),
                other => format!("cannot read {other}"),
            })
        });
    }
    let mut text = String::new();
    match std::io::stdin().lock().take(MAX_LOCAL_FILE_BYTES + 1).read_to_string(&mut text) {
        Ok(_) if text.len() as u64 <= MAX_LOCAL_FILE_BYTES => Ok(text),
        Ok(_) => Err(Failure::Usage(format!("standard input is larger than {cap} MiB, the cap on local input"))),
        Err(e) => Err(Failure::Usage(format!("cannot read standard input: {e}"))),
    }
}

/// Whether progress lines belong on stderr: only when a person watches it.
pub fn progress_wanted() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}
