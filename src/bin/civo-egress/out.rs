//! Standard output that survives a closed pipe, and local input read with a
//! size cap.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::failure::Failure;

/// The cap on one local input (a snapshot, an allowlist, standard input):
/// 16 MiB, far above any real account (a snapshot of 10k clusters is ~5 MiB).
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Set once a write to stdout failed (`| head` closed it): later writes are
/// skipped, and the command still finishes with its own exit code.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout unless it is closed; a failed write closes it for good.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        CLOSED.store(true, Ordering::Relaxed);
    }
}

/// `println!` that stops writing, without a panic, once stdout is closed.
macro_rules! say {
    ($($arg:tt)*) => { $crate::out::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!`, likewise.
macro_rules! say_raw {
    ($($arg:tt)*) => { $crate::out::write_stdout(format_args!($($arg)*)) };
}

/// Pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Failure::Runtime(format!("cannot write JSON: {e}")))?;
    say!("{json}");
    Ok(())
}

/// Reads a local file, or standard input for `-`, refusing more than
/// [`MAX_INPUT_BYTES`].
pub fn read(path: &Path) -> Result<String, Failure> {
    let (name, result) = if path == Path::new("-") {
        ("standard input".to_owned(), read_capped(std::io::stdin().lock()))
    } else {
        let name = path.display().to_string();
        match std::fs::File::open(path) {
            Ok(file) => (name, read_capped(file)),
            Err(e) => return Err(Failure::Usage(format!("cannot read {name}: {e}"))),
        }
    };
    match result {
        Ok(Some(text)) => Ok(text),
        Ok(None) => {
            Err(Failure::Usage(format!("{name} is larger than {} MiB, the cap on local input", MAX_INPUT_BYTES >> 20)))
        }
        Err(e) => Err(Failure::Usage(format!("cannot read {name}: {e}"))),
    }
}

/// The text, or `None` past the cap.
fn read_capped(reader: impl Read) -> std::io::Result<Option<String>> {
    let mut text = String::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_string(&mut text)?;
    Ok((text.len() as u64 <= MAX_INPUT_BYTES).then_some(text))
}

/// Whether progress lines belong on stderr: only when a person watches it.
pub fn progress_wanted() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}
