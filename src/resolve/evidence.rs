//! What one source said: [`Evidence`], [`EvidenceKind`], [`SourceError`].

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::vantage::Vantage;
use crate::cause::Cause;
use crate::names::serialized_names;
/// The family type is the verdict's, re-exported here where it was first.
pub use crate::verdict::IpFamily;

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

serialized_names!(EvidenceKind, "evidence kind", { Expected => "expected", Observed => "observed" });

/// Why a source gave no usable address.
///
/// Where an io, HTTP or DNS error was underneath, it is the
/// [`source()`](std::error::Error::source) of this error. An
/// [`EgressSource`](super::EgressSource) of your own builds these with the
/// constructors ([`SourceError::unreachable`], [`SourceError::config`]...)
/// and may attach its own cause with [`with_source`](SourceError::with_source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source did not answer within its timeout, or the deadline came.
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The service could not be reached.
    #[error("unreachable: {message}")]
    #[non_exhaustive]
    Unreachable {
        /// What failed.
        message: String,
        /// The io, HTTP or DNS error, if there was one.
        source: Option<Cause>,
    },
    /// The answer is not an address (HTML, an error page, garbage).
    #[error("not an IP address: {0}")]
    BadAnswer(String),
    /// An address the internet never sees as a source: a proxy, a NAT or an
    /// interception answered, not the real egress.
    #[error("{ip} is not a global unicast address ({why}): rejected as evidence")]
    #[non_exhaustive]
    NonGlobal {
        /// The address answered.
        ip: IpAddr,
        /// What it is: the special-purpose range and its RFC.
        why: String,
    },
    /// An address of the other family than the one asked for.
    #[error("{0} is not of the address family asked for")]
    WrongFamily(IpAddr),
    /// The name does not exist (DNS NXDOMAIN) or has no such record.
    #[error("no such record: {message}")]
    #[non_exhaustive]
    NotFound {
        /// What is missing.
        message: String,
        /// The DNS error, if there was one.
        source: Option<Cause>,
    },
    /// The server failed (HTTP 5xx, DNS SERVFAIL) or refused.
    #[error("server failure: {message}")]
    #[non_exhaustive]
    ServerFailure {
        /// What the server said.
        message: String,
        /// The underlying error, if there was one.
        source: Option<Cause>,
    },
    /// The answer was larger than the cap.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    /// The source is misconfigured (a missing file, an unknown context, a
    /// refused URL, no DNS configuration).
    #[error("{message}")]
    #[non_exhaustive]
    Config {
        /// What is wrong.
        message: String,
        /// The underlying error, if there was one.
        source: Option<Cause>,
    },
}

impl SourceError {
    /// [`SourceError::Unreachable`], without a cause.
    #[must_use]
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::Unreachable { message: message.into(), source: None }
    }

    /// [`SourceError::NotFound`], without a cause.
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound { message: message.into(), source: None }
    }

    /// [`SourceError::ServerFailure`], without a cause.
    #[must_use]
    pub fn server_failure(message: impl Into<String>) -> Self {
        Self::ServerFailure { message: message.into(), source: None }
    }

    /// [`SourceError::Config`], without a cause.
    #[must_use]
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config { message: message.into(), source: None }
    }

    /// Attaches the underlying error, returned by `source()`, to a variant
    /// that holds one (`Unreachable`, `NotFound`, `ServerFailure`, `Config`);
    /// other variants are returned unchanged.
    #[must_use]
    pub fn with_source(self, error: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.with_cause(Cause::new(error))
    }

    pub(crate) fn with_cause(mut self, cause: Cause) -> Self {
        match &mut self {
            Self::Unreachable { source, .. }
            | Self::NotFound { source, .. }
            | Self::ServerFailure { source, .. }
            | Self::Config { source, .. } => *source = Some(cause),
            _ => {}
        }
        self
    }

    /// Whether the source timed out (its own timeout, or the deadline).
    #[must_use]
    pub const fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether the source answered an address the resolver refused: not
    /// global unicast, or of the wrong family.
    #[must_use]
    pub const fn is_rejected(&self) -> bool {
        matches!(self, Self::NonGlobal { .. } | Self::WrongFamily(_))
    }

    /// Whether the service could not be reached.
    #[must_use]
    pub const fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }

    /// Whether the name or record does not exist.
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the server failed (HTTP 5xx, DNS SERVFAIL).
    #[must_use]
    pub const fn is_server_failure(&self) -> bool {
        matches!(self, Self::ServerFailure { .. })
    }

    /// Whether the answer was not an address, or too large to be one.
    #[must_use]
    pub const fn is_bad_answer(&self) -> bool {
        matches!(self, Self::BadAnswer(_) | Self::TooLarge(_))
    }

    /// Whether the source is misconfigured.
    #[must_use]
    pub const fn is_config(&self) -> bool {
        matches!(self, Self::Config { .. })
    }
}

/// One row of evidence: a source, the address it gave (or why not), and how
/// long it took.
///
/// A source that gives several addresses (the Civo API, for a cluster with
/// public-IP nodes) gives one row per address. Serializes as
/// `{"source", "kind", "vantage", "ip", "error", "elapsed_ms"}`; `"vantage"`
/// is `"pod"` or `"host"` for an observed row, `null` for an expected one
/// (see [`vantage`](Self::vantage)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub(crate) source: String,
    pub(crate) kind: EvidenceKind,
    pub(crate) vantage: Option<Vantage>,
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

    /// Where an observed row was made from: the resolver's
    /// [`Vantage`]. `None` for an expected row, which says what a
    /// configuration claims and was not made from anywhere.
    #[must_use]
    pub const fn vantage(&self) -> Option<Vantage> {
        self.vantage
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
        let kind = self.kind;
        let from = self.vantage.map(|v| format!(" from {v}")).unwrap_or_default();
        match &self.outcome {
            Ok(ip) => write!(f, "{} ({kind}{from}): {ip} in {} ms", self.source, self.elapsed.as_millis()),
            Err(e) => write!(f, "{} ({kind}{from}): {e} after {} ms", self.source, self.elapsed.as_millis()),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Evidence", 6)?;
        s.serialize_field("source", &self.source)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("vantage", &self.vantage)?;
        s.serialize_field("ip", &self.ip())?;
        s.serialize_field("error", &self.error().map(ToString::to_string))?;
        s.serialize_field("elapsed_ms", &u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX))?;
        s.end()
    }
}

// The global check is one of the echo rules (`echo.rs`); named here too for
// the resolver, which has always found it beside `SourceError`.
pub(crate) use super::echo::check_global;
