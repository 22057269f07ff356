//! `--exec CMD`: `sh -c CMD` for each event, the event's JSON on stdin.
//! At most [`RUNNING`] at once and [`WAITING`] more waiting; each killed
//! with its process group at its timeout, and every one left at the stop.
//! Never blocking the watch: a failure is logged and counted.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

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
}

impl Exec {
    /// A runner of `sh -c cmd`, each run killed after `timeout`.
    pub fn new(cmd: &str, timeout: Duration) -> Self {
        Self {
            cmd: Arc::from(cmd),
            timeout,
            failures: Counter::default(),
            slots: Arc::new(Semaphore::new(RUNNING)),
            pending: Arc::new(AtomicUsize::new(0)),
            groups: Arc::new(Mutex::new(BTreeSet::new())),
        }
    }

    /// Hands `json` to a run in the background, unless too many wait.
    pub fn spawn(&self, json: String) -> Option<JoinHandle<()>> {
        if self.pending.fetch_add(1, Ordering::SeqCst) >= RUNNING + WAITING {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            self.failures.inc();
            note!("--exec: {} events wait already for a slot: this one is not handed over", WAITING);
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

    /// Kills every command still running, with its process group: at the
    /// stop, none outlives the watcher.
    pub fn kill_all(&self) {
        let groups = std::mem::take(&mut *self.groups.lock().unwrap_or_else(PoisonError::into_inner));
        for group in groups {
            kill_group(group);
        }
    }

    async fn run(&self, json: &str) {
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
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                self.failures.inc();
                note!("--exec could not start: {e}");
                return;
            }
        };
        let group = child.id();
        if let Some(group) = group {
            self.groups.lock().unwrap_or_else(PoisonError::into_inner).insert(group);
        }
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
                note!("--exec failed ({status})");
            }
            Ok(Err(e)) => {
                self.failures.inc();
                note!("--exec failed: {e}");
            }
            Err(_) => {
                self.failures.inc();
                if let Some(group) = group {
                    kill_group(group);
                }
                let _ = child.wait().await;
                note!("--exec killed after {} s", self.timeout.as_secs());
            }
        }
    }
}

/// `kill -s KILL -- -GROUP`: the program, not an unsafe signal call of ours.
fn kill_group(group: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}
