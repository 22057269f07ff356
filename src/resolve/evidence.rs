//! What one source said: [`Evidence`], [`EvidenceKind`], [`SourceError`].

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

/// Whether a source says what the topology *expects* (the Civo API, a
/// kubeconfig, a snapshot) or what the outside world *observed* (an echo
/// service saw the connection come from that address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EvidenceKind {
    /// What the account's configuration says the egress IP is.
    Expected,
    /// What a service outside the cluster saw.
    Observed,
}

/// Which address family to ask about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IpFamily {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
    /// Either (the default).
    #[default]
    Both,
}

impl IpFamily {
    /// Whether `ip` belongs to this family.
    #[must_use]
    pub const fn admits(self, ip: IpAddr) -> bool {
        match self {
            Self::V4 => ip.is_ipv4(),
            Self::V6 => ip.is_ipv6(),
            Self::Both => true,
        }
    }
}

/// Why a source gave no usable address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source did not answer within its timeout, or the deadline came.
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The outcome was decided before this source answered.
    #[error("cancelled: the outcome was decided without it")]
    Cancelled,
    /// The service could not be reached.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The answer is not an address (HTML, an error page, garbage).
    #[error("not an IP address: {0}")]
    BadAnswer(String),
    /// An address the internet never sees as a source: a proxy or an
    /// interception answered, not the real egress.
    #[error("{ip} is not a global unicast address ({why}): rejected as evidence")]
    NonGlobal {
        /// The address answered.
        ip: IpAddr,
        /// What it is.
        why: String,
    },
    /// An address of the other family than the one asked for.
    #[error("{0} is not of the address family asked for")]
    WrongFamily(IpAddr),
    /// The name does not exist (DNS NXDOMAIN) or has no such record.
    #[error("no such record: {0}")]
    NotFound(String),
    /// The server failed (HTTP 5xx, DNS SERVFAIL) or refused.
    #[error("server failure: {0}")]
    ServerFailure(String),
    /// The answer was larger than the cap.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    /// The source is misconfigured (a missing file, an unknown context).
    #[error("{0}")]
    Config(String),
}

/// One row of evidence: a source, the address it gave (or why not), and how
/// long it took.
///
/// A source that gives several addresses (the Civo API, for a cluster with
/// public-IP nodes) gives one row per address. Serializes as
/// `{"source", "kind", "ip", "error", "elapsed_ms"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub(crate) source: String,
    pub(crate) kind: EvidenceKind,
    pub(crate) outcome: Result<IpAddr, SourceError>,
    pub(crate) elapsed: Duration,
}

impl Evidence {
    /// The source's name, e.g. `http:https://ifconfig.me/ip`.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Expected or observed.
    #[must_use]
    pub const fn kind(&self) -> EvidenceKind {
        self.kind
    }

    /// The address, if the source gave one.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        self.outcome.as_ref().ok().copied()
    }

    /// Why the source gave no address.
    #[must_use]
    pub fn error(&self) -> Option<&SourceError> {
        self.outcome.as_ref().err()
    }

    /// How long the source took.
    #[must_use]
    pub const fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            EvidenceKind::Expected => "expected",
            EvidenceKind::Observed => "observed",
        };
        match &self.outcome {
            Ok(ip) => write!(f, "{} ({kind}): {ip} in {} ms", self.source, self.elapsed.as_millis()),
            Err(e) => write!(f, "{} ({kind}): {e} after {} ms", self.source, self.elapsed.as_millis()),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Evidence", 5)?;
        s.serialize_field("source", &self.source)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("ip", &self.ip())?;
        s.serialize_field("error", &self.error().map(ToString::to_string))?;
        s.serialize_field("elapsed_ms", &u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX))?;
        s.end()
    }
}
