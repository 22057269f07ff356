//! [`Watcher`]: the async half. It only gathers (the topology, the
//! allowlists, the observations) and hands them to the pure step in
//! `state.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch};

use super::schedule::next_wait;
use super::state::{Judged, Refreshed};
use super::{Event, StateReceiver, WatchError, WatchState};
use crate::civo::{CivoClient, Selection};
use crate::resolve::{EgressResolver, EgressSource, TopologySource, Vantage, prove};
use crate::{Allowlist, Cluster, Topology, Warning, WarningKind};

/// The longest interval between refreshes: a day.
const MAX_INTERVAL: Duration = Duration::from_secs(86_400);
/// The largest allowlist file read (one IP or CIDR per line).
const MAX_ALLOWLIST_BYTES: u64 = 1024 * 1024;
/// The largest snapshot file read (as `civo-egress` reads one elsewhere).
const MAX_SNAPSHOT_BYTES: u64 = crate::MAX_LOCAL_FILE_BYTES;

/// Where a [`Watcher`] learns the topology.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Origin {
    /// The Civo API: a discovery of `selection` at each refresh.
    Civo {
        /// The client (its deadline bounds each refresh).
        client: CivoClient,
        /// The part of the account watched.
        selection: Selection,
    },
    /// A snapshot file (`civo-egress discover`'s), read again at each
    /// refresh: a change to it is seen at the next.
    Snapshot(PathBuf),
}

/// A named allowlist file, read again at each refresh.
#[derive(Debug)]
struct AllowlistFile {
    name: String,
    path: PathBuf,
    text: String,
    list: Allowlist,
}

impl AllowlistFile {
    fn read(name: String, path: PathBuf) -> Result<Self, WatchError> {
        let mut file = Self { name, path, text: String::new(), list: Allowlist::default() };
        file.reread()?;
        Ok(file)
    }

    /// Reads the file; parses it only when its text changed.
    fn reread(&mut self) -> Result<(), WatchError> {
        let text = crate::read_local_file(&self.path, MAX_ALLOWLIST_BYTES)
            .map_err(|source| WatchError::AllowlistFile { name: self.name.clone(), path: self.path.clone(), source })?;
        if text != self.text || self.text.is_empty() {
            self.list = Allowlist::parse(&text).map_err(|source| WatchError::Allowlist {
                name: self.name.clone(),
                path: self.path.clone(),
                source,
            })?;
            self.text = text;
        }
        Ok(())
    }
}

/// Builds a [`Watcher`]: [`Watcher::builder`].
#[derive(Debug)]
#[must_use]
pub struct WatcherBuilder {
    origin: Origin,
    interval: Duration,
    allowlists: Vec<(String, PathBuf)>,
    observers: Vec<Arc<dyn EgressSource>>,
    quorum: usize,
    vantage: Option<Vantage>,
}

impl WatcherBuilder {
    /// The time between refreshes (default 60 s, at most a day), jittered
    /// by ±10 %.
    pub const fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// A partner's allowlist, by name (letters, digits, `-`, `_`, `.`),
    /// from a file of one IP or CIDR per line, read again at each refresh.
    pub fn allowlist(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.allowlists.push((name.into(), path.into()));
        self
    }

    /// An echo service to observe the egress with (repeatable): with any,
    /// each refresh judges the cluster the watcher runs in by issue 16's
    /// rules (its pod proven the cluster's by the service account's CA).
    pub fn observer(self, source: impl EgressSource + 'static) -> Self {
        self.shared_observer(Arc::new(source))
    }

    /// [`observer`](Self::observer), shared.
    pub fn shared_observer(mut self, source: Arc<dyn EgressSource>) -> Self {
        self.observers.push(source);
        self
    }

    /// How many observers must agree (default 2).
    pub const fn quorum(mut self, quorum: usize) -> Self {
        self.quorum = quorum;
        self
    }

    /// Where the observers ask from, instead of detecting it (see
    /// [`EgressResolverBuilder::vantage`](crate::resolve::EgressResolverBuilder::vantage)).
    pub const fn vantage(mut self, vantage: Vantage) -> Self {
        self.vantage = Some(vantage);
        self
    }

    /// The watcher, its allowlists read once to refuse a bad one now.
    ///
    /// # Errors
    ///
    /// [`WatchError::InvalidInterval`] for an interval over a day;
    /// [`WatchError::InvalidName`] for an allowlist name that is empty,
    /// repeated or not of letters, digits, `-`, `_` and `.`;
    /// [`WatchError::AllowlistFile`] or [`WatchError::Allowlist`] for a
    /// file that cannot be read or parsed; [`WatchError::Observe`] for a
    /// quorum of 0 with observers.
    pub fn build(self) -> Result<Watcher, WatchError> {
        if self.interval > MAX_INTERVAL {
            return Err(WatchError::InvalidInterval { interval: self.interval });
        }
        let mut allowlists: Vec<AllowlistFile> = Vec::new();
        for (name, path) in self.allowlists {
            check_name(&name, &allowlists)?;
            allowlists.push(AllowlistFile::read(name, path)?);
        }
        if !self.observers.is_empty() {
            // The resolver's own refusals, now rather than at each refresh.
            use crate::resolve::ResolveError;
            if self.quorum == 0 {
                return Err(WatchError::Observe(ResolveError::ZeroQuorum));
            }
            if self.quorum > self.observers.len() {
                let observers = self.observers.len();
                return Err(WatchError::Observe(ResolveError::QuorumTooLarge { quorum: self.quorum, observers }));
            }
        }
        let (sender, _) = watch::channel(Arc::new(WatchState::default()));
        Ok(Watcher {
            origin: self.origin,
            interval: self.interval,
            allowlists,
            observers: self.observers,
            quorum: self.quorum,
            vantage: self.vantage,
            state: WatchState::default(),
            sender,
            last_error: None,
        })
    }
}

fn check_name(name: &str, taken: &[AllowlistFile]) -> Result<(), WatchError> {
    let bad = |reason| Err(WatchError::InvalidName { name: name.to_owned(), reason });
    if name.is_empty() || name.len() > 128 {
        return bad("it must have 1 to 128 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return bad("only letters, digits, '-', '_' and '.'");
    }
    if taken.iter().any(|a| a.name == name) {
        return bad("given twice");
    }
    Ok(())
}

/// Keeps an account's egress under watch: refreshes the topology (the Civo
/// API, or a snapshot file) on an interval, checks the allowlists, judges
/// the egress (by the one rule of [`EgressStatus`](crate::EgressStatus), with observation when
/// given echo services), and tells what changed as [`Event`]s.
///
/// A failed refresh keeps the last known state (an IP is never reported
/// removed for want of an answer); the next is tried after a backoff that
/// honours the API's `Retry-After`.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use civo_egress::civo::{CivoClient, Selection};
/// use civo_egress::watch::{Origin, Watcher};
/// let origin = Origin::Civo { client: CivoClient::from_env()?, selection: Selection::all_regions() };
/// let watcher = Watcher::builder(origin)
///     .interval(Duration::from_secs(60))
///     .allowlist("partner", "/etc/civo-egress/partner.txt")
///     .build()?;
/// let (events, mut receiver) = tokio::sync::mpsc::channel(64);
/// tokio::spawn(watcher.run(events));
/// while let Some(event) = receiver.recv().await {
///     println!("{}", event.to_json());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Watcher {
    origin: Origin,
    interval: Duration,
    allowlists: Vec<AllowlistFile>,
    observers: Vec<Arc<dyn EgressSource>>,
    quorum: usize,
    vantage: Option<Vantage>,
    state: WatchState,
    sender: watch::Sender<Arc<WatchState>>,
    last_error: Option<WatchError>,
}

impl Watcher {
    /// A builder watching `origin`.
    pub fn builder(origin: Origin) -> WatcherBuilder {
        WatcherBuilder {
            origin,
            interval: Duration::from_secs(60),
            allowlists: Vec::new(),
            observers: Vec::new(),
            quorum: 2,
            vantage: None,
        }
    }

    /// The state after the last refresh.
    #[must_use]
    pub const fn state(&self) -> &WatchState {
        &self.state
    }

    /// A handle that follows the state from another task (a metrics
    /// endpoint, a readiness check), also once the watcher
    /// [runs](Self::run).
    #[must_use]
    pub fn subscribe(&self) -> StateReceiver {
        StateReceiver(self.sender.subscribe())
    }

    /// Why the last refresh failed, if it did.
    #[must_use]
    pub const fn last_error(&self) -> Option<&WatchError> {
        self.last_error.as_ref()
    }

    /// The interval between refreshes.
    #[must_use]
    pub const fn interval(&self) -> Duration {
        self.interval
    }

    /// How long to wait before the next refresh: the interval jittered,
    /// or a backoff after failures (honouring `Retry-After`).
    #[must_use]
    pub fn next_wait(&self) -> Duration {
        let retry_after = self.last_error.as_ref().and_then(WatchError::retry_after);
        next_wait(self.interval, self.state.refresh().failures_in_a_row(), retry_after, fastrand::f64())
    }

    /// Refreshes once: gathers, folds the outcome into the state, and
    /// returns what changed (a failure is a `refresh-failed` event, and
    /// [`last_error`](Self::last_error)).
    pub async fn refresh(&mut self) -> Vec<Event> {
        let started = Instant::now();
        let outcome = self.gather().await;
        let now = SystemTime::now();
        let took = started.elapsed();
        let kinds = match outcome {
            Ok(gathered) => {
                self.last_error = None;
                let lists: Vec<(String, Allowlist)> =
                    self.allowlists.iter().map(|a| (a.name.clone(), a.list.clone())).collect();
                self.state.refreshed(Refreshed {
                    topology: &gathered.topology,
                    warnings: gathered.warnings,
                    cluster_warnings: gathered.cluster_warnings,
                    stale_allowlists: gathered.stale,
                    allowlists: &lists,
                    verdicts: gathered.verdicts,
                    observing: !self.observers.is_empty(),
                    now,
                    took,
                })
            }
            Err(error) => {
                let kinds = self.state.failed(error.to_string(), took);
                self.last_error = Some(error);
                kinds
            }
        };
        self.state.interval = self.interval;
        self.sender.send_replace(Arc::new(self.state.clone()));
        kinds.into_iter().map(|kind| Event::new(now, kind)).collect()
    }

    /// Refreshes for as long as `events` has a receiver, sending each
    /// event to it and waiting [`next_wait`](Self::next_wait) between
    /// refreshes (idle meanwhile). A watcher that [refreshed](Self::refresh)
    /// already waits before its first.
    pub async fn run(mut self, events: mpsc::Sender<Event>) {
        let mut waited = self.state.refresh().refreshes() == 0;
        loop {
            if !waited {
                tokio::select! {
                    () = tokio::time::sleep(self.next_wait()) => {}
                    () = events.closed() => return,
                }
            }
            waited = false;
            for event in self.refresh().await {
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
    }

    async fn gather(&mut self) -> Result<Gathered, WatchError> {
        // An allowlist that no longer reads keeps its last good version,
        // said in a warning: one partner's broken file must not blind the
        // watch of every cluster.
        let (mut unreadable, mut stale) = (Vec::new(), Vec::new());
        for allowlist in &mut self.allowlists {
            if let Err(error) = allowlist.reread() {
                let message = format!("{error}; its last readable version is used until it is mended");
                unreadable.push(Warning::new(WarningKind::SourceUnusable, message));
                stale.push(allowlist.name.clone());
            }
        }
        let (topology, mut warnings) = match &self.origin {
            Origin::Civo { client, selection } => {
                let (topology, warnings) = client.discover(selection).await.map_err(WatchError::Civo)?.into_parts();
                (topology, warnings)
            }
            Origin::Snapshot(path) => {
                let text = crate::read_local_file(path, MAX_SNAPSHOT_BYTES)
                    .map_err(|source| WatchError::SnapshotFile { path: path.clone(), source })?;
                let topology =
                    Topology::from_json(&text).map_err(|source| WatchError::Snapshot { path: path.clone(), source })?;
                let warnings = topology.warnings().to_vec();
                (topology, warnings)
            }
        };
        // What is about one cluster goes to that cluster, unless it is
        // among its caveats already.
        let (mut about_one, mut about_none): (Vec<Warning>, Vec<Warning>) =
            warnings.drain(..).partition(|w| w.cluster().is_some());
        about_one.retain(|w| {
            !topology.clusters().iter().any(|c| Some(c.label().as_str()) == w.cluster() && c.caveats().contains(w))
        });
        about_none.extend(unreadable);
        let verdicts = self.observe(&topology, &mut about_none).await?;
        Ok(Gathered { topology, warnings: about_none, cluster_warnings: about_one, stale, verdicts })
    }

    /// With observers, the verdict on the cluster the watcher runs in
    /// (proven by its service account's CA), or on the only one watched.
    async fn observe(&self, topology: &Topology, warnings: &mut Vec<Warning>) -> Result<Vec<Judged>, WatchError> {
        if self.observers.is_empty() {
            return Ok(Vec::new());
        }
        let unread = warnings.iter().any(|w| w.kind() == WarningKind::RegionFailed);
        let Some(cluster) = observed_cluster(topology, unread) else {
            warnings.push(Warning::new(
                WarningKind::VantageUnproven,
                "nothing observed: the watcher runs in no pod proven to be a watched cluster's (its service \
                 account's CA is none of theirs), and it watches several; run it in the cluster, or watch one",
            ));
            return Ok(Vec::new());
        };
        let mut resolver = EgressResolver::builder()
            .cluster(cluster.label())
            .source(TopologySource::of(cluster))
            .quorum(self.quorum)
            .cluster_cas(cluster.ca_fingerprint());
        for observer in &self.observers {
            resolver = resolver.shared_source(Arc::clone(observer));
        }
        if let Some(vantage) = self.vantage {
            resolver = resolver.vantage(vantage);
        }
        let report = resolver.build().map_err(WatchError::Observe)?.resolve().await;
        Ok(vec![Judged {
            cluster: cluster.label(),
            status: report.status(),
            egress_ips: report.egress_ips(),
            warnings: report.warnings().to_vec(),
        }])
    }
}

/// The cluster whose CA the pod's service account holds, else the only
/// cluster watched: only when no other may be there (none left out, every
/// region read), or an observation of another would judge this one.
fn observed_cluster(topology: &Topology, unread: bool) -> Option<&Cluster> {
    let (detected, ca) = crate::resolve::detect_with_ca();
    let proven = topology.clusters().iter().find(|c| {
        c.ca_fingerprint().is_some_and(|fp| prove(detected, ca.as_deref(), &[fp]).vantage().observes_the_cluster())
    });
    match (proven, topology.clusters()) {
        (Some(cluster), _) => Some(cluster),
        (None, [only]) if topology.left_out().is_empty() && !unread => Some(only),
        (None, _) => None,
    }
}

/// One successful gathering.
struct Gathered {
    topology: Topology,
    warnings: Vec<Warning>,
    cluster_warnings: Vec<Warning>,
    /// The allowlists whose file no longer reads.
    stale: Vec<String>,
    verdicts: Vec<Judged>,
}
