//! The pure step: one refresh's outcome (or failure) and the state before
//! to the state after and the events between them. No I/O: tested as
//! tables (`tests.rs`) and properties (`proptests.rs`).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::EventKind;
use super::state::{AllowlistCoverage, ClusterState, Judged, Refreshed, WatchState};
use crate::diff::{Identity, Scope};
use crate::verdict::{egress_known, expected_only};
use crate::{Allowlist, Cluster, EgressStatus, Warning, WarningKind};

impl WatchState {
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
        let context = Context {
            allowlists: r.allowlists,
            stale: &r.stale_allowlists,
            warnings: &r.cluster_warnings,
            now: r.now,
            observing: r.observing,
        };
        let mut seen: Vec<String> = Vec::new();
        let mut next: Vec<ClusterState> = Vec::new();
        for cluster in r.topology.clusters() {
            let label = cluster.label();
            let judged = r.verdicts.iter().find(|j| j.cluster == label);
            let prev = self.clusters.iter().find(|c| c.cluster == label);
            next.push(ClusterState::of(cluster, judged, prev, &context, &mut events));
            seen.push(label);
        }
        for left in r.topology.left_out() {
            let label = left.label();
            if seen.contains(&label) {
                continue;
            }
            let prev = self.clusters.iter().find(|c| c.cluster == label);
            let why = Left { id: left.id(), region: left.region(), kind: left.kind(), reason: left.reason() };
            next.push(ClusterState::left_out(prev, &label, &why, &context, &mut events));
            seen.push(label);
        }
        // Known before, absent now. While a region could not be read, or
        // the refresh did not cover the cluster (a snapshot of other
        // regions or clusters), it may be there: kept, left out, with its
        // last known IPs (never reported removed for want of an answer).
        // Otherwise the source covered it and does not list it: deleted,
        // told and dropped (its IPs may go to someone else).
        let unread = r.warnings.iter().any(|w| w.kind() == WarningKind::RegionFailed);
        let scope = Scope::of(r.topology);
        for prev in self.clusters.iter().filter(|c| !seen.contains(&c.cluster)) {
            let name = match prev.region {
                Some(_) => prev.cluster.split_once('/').map_or(prev.cluster.as_str(), |(_, name)| name),
                None => prev.cluster.as_str(),
            };
            let who = Identity::named(name, prev.cluster_id.as_deref(), prev.region.as_deref());
            let outside = scope.outside(who).is_some();
            if unread || outside {
                let reason = if unread {
                    "not in the last refresh, which could not read every region"
                } else {
                    "not in the last refresh, which did not cover its region or name"
                };
                let why = Left {
                    id: prev.cluster_id.as_deref(),
                    region: prev.region.as_deref(),
                    kind: WarningKind::RegionFailed,
                    reason,
                };
                next.push(ClusterState::left_out(Some(prev), &prev.cluster, &why, &context, &mut events));
            } else {
                events.push(EventKind::ClusterLeftOut {
                    cluster: prev.cluster.clone(),
                    reason_kind: WarningKind::ClusterGone,
                    reason: "deleted: the source read its region and no longer lists it".to_owned(),
                });
            }
        }
        self.clusters = next;
        self.warnings = r.warnings;
        self.allowlists = r.allowlists.iter().map(|(name, _)| name.clone()).collect();
        self.observing = r.observing;
        self.refresh.refreshes += 1;
        self.refresh.failures_in_a_row = 0;
        self.refresh.last_error = None;
        self.refresh.last_success = Some(r.now);
        self.refresh.last_duration = r.took;
        events
    }
}

/// What every cluster of one refresh is judged with.
struct Context<'a> {
    allowlists: &'a [(String, Allowlist)],
    /// The allowlists whose file no longer reads (their last version used).
    stale: &'a [String],
    /// The source's warnings about one cluster that are not among its
    /// caveats (a snapshot's egress collision, a reserved IP on a node).
    warnings: &'a [Warning],
    now: SystemTime,
    observing: bool,
}

/// Why a cluster is left out.
struct Left<'a> {
    id: Option<&'a str>,
    region: Option<&'a str>,
    kind: WarningKind,
    reason: &'a str,
}

impl ClusterState {
    /// The cluster now, from the topology's, the previous state and its
    /// verdict; pushes the events between the two.
    fn of(
        cluster: &Cluster,
        judged: Option<&Judged>,
        prev: Option<&Self>,
        cx: &Context<'_>,
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
        let about = |w: &&Warning| w.cluster().is_some_and(|c| c == label || c == cluster.name());
        for warning in cx.warnings.iter().filter(about) {
            if !caveats.contains(warning) {
                caveats.push(warning.clone());
            }
        }
        let status = match judged {
            Some(judged) => {
                for warning in &judged.warnings {
                    if !caveats.contains(warning) {
                        caveats.push(warning.clone());
                    }
                }
                judged.status
            }
            None => expected_only(&label, &expected, &caveats),
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
        // A cluster never seen with an IP (first seen left out) is added
        // now, not changed.
        let prev = prev.filter(|p| !(p.left_out.is_some() && p.egress_ips.is_empty()));
        match prev {
            None => events.push(EventKind::ClusterAdded {
                cluster: label.clone(),
                cluster_id: state.cluster_id.clone(),
                egress_ips: state.egress_ips.clone(),
                status,
            }),
            Some(prev) if prev.egress_ips != state.egress_ips => {
                state.changes += 1;
                state.last_change = Some(cx.now);
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
            events.push(EventKind::Incomplete { cluster: label, pending });
        } else if pending == 0 && was_pending > 0 {
            events.push(EventKind::Complete { cluster: label, pending });
        }
        state.judge(prev, cx, events);
        state
    }

    /// A cluster left out: what was known of it, marked so, its verdict
    /// unknown, and no allowlist said to cover it.
    fn left_out(
        prev: Option<&Self>,
        label: &str,
        why: &Left<'_>,
        cx: &Context<'_>,
        events: &mut Vec<EventKind>,
    ) -> Self {
        let mut state = Self {
            cluster: label.to_owned(),
            cluster_id: why.id.map(str::to_owned).or_else(|| prev.and_then(|p| p.cluster_id.clone())),
            region: why.region.map(str::to_owned).or_else(|| prev.and_then(|p| p.region.clone())),
            egress_ips: prev.map(|p| p.egress_ips.clone()).unwrap_or_default(),
            observed: prev.map(|p| p.observed.clone()).unwrap_or_default(),
            pending: prev.map_or(0, |p| p.pending),
            status: EgressStatus::Unknown,
            caveats: vec![Warning::new(why.kind, why.reason).with_cluster(label)],
            left_out: Some(why.kind),
            changes: prev.map_or(0, |p| p.changes),
            last_change: prev.and_then(|p| p.last_change),
            allowlists: Vec::new(),
        };
        if prev.and_then(|p| p.left_out) != Some(why.kind) {
            events.push(EventKind::ClusterLeftOut {
                cluster: label.to_owned(),
                reason_kind: why.kind,
                reason: why.reason.to_owned(),
            });
        }
        state.judge(prev, cx, events);
        state
    }

    /// The verdict's change (when observing) and each allowlist's coverage:
    /// covered only when it lets in every egress IP of a set fully known
    /// (no pending node, nothing in doubt, not left out).
    fn judge(&mut self, prev: Option<&Self>, cx: &Context<'_>, events: &mut Vec<EventKind>) {
        if cx.observing
            && let Some(prev) = prev
            && prev.status != self.status
        {
            events.push(EventKind::VerdictChanged {
                cluster: self.cluster.clone(),
                from: prev.status,
                to: self.status,
            });
        }
        let egress = self.left_out.is_none() && egress_known(self.status, self.pending);
        for (name, allowlist) in cx.allowlists {
            let missing: Vec<IpAddr> = self.egress_ips.iter().copied().filter(|ip| !allowlist.allows(*ip)).collect();
            // An allowlist read from a file that no longer reads covers nothing for sure.
            let known = egress && !cx.stale.contains(name);
            let now = AllowlistCoverage { allowlist: name.clone(), missing, known };
            let before = prev.and_then(|p| p.allowlists.iter().find(|a| a.allowlist == *name));
            if before != Some(&now) {
                events.push(if now.is_covered() {
                    EventKind::AllowlistCovered { allowlist: name.clone(), cluster: self.cluster.clone() }
                } else {
                    EventKind::AllowlistUncovered {
                        allowlist: name.clone(),
                        cluster: self.cluster.clone(),
                        missing: now.missing.clone(),
                        incomplete: !known,
                    }
                });
            }
            self.allowlists.push(now);
        }
    }
}

fn minus(set: &[IpAddr], without: &[IpAddr]) -> Vec<IpAddr> {
    set.iter().copied().filter(|ip| !without.contains(ip)).collect()
}
