//! [`EgressReport`]: what the resolver concluded, and the startup check.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::evidence::{Evidence, EvidenceKind, SourceError};
use super::names::serialized_names;
use crate::Allowlist;

/// The verdict of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EgressStatus {
    /// A quorum observed an address in the expected set.
    Confirmed,
    /// The topology says, but not enough observations agreed.
    Expected,
    /// A quorum observed an address, and nothing was expected.
    Observed,
    /// A quorum observed an address outside the expected set: the gateway
    /// node may have been replaced, and the whitelist must change.
    Mismatch,
    /// Nothing expected, nothing observed enough.
    Unknown,
}

serialized_names!(EgressStatus, "egress status", {
    Confirmed => "confirmed",
    Expected => "expected",
    Observed => "observed",
    Mismatch => "mismatch",
    Unknown => "unknown",
});

impl EgressStatus {
    /// Whether a caller may go on: confirmed, expected or observed.
    #[must_use]
    pub const fn is_ok(self) -> bool {
        matches!(self, Self::Confirmed | Self::Expected | Self::Observed)
    }
}

/// What a [`ResolveWarning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ResolveWarningKind {
    /// Several egress IPs expected: pods on public-IP pool nodes leave from
    /// their node's own IP; all of them must be whitelisted.
    SeveralExpected,
    /// The observed IP is not the expected one: the gateway node may have
    /// been replaced, and the whitelist must change.
    Mismatch,
    /// One observer saw another address than the agreed one (a proxy, or a
    /// lying echo service).
    Outlier,
    /// Observers disagree and no address won.
    Disagreement,
    /// Too few observers answered alike.
    NoQuorum,
    /// Every address the observers answered was rejected (documentation,
    /// private, CGNAT... addresses): see [`EgressReport::rejected`].
    AllRejected,
}

serialized_names!(ResolveWarningKind, "resolve warning kind", {
    SeveralExpected => "several-expected",
    Mismatch => "mismatch",
    Outlier => "outlier",
    Disagreement => "disagreement",
    NoQuorum => "no-quorum",
    AllRejected => "all-rejected",
});

/// Something the resolver noticed and the caller should know: a kind to
/// branch on, and a sentence for a person. Serializes as its message (the
/// CLI's `"warnings": ["..."]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResolveWarning {
    kind: ResolveWarningKind,
    message: String,
}

impl ResolveWarning {
    pub(crate) const fn new(kind: ResolveWarningKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What it is about.
    #[must_use]
    pub const fn kind(&self) -> ResolveWarningKind {
        self.kind
    }

    /// A sentence for a person.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ResolveWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Serialize for ResolveWarning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.message)
    }
}

/// What [`resolve_egress`](crate::resolve_egress) found.
///
/// Serializes as `{"cluster", "egress_ips", "stale_ips", "status",
/// "observed", "expected", "evidence": [...], "warnings": [...]}`
/// (`"cluster"` is `""` when none was named; each warning is its message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressReport {
    pub(crate) cluster: Option<String>,
    pub(crate) status: EgressStatus,
    pub(crate) observed: Option<IpAddr>,
    pub(crate) expected: Vec<IpAddr>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) warnings: Vec<ResolveWarning>,
    pub(crate) elapsed: Duration,
}

impl EgressReport {
    /// The cluster asked about, if named.
    #[must_use]
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// The verdict.
    #[must_use]
    pub const fn status(&self) -> EgressStatus {
        self.status
    }

    /// The egress IPs, what the cluster leaves from: the expected set when
    /// confirmed or only expected; the observed IP when observed or on a
    /// mismatch (the stale expected ones are in
    /// [`stale_ips`](Self::stale_ips), never here).
    #[must_use]
    pub fn egress_ips(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = match self.status {
            EgressStatus::Confirmed | EgressStatus::Expected => self.expected.clone(),
            EgressStatus::Observed | EgressStatus::Mismatch => self.observed.into_iter().collect(),
            EgressStatus::Unknown => Vec::new(),
        };
        let mut seen = Vec::new();
        ips.retain(|ip| {
            let fresh = !seen.contains(ip);
            seen.push(*ip);
            fresh
        });
        ips
    }

    /// On a mismatch, the expected IPs of the observed family that no
    /// observer saw the cluster leave from; empty otherwise.
    ///
    /// The old gateway IP is among them. So may be the own IP of a
    /// public-IP-pool node, which only pods on that node leave from and
    /// which one vantage point cannot see: confirm per node before removing
    /// any of them from a whitelist.
    #[must_use]
    pub fn stale_ips(&self) -> Vec<IpAddr> {
        match (self.status, self.observed) {
            (EgressStatus::Mismatch, Some(observed)) => self
                .expected
                .iter()
                .copied()
                .filter(|ip| *ip != observed && ip.is_ipv4() == observed.is_ipv4())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The observed addresses the resolver rejected (not global unicast),
    /// each with what it is (the special-purpose range and its RFC), in
    /// source order.
    #[must_use]
    pub fn rejected(&self) -> Vec<(IpAddr, String)> {
        let mut rejected: Vec<(IpAddr, String)> = Vec::new();
        for row in self.evidence.iter().filter(|row| row.kind == EvidenceKind::Observed) {
            if let Err(SourceError::NonGlobal { ip, why }) = &row.outcome
                && !rejected.iter().any(|(seen, _)| seen == ip)
            {
                rejected.push((*ip, why.clone()));
            }
        }
        rejected
    }

    /// Whether observers answered, and every address they answered was
    /// rejected.
    fn all_rejected(&self) -> bool {
        let observed = self.evidence.iter().filter(|row| row.kind == EvidenceKind::Observed);
        let mut any_rejected = false;
        for row in observed {
            match &row.outcome {
                Ok(_) => return false,
                Err(SourceError::NonGlobal { .. }) => any_rejected = true,
                Err(_) => {}
            }
        }
        any_rejected
    }

    /// The address a quorum of observers agreed on, if any.
    #[must_use]
    pub const fn observed(&self) -> Option<IpAddr> {
        self.observed
    }

    /// What the expected sources said, in source order.
    #[must_use]
    pub fn expected(&self) -> &[IpAddr] {
        &self.expected
    }

    /// One row per source and address, in the order the sources were given.
    #[must_use]
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    /// What a person should know: disagreeing sources, public-IP nodes, a
    /// replaced gateway, rejected answers.
    #[must_use]
    pub fn warnings(&self) -> &[ResolveWarning] {
        &self.warnings
    }

    /// How long the resolution took.
    #[must_use]
    pub const fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The startup check: the observed egress IP must be in the allowlist a
    /// partner holds.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use civo_egress::Allowlist;
    /// use civo_egress::resolve::{EgressResolver, HttpEchoSource};
    /// let report = EgressResolver::builder().sources(HttpEchoSource::defaults()).build()?.resolve().await;
    /// let partner: Allowlist = "212.2.253.151/32\n".parse()?;
    /// let ip = report.verify_allowlisted(&partner)?; // refuse to start otherwise
    /// assert!(partner.allows(ip));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`EgressCheckError::AllRejected`] when every observed answer was
    /// refused (what they were, and the lab opt-in);
    /// [`EgressCheckError::NotObserved`] when no quorum observed the egress
    /// IP otherwise; [`EgressCheckError::NotAllowlisted`] when the observed IP
    /// is not allowed, with what to ask the partner for.
    pub fn verify_allowlisted(&self, allowlist: &Allowlist) -> Result<IpAddr, EgressCheckError> {
        let Some(observed) = self.observed else {
            if self.all_rejected() {
                return Err(EgressCheckError::AllRejected { rejected: self.rejected(), status: self.status });
            }
            return Err(EgressCheckError::NotObserved { status: self.status });
        };
        if allowlist.allows(observed) {
            return Ok(observed);
        }
        let replaced = self.status == EgressStatus::Mismatch;
        Err(EgressCheckError::NotAllowlisted { observed, expected: self.expected.clone(), replaced })
    }
}

impl Serialize for EgressReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("EgressReport", 8)?;
        // A string, as the CLI's JSON promises: "" when no cluster was named.
        s.serialize_field("cluster", self.cluster.as_deref().unwrap_or(""))?;
        s.serialize_field("egress_ips", &self.egress_ips())?;
        s.serialize_field("stale_ips", &self.stale_ips())?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("observed", &self.observed)?;
        s.serialize_field("expected", &self.expected)?;
        s.serialize_field("evidence", &self.evidence)?;
        s.serialize_field("warnings", &self.warnings)?;
        s.end()
    }
}

/// Why the startup check failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EgressCheckError {
    /// No quorum of echo services observed the egress IP.
    #[error(
        "the egress IP could not be confirmed by observation (status {status}): check that the echo services are reachable, or lower the quorum"
    )]
    #[non_exhaustive]
    NotObserved {
        /// The resolution's status.
        status: EgressStatus,
    },
    /// Every address the echo services answered was rejected: none is where
    /// the cluster leaves from (a proxy, a NAT or a lab network answered).
    #[error(
        "every observed answer was rejected as not global unicast: {}; a proxy, NAT or lab network answered, not the egress (in a lab, accept such answers with Validation::strict().allow_non_global(true), set with EgressResolverBuilder::validation)",
        rejected_list(rejected)
    )]
    #[non_exhaustive]
    AllRejected {
        /// Each rejected address, with what it is (the special-purpose
        /// range and its RFC).
        rejected: Vec<(IpAddr, String)>,
        /// The resolution's status.
        status: EgressStatus,
    },
    /// The observed egress IP is not in the allowlist.
    #[error("egress IP {observed} is not in the partner's allowlist{}: ask them to allow {observed}/{}",
        replaced_hint(*.replaced, expected), if observed.is_ipv4() { 32 } else { 128 })]
    #[non_exhaustive]
    NotAllowlisted {
        /// What the outside world sees.
        observed: IpAddr,
        /// What the topology expected.
        expected: Vec<IpAddr>,
        /// Whether the observed IP differs from the expected ones (the
        /// gateway node was likely replaced).
        replaced: bool,
    },
}

fn rejected_list(rejected: &[(IpAddr, String)]) -> String {
    let list: Vec<String> = rejected.iter().map(|(ip, why)| format!("{ip} ({why})")).collect();
    list.join(", ")
}

fn replaced_hint(replaced: bool, expected: &[IpAddr]) -> String {
    if !replaced {
        return String::new();
    }
    let list: Vec<String> = expected.iter().map(ToString::to_string).collect();
    format!(" (the topology expected {}: the gateway node may have been replaced)", list.join(", "))
}
