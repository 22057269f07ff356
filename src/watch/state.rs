//! What the watcher knows: its state, cluster by cluster (the step from one
//! refresh to the next is `step.rs`'s).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::{Allowlist, EgressStatus, Topology, Warning, WarningKind};

/// The watcher's state after its last refresh: every cluster it knows,
/// the account's warnings, and how the refreshes went. What `/metrics`
/// shows and `civo-egress watch --once` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatchState {
    pub(super) clusters: Vec<ClusterState>,
    pub(super) warnings: Vec<Warning>,
    pub(super) allowlists: Vec<String>,
    pub(super) observing: bool,
    pub(super) refresh: RefreshState,
    /// The watcher's interval between refreshes.
    #[serde(serialize_with = "seconds")]
    pub(super) interval: Duration,
}

/// One cluster as the watcher knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterState {
    pub(super) cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) region: Option<String>,
    pub(super) egress_ips: Vec<IpAddr>,
    /// Egress IPs seen from inside the cluster that the source does not list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) observed: Vec<IpAddr>,
    pub(super) pending: u32,
    pub(super) status: EgressStatus,
    pub(super) caveats: Vec<Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) left_out: Option<WarningKind>,
    pub(super) changes: u64,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "super::event::optional_time")]
    pub(super) last_change: Option<SystemTime>,
    pub(super) allowlists: Vec<AllowlistCoverage>,
}

/// Whether one allowlist lets in every egress IP of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowlistCoverage {
    pub(super) allowlist: String,
    /// The known egress IPs it lacks.
    pub(super) missing: Vec<IpAddr>,
    /// Whether the cluster's egress set is fully known (no pending node,
    /// nothing in doubt, not left out): only then can it be covered.
    #[serde(rename = "egress_known")]
    pub(super) known: bool,
}

/// How the refreshes went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshState {
    pub(super) refreshes: u64,
    pub(super) errors: u64,
    pub(super) failures_in_a_row: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "super::event::optional_time")]
    pub(super) last_success: Option<SystemTime>,
    #[serde(serialize_with = "seconds")]
    pub(super) last_duration: Duration,
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
    /// The source's warnings about one cluster that are not among its
    /// caveats (a snapshot's `egress-collision`, `reserved-on-node`).
    pub(crate) cluster_warnings: Vec<Warning>,
    /// The allowlists whose file no longer reads.
    pub(crate) stale_allowlists: Vec<String>,
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

    /// The watcher's interval between refreshes.
    #[must_use]
    pub const fn interval(&self) -> Duration {
        self.interval
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
    /// the source puts an egress in doubt or leaves a region unread. Nothing
    /// watched (no cluster at all: a mistyped region, another account's
    /// key) is not clear. `--once` exits 0 on it, else 1.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        self.refresh.last_success.is_some()
            && self.refresh.failures_in_a_row == 0
            && !self.clusters.is_empty()
            && self.warnings.iter().all(|w| !leaves_egress_unknown(w.kind()))
            && self.clusters.iter().all(ClusterState::is_clear)
    }
}

impl ClusterState {
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

    /// Each allowlist's coverage of the egress IPs (for a cluster left
    /// out, of the last known, never covered).
    #[must_use]
    pub fn allowlists(&self) -> &[AllowlistCoverage] {
        &self.allowlists
    }

    /// Its verdict is ok, no public-IP pool node waits for its IP, it was
    /// not left out, and every allowlist lets in its every egress IP.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        self.left_out.is_none()
            && crate::verdict::egress_known(self.status, self.pending)
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

    /// Whether the cluster's egress set is fully known: without it, no
    /// allowlist covers it.
    #[must_use]
    pub const fn is_egress_known(&self) -> bool {
        self.known
    }

    /// Whether it lets in every egress IP of a set fully known.
    #[must_use]
    pub fn is_covered(&self) -> bool {
        self.known && self.missing.is_empty()
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

/// Whether an account's warning leaves something unknown: one that doubts
/// the egress, a region that could not be read (its clusters, unknown), an
/// allowlist that could not be read again (its coverage, stale).
fn leaves_egress_unknown(kind: WarningKind) -> bool {
    kind.doubts_egress() || matches!(kind, WarningKind::RegionFailed | WarningKind::SourceUnusable)
}
