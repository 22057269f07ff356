//! What the watcher tells: [`Event`], a time and an [`EventKind`].

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use crate::{EgressStatus, WarningKind};

/// Something the watcher noticed, when: one line of `civo-egress watch`'s
/// output, `{"time": RFC 3339, "kind": ..., ...}` in JSON
/// ([`serde_json::to_string`] of it), a sentence in [`Display`](fmt::Display).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use civo_egress::watch::{Event, EventKind};
/// let event = Event::new(
///     UNIX_EPOCH + Duration::from_secs(1_796_572_800),
///     EventKind::Incomplete { cluster: "LON1/prod".into(), pending: 2 },
/// );
/// assert_eq!(
///     serde_json::to_string(&event).unwrap(),
///     r#"{"time":"2026-12-06T16:00:00Z","kind":"incomplete","cluster":"LON1/prod","pending":2}"#
/// );
/// assert_eq!(event.to_string(), "2026-12-06T16:00:00Z incomplete: LON1/prod has 2 public-IP pool node(s) without an IP yet");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    #[serde(serialize_with = "rfc3339")]
    time: SystemTime,
    #[serde(flatten)]
    kind: EventKind,
}

impl Event {
    /// An event of `kind` at `time`.
    #[must_use]
    pub const fn new(time: SystemTime, kind: EventKind) -> Self {
        Self { time, kind }
    }

    /// When it was noticed.
    #[must_use]
    pub const fn time(&self) -> SystemTime {
        self.time
    }

    /// What was noticed.
    #[must_use]
    pub const fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// The event as one line of JSON, without a newline.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event always serializes") // ok: strings, addresses, numbers, names
    }
}

/// What the watcher noticed (the binding `kind` names of
/// `civo-egress watch`'s events are [`name`](Self::name)'s).
///
/// Clusters are named by their label, `REGION/NAME` (the name alone when a
/// snapshot gives no region): unambiguous across the regions of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EventKind {
    /// A cluster first seen: at the first refresh, every cluster.
    ClusterAdded {
        /// The cluster.
        cluster: String,
        /// Its Civo id, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        cluster_id: Option<String>,
        /// Its egress IPs.
        egress_ips: Vec<IpAddr>,
        /// Its verdict (expected, or unverified while a caveat doubts the
        /// egress; with observation, what the echo services confirmed).
        status: EgressStatus,
    },
    /// A cluster's egress set changed between two successful refreshes.
    EgressChanged {
        /// The cluster.
        cluster: String,
        /// The IPs it leaves from now and did not before.
        added: Vec<IpAddr>,
        /// The IPs it left from and no longer does, by the source's word.
        removed: Vec<IpAddr>,
    },
    /// An allowlist is not known to let in every egress IP of a cluster:
    /// it lacks some, or the cluster's egress set is not fully known (at
    /// the first refresh, or since it covered them, or either changed).
    AllowlistUncovered {
        /// The allowlist's name.
        allowlist: String,
        /// The cluster.
        cluster: String,
        /// The known egress IPs it does not let in.
        missing: Vec<IpAddr>,
        /// The cluster's egress set is not fully known (a public-IP pool
        /// node without its IP, a caveat in doubt, the cluster left out):
        /// even with nothing `missing`, it is not covered.
        incomplete: bool,
    },
    /// An allowlist lets in every egress IP of a cluster whose egress set
    /// is fully known (at the first refresh, or since it did not).
    AllowlistCovered {
        /// The allowlist's name.
        allowlist: String,
        /// The cluster.
        cluster: String,
    },
    /// A refresh failed: the last known state is kept.
    RefreshFailed {
        /// Why.
        error: String,
    },
    /// A refresh succeeded after failures.
    RefreshRecovered {
        /// How many refreshes in a row had failed.
        failures: u32,
    },
    /// Nodes of a cluster's public-IP pools have no public IP yet: the
    /// egress set is incomplete (first seen, or the count changed).
    Incomplete {
        /// The cluster.
        cluster: String,
        /// How many nodes wait for their IP.
        pending: u32,
    },
    /// Every node of a cluster's public-IP pools has its IP now.
    Complete {
        /// The cluster.
        cluster: String,
        /// Always 0.
        pending: u32,
    },
    /// A cluster the source left out (no usable egress IP, its instances
    /// gone, its region unreadable or not covered): its last known egress
    /// IPs are kept. Or deleted (`cluster-gone`, absent from what the
    /// refresh read): dropped.
    ClusterLeftOut {
        /// The cluster.
        cluster: String,
        /// Why, as a warning kind (`cluster-gone`, `no-egress-ip`...).
        reason_kind: WarningKind,
        /// Why, in words.
        reason: String,
    },
    /// With observation, a cluster's verdict changed.
    VerdictChanged {
        /// The cluster.
        cluster: String,
        /// The verdict before.
        from: EgressStatus,
        /// The verdict now.
        to: EgressStatus,
    },
}

impl EventKind {
    /// The binding name, the JSON's `kind`: `egress-changed`,
    /// `allowlist-uncovered`...
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::ClusterAdded { .. } => "cluster-added",
            Self::EgressChanged { .. } => "egress-changed",
            Self::AllowlistUncovered { .. } => "allowlist-uncovered",
            Self::AllowlistCovered { .. } => "allowlist-covered",
            Self::RefreshFailed { .. } => "refresh-failed",
            Self::RefreshRecovered { .. } => "refresh-recovered",
            Self::Incomplete { .. } => "incomplete",
            Self::Complete { .. } => "complete",
            Self::ClusterLeftOut { .. } => "cluster-left-out",
            Self::VerdictChanged { .. } => "verdict-changed",
        }
    }
}

/// `a, b` (or `none`).
struct Ips<'a>(&'a [IpAddr]);

impl fmt::Display for Ips<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, ip) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{ip}")?;
        }
        Ok(())
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.name())?;
        match self {
            Self::ClusterAdded { cluster, egress_ips, status, .. } => {
                write!(f, "{cluster} leaves from {} ({status})", Ips(egress_ips))
            }
            Self::EgressChanged { cluster, added, removed } => {
                write!(f, "{cluster} now also leaves from {}; no longer from {}", Ips(added), Ips(removed))
            }
            Self::AllowlistUncovered { allowlist, cluster, missing, incomplete } => {
                write!(f, "allowlist {allowlist} lacks {} of {cluster}", Ips(missing))?;
                if *incomplete {
                    f.write_str(", whose egress set is not fully known")?;
                }
                Ok(())
            }
            Self::AllowlistCovered { allowlist, cluster } => {
                write!(f, "allowlist {allowlist} lets in every egress IP of {cluster}")
            }
            Self::RefreshFailed { error } => write!(f, "{error}; the last known state is kept"),
            Self::RefreshRecovered { failures } => write!(f, "a refresh succeeded after {failures} failure(s)"),
            Self::Incomplete { cluster, pending } => {
                write!(f, "{cluster} has {pending} public-IP pool node(s) without an IP yet")
            }
            Self::Complete { cluster, .. } => write!(f, "every public-IP pool node of {cluster} has its IP"),
            Self::ClusterLeftOut { cluster, reason_kind, reason } => write!(f, "{cluster} ({reason_kind}): {reason}"),
            Self::VerdictChanged { cluster, from, to } => write!(f, "{cluster} went from {from} to {to}"),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", Time(self.time), self.kind)
    }
}

/// A time in RFC 3339, UTC, to the millisecond at most.
pub(crate) struct Time(pub(crate) SystemTime);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::try_from(self.0) {
            Ok(t) => {
                let t = t.round(jiff::Unit::Millisecond).unwrap_or(t);
                write!(f, "{t}")
            }
            // Beyond year 9999: a clock this wrong is shown as the epoch offset.
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}

fn rfc3339<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Time(*time))
}

pub(crate) fn optional_time<S: Serializer>(time: &Option<SystemTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.collect_str(&Time(*time)),
        None => serializer.serialize_none(),
    }
}
