//! The watch's stdout and stderr, each written by a thread of its own: a
//! reader that stalls (a pipe no one reads) never holds the watch, the
//! endpoints, the hooks or the signals. Past [`QUEUED`] lines waiting, a
//! line is dropped and counted.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

/// Lines that may wait for their stream.
const QUEUED: usize = 4096;

/// One stream's queue and writer.
struct Stream {
    lines: SyncSender<String>,
    thread: JoinHandle<()>,
}

impl Stream {
    fn start(write: fn(&str)) -> Self {
        let (lines, received): (SyncSender<String>, Receiver<String>) = std::sync::mpsc::sync_channel(QUEUED);
        let thread = std::thread::spawn(move || {
            for line in received {
                write(&line);
            }
        });
        Self { lines, thread }
    }
}

/// Both streams of the watch; cheap to clone (the queues are shared).
#[derive(Clone)]
pub struct Out {
    stdout: SyncSender<String>,
    stderr: SyncSender<String>,
    /// Lines dropped, either stream.
    pub dropped: Counter<u64>,
}

/// The writer threads, to let them finish.
pub struct Writers(Vec<JoinHandle<()>>);

impl Out {
    /// Starts both writers.
    pub fn start() -> (Self, Writers) {
        let out = Stream::start(|line| {
            say!("{line}");
            // A stdout that fails (a full disk, not a closed pipe) loses
            // every event from then on: said once, on stderr; the exit
            // code says it too (3, at the stop).
            static SAID: std::sync::Once = std::sync::Once::new();
            if let Some(failure) = crate::out::write_failure() {
                SAID.call_once(|| note!("{}: the events are lost until the stop", failure.message()));
            }
        });
        let err = Stream::start(|line| note!("{line}"));
        let this = Self { stdout: out.lines, stderr: err.lines, dropped: Counter::default() };
        (this, Writers(vec![out.thread, err.thread]))
    }

    /// An event's line, for stdout.
    pub fn print(&self, line: String) {
        self.send(&self.stdout, line);
    }

    /// A log line, for stderr.
    pub fn log(&self, line: String) {
        self.send(&self.stderr, line);
    }

    fn send(&self, to: &SyncSender<String>, line: String) {
        if let Err(TrySendError::Full(_)) = to.try_send(line)
            && self.dropped.inc() == 0
        {
            let _ = self.stderr.try_send(
                "standard output or error does not keep up: lines are dropped (civo_egress_lines_dropped_total)"
                    .to_owned(),
            );
        }
    }
}

impl Writers {
    /// Lets the lines queued be written once every [`Out`] is dropped, for
    /// at most `within` (a stream that blocks must not hold the exit).
    pub fn finish(self, within: Duration) {
        let started = Instant::now();
        while self.0.iter().any(|t| !t.is_finished()) && started.elapsed() < within {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
