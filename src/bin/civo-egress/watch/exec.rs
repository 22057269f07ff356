//! `--exec CMD`: `sh -c CMD` for each event, the event's JSON on stdin.
//! At most [`RUNNING`] at once and [`WAITING`] more waiting; each killed
//! with its process group at its timeout, and every one left at the stop.
//! Never blocking the watch: a failure is logged and counted.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::out::Out;

/// Commands run at once.
const RUNNING: usize = 4;
/// Events that may wait for a slot; past it, an event is not handed over
/// (and counted as a failure).
const WAITING: usize = 256;

/// The runner of `--exec`.
#[derive(Clone)]
pub struct Exec {
    cmd: Arc<str>,
    timeout: Duration,
    /// Failed, timed out, not started, or not handed over.
    pub failures: Counter<u64>,
    slots: Arc<Semaphore>,
    /// Events handed over and not done.
    pending: Arc<AtomicUsize>,
    /// The process groups running.
    groups: Arc<Mutex<BTreeSet<u32>>>,
    /// Set by [`kill_all`](Self::kill_all): no command starts after it.
    stopped: Arc<AtomicBool>,
    /// Whether an event may be dropped when too many wait (the watch) or
    /// must wait its turn (`--once`, whose exit waits for its hooks).
    may_drop: bool,
    out: Out,
}

impl Exec {
    /// A runner of `sh -c cmd`, each run killed after `timeout`, logging
    /// to `out`; `may_drop`: see [`spawn`](Self::spawn).
    pub fn new(cmd: &str, timeout: Duration, may_drop: bool, out: Out) -> Self {
        Self {
            cmd: Arc::from(cmd),
            timeout,
            failures: Counter::default(),
            slots: Arc::new(Semaphore::new(RUNNING)),
            pending: Arc::new(AtomicUsize::new(0)),
            groups: Arc::new(Mutex::new(BTreeSet::new())),
            stopped: Arc::new(AtomicBool::new(false)),
            may_drop,
            out,
        }
    }

    /// Hands `json` to a run in the background; when too many wait, the
    /// watch's runner drops it (counted), `--once`'s waits its turn.
    pub fn spawn(&self, json: String) -> Option<JoinHandle<()>> {
        if self.pending.fetch_add(1, Ordering::SeqCst) >= RUNNING + WAITING && self.may_drop {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            self.failures.inc();
            self.out.log(format!("--exec: {WAITING} events wait already for a slot: this one is not handed over"));
            return None;
        }
        let this = self.clone();
        Some(tokio::spawn(async move {
            if let Ok(_slot) = Arc::clone(&this.slots).acquire_owned().await {
                this.run(&json).await;
            }
            this.pending.fetch_sub(1, Ordering::SeqCst);
        }))
    }

    /// Stops: no command starts from now on, and every one running is
    /// killed with its process group (none outlives the watcher).
    pub fn kill_all(&self) {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        self.stopped.store(true, Ordering::SeqCst);
        self.slots.close();
        for group in std::mem::take(&mut *groups) {
            kill_group(group);
        }
    }

    /// Starts the command, unless stopped: under the lock, so that a stop
    /// either comes before (and nothing starts) or after (and kills it).
    fn start(&self) -> Option<std::io::Result<(tokio::process::Child, Option<u32>)>> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let spawned = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&*self.cmd)
            // The API key is the watcher's, not the hook's.
            .env_remove("CIVO_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // Its own process group: at the timeout the whole command goes,
            // not only the shell (dash does not exec the last command).
            .process_group(0)
            .kill_on_drop(true)
            .spawn();
        Some(spawned.map(|child| {
            let group = child.id();
            groups.extend(group);
            (child, group)
        }))
    }

    async fn run(&self, json: &str) {
        let (mut child, group) = match self.start() {
            None => return,
            Some(Ok(started)) => started,
            Some(Err(e)) => {
                self.failures.inc();
                self.out.log(format!("--exec could not start: {e}"));
                return;
            }
        };
        let run = async {
            if let Some(mut stdin) = child.stdin.take() {
                // One write, so that lines of concurrent runs do not interleave;
                // a command that does not read its stdin is no failure.
                let _ = stdin.write_all(format!("{json}\n").as_bytes()).await;
            }
            child.wait().await
        };
        let outcome = tokio::time::timeout(self.timeout, run).await;
        if let Some(group) = group {
            self.groups.lock().unwrap_or_else(PoisonError::into_inner).remove(&group);
        }
        match outcome {
            Ok(Ok(status)) if status.success() => {}
            Ok(Ok(status)) => {
                self.failures.inc();
                self.out.log(format!("--exec failed ({status})"));
            }
            Ok(Err(e)) => {
                self.failures.inc();
                self.out.log(format!("--exec failed: {e}"));
            }
            Err(_) => {
                self.failures.inc();
                if let Some(group) = group {
                    kill_group(group);
                }
                let _ = child.wait().await;
                self.out.log(format!("--exec killed after {} s", self.timeout.as_secs()));
            }
        }
    }
}

/// SIGKILL to the process group `group` (the hook's shell and whatever it
/// started); one already gone is no error of ours.
fn kill_group(group: u32) {
    if let Some(pid) = i32::try_from(group).ok().and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}
