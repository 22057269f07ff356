//! [`EgressReport`]: what the resolver concluded, and the startup check.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::evidence::{Evidence, EvidenceKind, SourceError};
use super::vantage::Vantage;
use crate::verdict::Verdict;
use crate::{Allowlist, EgressStatus, FamilyVerdict, Warning};

/// What [`resolve_egress`](crate::resolve_egress) found.
///
/// Serializes as `{"cluster", "egress_ips", "stale_ips", "unverified_ips",
/// "status", "families": [...], "vantage", "observed", "host_observed",
/// "expected", "evidence": [...], "warnings": [...]}` (`"cluster"` is `""`
/// when none was named; each family a [`FamilyVerdict`];
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
/// `mismatch`, and `unverified` when the observers verified nothing). From any other host ([`Vantage::Host`]) it is that host's IP:
/// the report never says `mismatch` or `observed` then, never puts that IP
/// in [`egress_ips`](Self::egress_ips) or [`observed`](Self::observed), and
/// keeps it apart in [`host_observed`](Self::host_observed), with a
/// [`WarningKind::HostVantage`](crate::WarningKind::HostVantage) warning. With expected sources the
/// status is `expected`; without, `unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressReport {
    pub(crate) cluster: Option<String>,
    pub(crate) vantage: Vantage,
    pub(crate) verdict: Verdict,
    pub(crate) host_observed: Option<IpAddr>,
    pub(crate) expected: Vec<IpAddr>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) elapsed: Duration,
}

impl EgressReport {
    /// The cluster asked about, if named.
    #[must_use]
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// The verdict: the least certain of the families'
    /// ([`families`](Self::families)).
    #[must_use]
    pub const fn status(&self) -> EgressStatus {
        self.verdict.status
    }

    /// The verdict of each address family that was expected or observed:
    /// IPv4 and IPv6 are decided separately.
    #[must_use]
    pub fn families(&self) -> &[FamilyVerdict] {
        &self.verdict.families
    }

    /// Where the observations were made from: stated with
    /// [`EgressResolverBuilder::vantage`](super::EgressResolverBuilder::vantage),
    /// else detected ([`Vantage::detect`]).
    #[must_use]
    pub const fn vantage(&self) -> Vantage {
        self.vantage
    }

    /// The egress IPs, what pods leave from as far as the evidence shows,
    /// every family's: every expected IP (one pod's observation never
    /// proves another node does not leave from one), and every IP observed
    /// from inside the cluster ([`Vantage::Pod`]). A whitelist must hold
    /// all of them; never an IP observed from a [`Vantage::Host`].
    #[must_use]
    pub fn egress_ips(&self) -> Vec<IpAddr> {
        self.verdict.collect(FamilyVerdict::egress_ips)
    }

    /// Expected IPs the evidence proves no pod leaves from: always empty
    /// for the resolver, whose pod sees only its own node (an old gateway
    /// IP may still be another node's egress); `civo-egress probe`, which
    /// sees every node, proves it.
    #[must_use]
    pub fn stale_ips(&self) -> Vec<IpAddr> {
        self.verdict.collect(FamilyVerdict::stale_ips)
    }

    /// Egress IPs no observation verified (expected only).
    #[must_use]
    pub fn unverified_ips(&self) -> Vec<IpAddr> {
        self.verdict.collect(FamilyVerdict::unverified_ips)
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
    /// rejected (the rows of expected sources are checked too: rule 7).
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
    /// ([`Vantage::Pod`]), IPv4's first, if any (each family's:
    /// [`FamilyVerdict::observed`]). Always `None` from a
    /// [`Vantage::Host`]: see [`host_observed`](Self::host_observed).
    #[must_use]
    pub fn observed(&self) -> Option<IpAddr> {
        self.verdict.families.iter().find_map(FamilyVerdict::observed)
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
    /// verdict's [`WarningKind`](crate::WarningKind)s: `VantageUnproven`
    /// (first when present: a pod not proven to be the cluster's),
    /// `HostVantage` (the observations were made from a [`Vantage::Host`],
    /// whose IP is [`host_observed`](Self::host_observed)),
    /// `HostMatchesExpected`, `SourceUnusable` (an expected source gave a
    /// non-global address, or nothing), `SeveralExpected`, `Conflict`,
    /// `Mismatch`, `Outlier`, `Disagreement`, `NoQuorum`, `Unverified`,
    /// `AllRejected` (what was rejected: [`rejected`](Self::rejected)) and
    /// `NothingObserved`; then the sources' own (a discovery's caveats).
    pub fn warnings(&self) -> &[Warning] {
        &self.verdict.warnings
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
    /// the cluster's egress (the resolver detects the pod and proves it is
    /// the cluster's by its CA, or is told): from a
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
        let status = self.status();
        let observed: Vec<IpAddr> = self.verdict.families.iter().filter_map(FamilyVerdict::observed).collect();
        let Some(first) = observed.first().copied() else {
            if self.vantage == Vantage::Host {
                return Err(EgressCheckError::HostVantage { host_observed: self.host_observed, status });
            }
            if self.all_rejected() {
                return Err(EgressCheckError::AllRejected { rejected: self.rejected(), status });
            }
            return Err(EgressCheckError::NotObserved { status, causes: self.causes() });
        };
        // Every family's egress: the service may connect over either.
        match observed.into_iter().find(|ip| !allowlist.allows(*ip)) {
            None => Ok(first),
            Some(missing) => {
                let replaced = !self.expected.contains(&missing);
                let disagreed = self
                    .evidence
                    .iter()
                    .filter(|row| row.kind == EvidenceKind::Observed)
                    .filter_map(|row| row.ip().map(|ip| (row.source.clone(), ip)))
                    .filter(|(_, ip)| ip.is_ipv4() == missing.is_ipv4() && *ip != missing)
                    .collect();
                Err(EgressCheckError::NotAllowlisted {
                    observed: missing,
                    expected: self.expected.clone(),
                    replaced,
                    disagreed,
                })
            }
        }
    }

    /// What each observer ran into, for a check that observed nothing.
    fn causes(&self) -> Vec<(String, String)> {
        let mut causes: Vec<(String, String)> = Vec::new();
        for row in self.evidence.iter().filter(|row| row.kind == EvidenceKind::Observed) {
            let what = match &row.outcome {
                Ok(ip) => format!("{ip}, not agreed by a quorum"),
                Err(error) => error.to_string(),
            };
            match causes.iter_mut().find(|(source, _)| *source == row.source) {
                Some((_, said)) => {
                    said.push_str("; ");
                    said.push_str(&what);
                }
                None => causes.push((row.source.clone(), what)),
            }
        }
        causes
    }
}

impl Serialize for EgressReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("EgressReport", 12)?;
        // A string, as the CLI's JSON promises: "" when no cluster was named.
        s.serialize_field("cluster", self.cluster.as_deref().unwrap_or(""))?;
        s.serialize_field("egress_ips", &self.egress_ips())?;
        s.serialize_field("stale_ips", &self.stale_ips())?;
        s.serialize_field("unverified_ips", &self.unverified_ips())?;
        s.serialize_field("status", &self.status())?;
        s.serialize_field("families", &self.verdict.families)?;
        s.serialize_field("vantage", &self.vantage)?;
        s.serialize_field("observed", &self.observed())?;
        s.serialize_field("host_observed", &self.host_observed)?;
        s.serialize_field("expected", &self.expected)?;
        s.serialize_field("evidence", &self.evidence)?;
        s.serialize_field("warnings", &self.verdict.warnings)?;
        s.end()
    }
}

/// Why the startup check failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EgressCheckError {
    /// No quorum of echo services observed the egress IP: what each ran
    /// into is named.
    #[error("the egress IP was not observed from inside the cluster (status {status}): {}", causes_list(causes))]
    #[non_exhaustive]
    NotObserved {
        /// The resolution's status.
        status: EgressStatus,
        /// Each observing source, with what it ran into (a timeout, a
        /// refusal, an address too few others agreed on).
        causes: Vec<(String, String)>,
    },
    /// Every address the echo services answered was rejected: none is where
    /// the cluster leaves from (a proxy, a NAT or a lab network answered).
    #[error(
        "every observed answer was rejected as not global unicast: {}; a proxy, NAT or lab network answered, not the egress (in a lab, accept such answers: the lab address policy, --allow-non-global)",
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
        "the egress IP was observed from a host outside the cluster{}, which shows that host's IP, not the cluster's (status {status}): run the check in a pod of the cluster (proven by its service-account CA), or state the vantage pod (--vantage pod) where this host's egress is the cluster's",
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
    #[error("egress IP {observed} is not in the partner's allowlist{}: ask them to allow {observed}/{}{}",
        replaced_hint(*.replaced, expected), if observed.is_ipv4() { 32 } else { 128 }, dissent_hint(disagreed))]
    #[non_exhaustive]
    NotAllowlisted {
        /// What the outside world sees.
        observed: IpAddr,
        /// What the topology expected.
        expected: Vec<IpAddr>,
        /// Whether the observed IP differs from the expected ones (the
        /// gateway node was likely replaced).
        replaced: bool,
        /// The observers that saw another address of that family (a split
        /// vote the quorum decided): the advice names them.
        disagreed: Vec<(String, IpAddr)>,
    },
}

fn dissent_hint(disagreed: &[(String, IpAddr)]) -> String {
    if disagreed.is_empty() {
        return String::new();
    }
    let said: Vec<String> = disagreed.iter().map(|(source, ip)| format!("{source} said {ip}")).collect();
    format!(" (not unanimous: {})", said.join(", "))
}

fn causes_list(causes: &[(String, String)]) -> String {
    if causes.is_empty() {
        return "no observing source was asked".to_owned();
    }
    let list: Vec<String> = causes.iter().map(|(source, what)| format!("{source}: {what}")).collect();
    list.join("; ")
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
