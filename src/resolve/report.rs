//! [`EgressReport`]: what the resolver concluded, and the startup check.

use std::net::IpAddr;
use std::time::Duration;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::evidence::{Evidence, EvidenceKind, SourceError};
use super::vantage::Vantage;
use crate::names::serialized_names;
use crate::{Allowlist, Warning};

/// The verdict of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EgressStatus {
    /// A quorum observed an address in the expected set.
    Confirmed,
    /// The topology says, and no observation confirms it: not enough
    /// observers agreed, or they observed from a [`Vantage::Host`] outside
    /// the cluster, which cannot tell.
    Expected,
    /// A quorum observed an address from inside the cluster
    /// ([`Vantage::Pod`]), and nothing was expected.
    Observed,
    /// A quorum observed an address outside the expected set, from inside
    /// the cluster ([`Vantage::Pod`]): the gateway node may have been
    /// replaced, and the whitelist must change. Never from a
    /// [`Vantage::Host`].
    Mismatch,
    /// Nothing expected, and nothing observed enough from inside the
    /// cluster (what a [`Vantage::Host`] observes is its own IP, not the
    /// cluster's).
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

/// What [`resolve_egress`](crate::resolve_egress) found.
///
/// Serializes as `{"cluster", "egress_ips", "stale_ips", "status",
/// "vantage", "observed", "host_observed", "expected", "evidence": [...],
/// "warnings": [...]}` (`"cluster"` is `""` when none was named;
/// `"vantage"` is `"pod"` or `"host"`; `"observed"` is `null` from a host,
/// whose own IP is `"host_observed"`; each warning is a [`Warning`]
/// object, `{"kind", "cluster"?, "source"?, "message"}`, its `"cluster"`
/// the report's when one was named, its `"source"` the one source it is
/// about, if any).
///
/// # Vantage
///
/// What the echo services see is the address of wherever the resolver runs.
/// From a pod of the cluster ([`Vantage::Pod`]) that is the cluster's egress,
/// and the report holds it to the expected set (`confirmed`, `observed`,
/// `mismatch`). From any other host ([`Vantage::Host`]) it is that host's IP:
/// the report never says `mismatch` or `observed` then, never puts that IP
/// in [`egress_ips`](Self::egress_ips) or [`observed`](Self::observed), and
/// keeps it apart in [`host_observed`](Self::host_observed), with a
/// [`WarningKind::HostVantage`](crate::WarningKind::HostVantage) warning. With expected sources the
/// status is `expected`; without, `unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressReport {
    pub(crate) cluster: Option<String>,
    pub(crate) status: EgressStatus,
    pub(crate) vantage: Vantage,
    pub(crate) observed: Option<IpAddr>,
    pub(crate) host_observed: Option<IpAddr>,
    pub(crate) expected: Vec<IpAddr>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) warnings: Vec<Warning>,
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

    /// Where the observations were made from: stated with
    /// [`EgressResolverBuilder::vantage`](super::EgressResolverBuilder::vantage),
    /// else detected ([`Vantage::detect`]).
    #[must_use]
    pub const fn vantage(&self) -> Vantage {
        self.vantage
    }

    /// The egress IPs, what the cluster leaves from: the expected set when
    /// confirmed or only expected; the observed IP when observed or on a
    /// mismatch (the stale expected ones are in
    /// [`stale_ips`](Self::stale_ips), never here). Never an IP observed
    /// from a [`Vantage::Host`].
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

    /// The address a quorum of observers agreed on from inside the cluster
    /// ([`Vantage::Pod`]), if any. Always `None` from a [`Vantage::Host`]:
    /// see [`host_observed`](Self::host_observed).
    #[must_use]
    pub const fn observed(&self) -> Option<IpAddr> {
        self.observed
    }

    /// The address a quorum of observers agreed on from a host outside the
    /// cluster ([`Vantage::Host`]): this host's own IP, not the cluster's
    /// egress. Always `None` from a [`Vantage::Pod`].
    #[must_use]
    pub const fn host_observed(&self) -> Option<IpAddr> {
        self.host_observed
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
    /// replaced gateway, rejected answers. Each names the report's cluster
    /// (when one was named) and, when it is about one source (an
    /// [`Outlier`](crate::WarningKind::Outlier)), that
    /// [`Subject::Source`](crate::Subject::Source); their kinds are the
    /// resolver's [`WarningKind`](crate::WarningKind)s: `SeveralExpected`,
    /// `Mismatch`, `Outlier`, `Disagreement`, `NoQuorum`, `AllRejected`
    /// (what was rejected: [`rejected`](Self::rejected)), `HostVantage`
    /// (first when present: the observations were made from a
    /// [`Vantage::Host`], whose IP is [`host_observed`](Self::host_observed))
    /// and `HostMatchesExpected`.
    pub fn warnings(&self) -> &[Warning] {
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
    /// The check runs inside the pod, where what the echo services see is
    /// the cluster's egress (the resolver detects it): from a
    /// [`Vantage::Host`] it refuses to answer.
    ///
    /// # Errors
    ///
    /// [`EgressCheckError::HostVantage`] when the observations were made from
    /// a host outside the cluster;
    /// [`EgressCheckError::AllRejected`] when every observed answer was
    /// refused (what they were, and the lab opt-in);
    /// [`EgressCheckError::NotObserved`] when no quorum observed the egress
    /// IP otherwise; [`EgressCheckError::NotAllowlisted`] when the observed IP
    /// is not allowed, with what to ask the partner for.
    pub fn verify_allowlisted(&self, allowlist: &Allowlist) -> Result<IpAddr, EgressCheckError> {
        let Some(observed) = self.observed else {
            if self.vantage == Vantage::Host {
                return Err(EgressCheckError::HostVantage { host_observed: self.host_observed, status: self.status });
            }
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
        let mut s = serializer.serialize_struct("EgressReport", 10)?;
        // A string, as the CLI's JSON promises: "" when no cluster was named.
        s.serialize_field("cluster", self.cluster.as_deref().unwrap_or(""))?;
        s.serialize_field("egress_ips", &self.egress_ips())?;
        s.serialize_field("stale_ips", &self.stale_ips())?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("vantage", &self.vantage)?;
        s.serialize_field("observed", &self.observed)?;
        s.serialize_field("host_observed", &self.host_observed)?;
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
        "every observed answer was rejected as not global unicast: {}; a proxy, NAT or lab network answered, not the egress (in a lab, accept such answers with --allow-non-global, AddressPolicy::AllowNonGlobal in the library)",
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
    /// The observations were made from a host outside the cluster
    /// ([`Vantage::Host`]): they show this host's IP, not the cluster's
    /// egress, so they can neither pass nor fail the check.
    #[error(
        "the egress IP was observed from a host outside the cluster{}, which shows that host's IP, not the cluster's (status {status}): run the check in a pod of the cluster, or state the vantage (EgressResolverBuilder::vantage(Vantage::Pod)) where this host's egress is the cluster's",
        host_observed.map(|ip| format!(" ({ip})")).unwrap_or_default()
    )]
    #[non_exhaustive]
    HostVantage {
        /// What this host was observed leaving from, if a quorum agreed.
        host_observed: Option<IpAddr>,
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
