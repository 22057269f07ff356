//! What the watcher knows, and the pure step from one refresh's outcome to
//! the next state and its events (no I/O: tested as a table in `tests.rs`).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::EventKind;
use crate::{Allowlist, Cluster, EgressStatus, Topology, Warning, WarningKind};

/// The watcher's state after its last refresh: every cluster it knows,
/// the account's warnings, and how the refreshes went. What `/metrics`
/// shows and `civo-egress watch --once` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatchState {
    clusters: Vec<ClusterState>,
    warnings: Vec<Warning>,
    allowlists: Vec<String>,
    observing: bool,
    refresh: RefreshState,
}

/// One cluster as the watcher knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterState {
    cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    egress_ips: Vec<IpAddr>,
    /// Egress IPs seen from inside the cluster that the source does not list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observed: Vec<IpAddr>,
    pending: u32,
    status: EgressStatus,
    caveats: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<WarningKind>,
    changes: u64,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "super::event::optional_time")]
    last_change: Option<SystemTime>,
    allowlists: Vec<AllowlistCoverage>,
}

/// Whether one allowlist lets in every egress IP of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowlistCoverage {
    allowlist: String,
    missing: Vec<IpAddr>,
}

/// How the refreshes went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshState {
    refreshes: u64,
    errors: u64,
    failures_in_a_row: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "super::event::optional_time")]
    last_success: Option<SystemTime>,
    #[serde(serialize_with = "seconds")]
    last_duration: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One successful refresh's outcome: what the step needs, gathered.
#[derive(Debug)]
pub(crate) struct Refreshed<'a> {
    pub(crate) topology: &'a Topology,
    /// The source's warnings about no one cluster (a region unreadable...).
    pub(crate) warnings: Vec<Warning>,
    pub(crate) allowlists: &'a [(String, Allowlist)],
    /// The verdicts of the clusters observed; the others are judged on
    /// their expected egress alone.
    pub(crate) verdicts: Vec<Judged>,
    pub(crate) observing: bool,
    pub(crate) now: SystemTime,
    pub(crate) took: Duration,
}

/// One observed cluster's verdict (an [`EgressReport`](crate::resolve::EgressReport)'s gist).
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    /// The cluster's label.
    pub(crate) cluster: String,
    pub(crate) status: EgressStatus,
    /// The verdict's egress IPs: the expected, and an IP observed from
    /// inside the cluster outside them (a mismatch).
    pub(crate) egress_ips: Vec<IpAddr>,
    /// The observation's warnings.
    pub(crate) warnings: Vec<Warning>,
}

impl WatchState {
    /// The clusters, by label (`REGION/NAME`).
    #[must_use]
    pub fn clusters(&self) -> &[ClusterState] {
        &self.clusters
    }

    /// The source's warnings about no one cluster (a region it could not
    /// read, observation that could not be attributed...).
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The allowlists' names.
    #[must_use]
    pub fn allowlists(&self) -> &[String] {
        &self.allowlists
    }

    /// Whether the verdicts weigh observations (echo services).
    #[must_use]
    pub const fn is_observing(&self) -> bool {
        self.observing
    }

    /// How the refreshes went.
    #[must_use]
    pub const fn refresh(&self) -> &RefreshState {
        &self.refresh
    }

    /// Whether all is known and well: a refresh succeeded and the last
    /// did; every cluster's verdict is ok (none incomplete, left out or in
    /// doubt), every allowlist lets in every egress IP, and no warning of
    /// the source puts an egress in doubt or leaves a region unread. `--once` exits 0 on it, else 1.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        self.refresh.last_success.is_some()
            && self.refresh.failures_in_a_row == 0
            && self.warnings.iter().all(|w| !leaves_egress_unknown(w.kind()))
            && self.clusters.iter().all(ClusterState::is_clear)
    }

    /// Folds a failed refresh in: everything known is kept.
    pub(crate) fn failed(&mut self, error: String, took: Duration) -> Vec<EventKind> {
        self.refresh.refreshes += 1;
        self.refresh.errors += 1;
        self.refresh.failures_in_a_row = self.refresh.failures_in_a_row.saturating_add(1);
        self.refresh.last_duration = took;
        self.refresh.last_error = Some(error.clone());
        vec![EventKind::RefreshFailed { error }]
    }

    /// Folds a successful refresh in: the next state, and the events
    /// between the two, in a stable order (recovery, then cluster by
    /// cluster as the topology lists them, then those left out).
    pub(crate) fn refreshed(&mut self, r: Refreshed<'_>) -> Vec<EventKind> {
        let mut events = Vec::new();
        if self.refresh.failures_in_a_row > 0 {
            events.push(EventKind::RefreshRecovered { failures: self.refresh.failures_in_a_row });
        }
        let names: Vec<String> = r.allowlists.iter().map(|(name, _)| name.clone()).collect();
        let mut seen: Vec<String> = Vec::new();
        let mut next: Vec<ClusterState> = Vec::new();
        for cluster in r.topology.clusters() {
            let label = cluster.label();
            let judged = r.verdicts.iter().find(|j| j.cluster == label);
            let prev = self.clusters.iter().find(|c| c.cluster == label);
            let state = ClusterState::of(cluster, judged, prev, r.allowlists, (r.now, r.observing), &mut events);
            seen.push(label);
            next.push(state);
        }
        for left in r.topology.left_out() {
            let label = left.label();
            if seen.contains(&label) {
                continue;
            }
            let prev = self.clusters.iter().find(|c| c.cluster == label);
            let state = ClusterState::left_out(prev, &label, left.id(), left.region(), left.kind(), left.reason());
            if prev.and_then(|p| p.left_out).is_none() {
                events.push(state.left_event(left.reason()));
            }
            seen.push(label);
            next.push(state);
        }
        // Known before, not in this refresh at all: deleted, or its region
        // unreadable. Its last known IPs stay (never reported removed).
        for prev in self.clusters.iter().filter(|c| !seen.contains(&c.cluster)) {
            let why = "not in the last refresh (deleted, or its region could not be read)";
            let state = ClusterState::left_out(
                Some(prev),
                &prev.cluster,
                prev.cluster_id.as_deref(),
                prev.region.as_deref(),
                WarningKind::ClusterGone,
                why,
            );
            if prev.left_out.is_none() {
                events.push(state.left_event(why));
            }
            next.push(state);
        }
        self.clusters = next;
        self.warnings = r.warnings;
        self.allowlists = names;
        self.observing = r.observing;
        self.refresh.refreshes += 1;
        self.refresh.failures_in_a_row = 0;
        self.refresh.last_error = None;
        self.refresh.last_success = Some(r.now);
        self.refresh.last_duration = r.took;
        events
    }
}

impl ClusterState {
    /// The cluster now, from the topology's, the previous state and its
    /// verdict; pushes the events between the two.
    fn of(
        cluster: &Cluster,
        judged: Option<&Judged>,
        prev: Option<&Self>,
        allowlists: &[(String, Allowlist)],
        (now, observing): (SystemTime, bool),
        events: &mut Vec<EventKind>,
    ) -> Self {
        let label = cluster.label();
        let expected = cluster.egress_ips();
        // An IP observed from inside the cluster outside the expected set
        // is an egress IP (a mismatch's advice: allow it), and stays one
        // while the watcher runs: an observation that later fails or
        // disagrees does not prove it stale (only a probe of every node does).
        let mut observed: Vec<IpAddr> = prev.map(|p| p.observed.clone()).unwrap_or_default();
        for ip in judged.iter().flat_map(|j| &j.egress_ips) {
            if !observed.contains(ip) {
                observed.push(*ip);
            }
        }
        observed.retain(|ip| !expected.contains(ip));
        observed.sort_unstable();
        let mut egress_ips: Vec<IpAddr> = expected.iter().chain(&observed).copied().collect();
        egress_ips.sort_unstable();
        let mut caveats = cluster.caveats().to_vec();
        let status = match judged {
            Some(judged) => {
                for warning in &judged.warnings {
                    if !caveats.contains(warning) {
                        caveats.push(warning.clone());
                    }
                }
                judged.status
            }
            None => crate::verdict::expected_only(&label, &expected, cluster.caveats()),
        };
        let pending = cluster.pending_public_nodes();
        let mut state = Self {
            cluster: label.clone(),
            cluster_id: cluster.id().map(str::to_owned),
            region: cluster.region().map(str::to_owned),
            egress_ips,
            observed,
            pending,
            status,
            caveats,
            left_out: None,
            changes: prev.map_or(0, |p| p.changes),
            last_change: prev.and_then(|p| p.last_change),
            allowlists: Vec::new(),
        };
        match prev {
            None => events.push(EventKind::ClusterAdded {
                cluster: label.clone(),
                cluster_id: state.cluster_id.clone(),
                egress_ips: state.egress_ips.clone(),
                status,
            }),
            Some(prev) if prev.egress_ips != state.egress_ips => {
                state.changes += 1;
                state.last_change = Some(now);
                events.push(EventKind::EgressChanged {
                    cluster: label.clone(),
                    added: minus(&state.egress_ips, &prev.egress_ips),
                    removed: minus(&prev.egress_ips, &state.egress_ips),
                });
            }
            Some(_) => {}
        }
        let was_pending = prev.map_or(0, |p| p.pending);
        if pending > 0 && pending != was_pending {
            events.push(EventKind::Incomplete { cluster: label.clone(), pending });
        } else if pending == 0 && was_pending > 0 {
            events.push(EventKind::Complete { cluster: label.clone(), pending });
        }
        if observing
            && let Some(prev) = prev
            && prev.status != status
        {
            events.push(EventKind::VerdictChanged { cluster: label.clone(), from: prev.status, to: status });
        }
        for (name, allowlist) in allowlists {
            let missing: Vec<IpAddr> = state.egress_ips.iter().copied().filter(|ip| !allowlist.allows(*ip)).collect();
            let before = prev.and_then(|p| p.allowlists.iter().find(|a| a.allowlist == *name));
            if before.is_none_or(|b| b.missing != missing) {
                events.push(if missing.is_empty() {
                    EventKind::AllowlistCovered { allowlist: name.clone(), cluster: label.clone() }
                } else {
                    EventKind::AllowlistUncovered {
                        allowlist: name.clone(),
                        cluster: label.clone(),
                        missing: missing.clone(),
                    }
                });
            }
            state.allowlists.push(AllowlistCoverage { allowlist: name.clone(), missing });
        }
        state
    }

    /// A cluster left out: what was known of it, marked so, its verdict
    /// unknown and its coverage unknown (an allowlist is not "covering" IPs
    /// no one knows).
    fn left_out(
        prev: Option<&Self>,
        label: &str,
        id: Option<&str>,
        region: Option<&str>,
        kind: WarningKind,
        reason: &str,
    ) -> Self {
        let caveat = Warning::new(kind, reason).with_cluster(label);
        Self {
            cluster: label.to_owned(),
            cluster_id: id.map(str::to_owned).or_else(|| prev.and_then(|p| p.cluster_id.clone())),
            region: region.map(str::to_owned).or_else(|| prev.and_then(|p| p.region.clone())),
            egress_ips: prev.map(|p| p.egress_ips.clone()).unwrap_or_default(),
            observed: prev.map(|p| p.observed.clone()).unwrap_or_default(),
            pending: prev.map_or(0, |p| p.pending),
            status: EgressStatus::Unknown,
            caveats: vec![caveat],
            left_out: Some(kind),
            changes: prev.map_or(0, |p| p.changes),
            last_change: prev.and_then(|p| p.last_change),
            allowlists: Vec::new(),
        }
    }

    fn left_event(&self, reason: &str) -> EventKind {
        EventKind::ClusterLeftOut {
            cluster: self.cluster.clone(),
            reason_kind: self.left_out.unwrap_or(WarningKind::ClusterGone),
            reason: reason.to_owned(),
        }
    }

    /// The label, `REGION/NAME` (the name alone without a region).
    #[must_use]
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The Civo cluster id, when known.
    #[must_use]
    pub fn cluster_id(&self) -> Option<&str> {
        self.cluster_id.as_deref()
    }

    /// The region, when known.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The egress IPs (sorted): the source's, and any seen from inside the
    /// cluster outside them; for a cluster left out, the last known.
    #[must_use]
    pub fn egress_ips(&self) -> &[IpAddr] {
        &self.egress_ips
    }

    /// The egress IPs seen from inside the cluster that the source does not
    /// list (kept while the watcher runs: see [`EgressStatus::Mismatch`]).
    #[must_use]
    pub fn observed_only(&self) -> &[IpAddr] {
        &self.observed
    }

    /// Public-IP pool nodes without their IP yet.
    #[must_use]
    pub const fn pending(&self) -> u32 {
        self.pending
    }

    /// The verdict: by the one rule ([`EgressStatus`]), `unknown` for a
    /// cluster left out.
    #[must_use]
    pub const fn status(&self) -> EgressStatus {
        self.status
    }

    /// Its caveats (issue 15's), and its observation's warnings.
    #[must_use]
    pub fn caveats(&self) -> &[Warning] {
        &self.caveats
    }

    /// Why the last refresh left it out, if it did.
    #[must_use]
    pub const fn left_out_kind(&self) -> Option<WarningKind> {
        self.left_out
    }

    /// Egress-set changes seen since the watcher started.
    #[must_use]
    pub const fn changes(&self) -> u64 {
        self.changes
    }

    /// When the last change was seen.
    #[must_use]
    pub const fn last_change(&self) -> Option<SystemTime> {
        self.last_change
    }

    /// Each allowlist's coverage of the egress IPs; none for a cluster
    /// left out (its egress is not known to be covered).
    #[must_use]
    pub fn allowlists(&self) -> &[AllowlistCoverage] {
        &self.allowlists
    }

    /// Its verdict is ok, no public-IP pool node waits for its IP, it was
    /// not left out, and every allowlist lets in its every egress IP.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        self.status.is_ok()
            && self.pending == 0
            && self.left_out.is_none()
            && self.allowlists.iter().all(AllowlistCoverage::is_covered)
    }
}

impl AllowlistCoverage {
    /// The allowlist's name.
    #[must_use]
    pub fn allowlist(&self) -> &str {
        &self.allowlist
    }

    /// The egress IPs it does not let in.
    #[must_use]
    pub fn missing(&self) -> &[IpAddr] {
        &self.missing
    }

    /// Whether it lets in every egress IP.
    #[must_use]
    pub fn is_covered(&self) -> bool {
        self.missing.is_empty()
    }
}

impl RefreshState {
    /// Refreshes done, failed ones included.
    #[must_use]
    pub const fn refreshes(&self) -> u64 {
        self.refreshes
    }

    /// Refreshes failed since the start.
    #[must_use]
    pub const fn errors(&self) -> u64 {
        self.errors
    }

    /// Refreshes failed since the last success.
    #[must_use]
    pub const fn failures_in_a_row(&self) -> u32 {
        self.failures_in_a_row
    }

    /// Why the last refresh failed, if it did.
    #[must_use]
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// When a refresh last succeeded.
    #[must_use]
    pub const fn last_success(&self) -> Option<SystemTime> {
        self.last_success
    }

    /// How long the last refresh took.
    #[must_use]
    pub const fn last_duration(&self) -> Duration {
        self.last_duration
    }

    /// Whether the last refresh succeeded.
    #[must_use]
    pub const fn succeeded(&self) -> bool {
        self.last_success.is_some() && self.failures_in_a_row == 0
    }
}

/// Whether an account's warning leaves an egress unknown: one that doubts
/// the egress, or a region that could not be read (its clusters, unknown).
fn leaves_egress_unknown(kind: WarningKind) -> bool {
    kind.doubts_egress() || kind == WarningKind::RegionFailed
}

fn minus(set: &[IpAddr], without: &[IpAddr]) -> Vec<IpAddr> {
    set.iter().copied().filter(|ip| !without.contains(ip)).collect()
}
