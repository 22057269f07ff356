//! [`EgressReport`]: what the resolver concluded, and the startup check.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::evidence::Evidence;
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

impl EgressStatus {
    /// The serialized name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Expected => "expected",
            Self::Observed => "observed",
            Self::Mismatch => "mismatch",
            Self::Unknown => "unknown",
        }
    }

    /// Whether a caller may go on: confirmed, expected or observed.
    #[must_use]
    pub const fn is_ok(self) -> bool {
        matches!(self, Self::Confirmed | Self::Expected | Self::Observed)
    }
}

impl fmt::Display for EgressStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`resolve_egress`](crate::resolve_egress) found.
///
/// Serializes as `{"cluster", "egress_ips", "status", "observed", "expected",
/// "evidence": [...], "warnings": [...]}` (`"cluster"` is `""` when none was
/// named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressReport {
    pub(crate) cluster: Option<String>,
    pub(crate) status: EgressStatus,
    pub(crate) observed: Option<IpAddr>,
    pub(crate) expected: Vec<IpAddr>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) warnings: Vec<String>,
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

    /// The egress IPs: the expected set when confirmed or only expected; the
    /// observed IP when observed; the observed IP first, then the stale
    /// expected ones, on a mismatch.
    #[must_use]
    pub fn egress_ips(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = match self.status {
            EgressStatus::Confirmed | EgressStatus::Expected => self.expected.clone(),
            EgressStatus::Observed => self.observed.into_iter().collect(),
            EgressStatus::Mismatch => self.observed.into_iter().chain(self.expected.iter().copied()).collect(),
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
    /// replaced gateway.
    #[must_use]
    pub fn warnings(&self) -> &[String] {
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
    /// ```
    /// # use civo_egress::{Allowlist, EgressReport};
    /// # fn check(report: &EgressReport) -> Result<(), Box<dyn std::error::Error>> {
    /// let partner: Allowlist = "212.2.253.151/32\n".parse()?;
    /// let ip = report.verify_allowlisted(&partner)?; // refuse to start otherwise
    /// println!("calling the partner from {ip}");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`EgressCheckError::NotObserved`] when no quorum observed the egress
    /// IP; [`EgressCheckError::NotAllowlisted`] when the observed IP is not
    /// allowed, with what to ask the partner for.
    pub fn verify_allowlisted(&self, allowlist: &Allowlist) -> Result<IpAddr, EgressCheckError> {
        let Some(observed) = self.observed else {
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
        let mut s = serializer.serialize_struct("EgressReport", 7)?;
        // A string, as the CLI's JSON promises: "" when no cluster was named.
        s.serialize_field("cluster", self.cluster.as_deref().unwrap_or(""))?;
        s.serialize_field("egress_ips", &self.egress_ips())?;
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
    NotObserved {
        /// The resolution's status.
        status: EgressStatus,
    },
    /// The observed egress IP is not in the allowlist.
    #[error("egress IP {observed} is not in the partner's allowlist{}: ask them to allow {observed}/{}",
        replaced_hint(*.replaced, expected), if observed.is_ipv4() { 32 } else { 128 })]
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

fn replaced_hint(replaced: bool, expected: &[IpAddr]) -> String {
    if !replaced {
        return String::new();
    }
    let list: Vec<String> = expected.iter().map(ToString::to_string).collect();
    format!(" (the topology expected {}: the gateway node may have been replaced)", list.join(", "))
}
