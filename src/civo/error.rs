//! What can go wrong talking to the Civo API.

use std::time::Duration;

use crate::cause::Cause;

/// An error of the Civo API client or of discovery.
///
/// The API key never appears in it: not in `Display`, not in `Debug`, not in
/// a body excerpt, not in a cause (a server that echoes the key has it
/// redacted).
///
/// Branch on the predicates ([`is_timeout`](Self::is_timeout),
/// [`is_auth`](Self::is_auth), [`is_not_found`](Self::is_not_found),
/// [`is_rate_limited`](Self::is_rate_limited),
/// [`is_connect`](Self::is_connect), [`status`](Self::status)) or on the
/// variants. Where an io, HTTP, TLS or JSON error was underneath, it is the
/// [`source()`](std::error::Error::source) of this error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CivoError {
    /// No API key in `CIVO_TOKEN`, the Civo CLI config, or the builder.
    #[error("no Civo API key: set CIVO_TOKEN, or add one with `civo apikey add`")]
    MissingApiKey,
    /// The Civo CLI config file could not be read or parsed.
    #[error("civo config {path}: {message}")]
    #[non_exhaustive]
    Config {
        /// The file.
        path: String,
        /// What is wrong (never the file's content).
        message: String,
        /// The io error when the file could not be read. `None` for a file
        /// that is not the Civo CLI's JSON: the JSON error quotes the file's
        /// values, and the file holds API keys.
        source: Option<Cause>,
    },
    /// The API URL is unparsable, or plain `http://` to a non-loopback host
    /// (refused before any connection: the key would cross the network in
    /// clear text).
    #[error("invalid Civo API URL {url:?}: {reason}")]
    #[non_exhaustive]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
        /// The URL parser's error, for an unparsable URL.
        source: Option<Cause>,
    },
    /// 401: the key is missing, wrong or revoked.
    #[error("unauthorized (HTTP 401): {message}; check CIVO_TOKEN or the Civo CLI's current API key")]
    #[non_exhaustive]
    Unauthorized {
        /// What the API said (`requires_authentication`).
        message: String,
    },
    /// 403: the key may not do this.
    #[error("forbidden (HTTP 403): {message}")]
    #[non_exhaustive]
    Forbidden {
        /// What the API said.
        message: String,
    },
    /// 404 (also when the body is an HTML page).
    #[error("not found (HTTP 404): {path}")]
    #[non_exhaustive]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// 429 and still limited when retries or the deadline ran out.
    #[error("rate limited by the Civo API (HTTP 429){}", retry_hint(*.retry_after))]
    #[non_exhaustive]
    RateLimited {
        /// When the API said to retry, if it said.
        retry_after: Option<Duration>,
    },
    /// An error status with Civo's `{"code", "reason"}` body.
    #[error("Civo API error (HTTP {status}): {code}: {reason}")]
    #[non_exhaustive]
    Api {
        /// The HTTP status.
        status: u16,
        /// Civo's error code, e.g. `database_duplicate_cluster_name_not_allowed`.
        code: String,
        /// Civo's explanation.
        reason: String,
    },
    /// Another unexpected status, with the start of the body.
    #[error("unexpected HTTP {status} from the Civo API: {excerpt}")]
    #[non_exhaustive]
    Status {
        /// The HTTP status.
        status: u16,
        /// At most 200 characters of the body.
        excerpt: String,
    },
    /// A request, or the whole operation, ran out of time.
    #[error("timed out after {} ms waiting for the Civo API{}", .after.as_millis(), deadline_hint(*.deadline))]
    #[non_exhaustive]
    Timeout {
        /// How long it waited: a request's timeout, or the time the whole
        /// operation really took when its deadline passed.
        after: Duration,
        /// The operation's deadline, when that is what passed.
        deadline: Option<Duration>,
    },
    /// A region that is no region code (Civo's are like `LON1`): refused
    /// before any request.
    #[error("invalid Civo region {region:?}: {reason}")]
    #[non_exhaustive]
    InvalidRegion {
        /// The region as given (its start, when it is long).
        region: String,
        /// Why it was refused.
        reason: String,
    },
    /// The connection failed (refused, reset, DNS, TLS).
    #[error("cannot reach the Civo API: {message}")]
    #[non_exhaustive]
    Connect {
        /// What failed.
        message: String,
        /// The HTTP client's error (its own `source()` goes down to the io
        /// error).
        source: Cause,
    },
    /// The HTTP client could not be set up (no CA certificates on the
    /// system, say). Made no connection.
    #[error("{message}")]
    #[non_exhaustive]
    Tls {
        /// What failed.
        message: String,
        /// The TLS or HTTP client's error.
        source: Cause,
    },
    /// The body is not the JSON expected.
    #[error("cannot decode {endpoint} at {path}: {message}")]
    #[non_exhaustive]
    Decode {
        /// The endpoint, e.g. `/v2/kubernetes/clusters`.
        endpoint: String,
        /// The JSON path that failed, e.g. `items[0].pools`.
        path: String,
        /// What serde said.
        message: String,
        /// The JSON error (redacted if it quoted the key); `None` when the
        /// JSON was valid but absurd (too many pages).
        source: Option<Cause>,
    },
    /// The body is larger than the cap.
    #[error("response from {endpoint} is larger than {limit} bytes")]
    #[non_exhaustive]
    TooLarge {
        /// The endpoint.
        endpoint: String,
        /// The cap.
        limit: usize,
    },
    /// No cluster matches the name or id.
    #[error("no cluster matches {query:?}")]
    #[non_exhaustive]
    ClusterNotFound {
        /// What was asked for.
        query: String,
    },
    /// Several clusters match a partial name.
    #[error("{query:?} matches several clusters: {}", .matches.join(", "))]
    #[non_exhaustive]
    AmbiguousCluster {
        /// What was asked for.
        query: String,
        /// The names that match.
        matches: Vec<String>,
    },
}

fn deadline_hint(deadline: Option<Duration>) -> String {
    deadline.map(|d| format!(" (the deadline is {} ms)", d.as_millis())).unwrap_or_default()
}

fn retry_hint(after: Option<Duration>) -> String {
    after.map(|d| format!(", retry in {} s", d.as_secs().max(1))).unwrap_or_default()
}

impl CivoError {
    /// Whether the error is a timeout (of one request or of the deadline).
    #[must_use]
    pub const fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether the key was refused (401 or 403).
    #[must_use]
    pub const fn is_auth(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::Forbidden { .. })
    }

    /// Whether what was asked for does not exist: an HTTP 404, or no
    /// cluster matching the name or id.
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::ClusterNotFound { .. })
    }

    /// Whether the API rate-limited us past the retries or the deadline
    /// (see [`retry_after`](Self::retry_after)).
    #[must_use]
    pub const fn is_rate_limited(&self) -> bool {
        matches!(self, Self::RateLimited { .. })
    }

    /// Whether the connection failed (refused, reset, DNS, TLS handshake,
    /// a body cut short).
    #[must_use]
    pub const fn is_connect(&self) -> bool {
        matches!(self, Self::Connect { .. })
    }

    /// Whether the settings or the configuration are at fault (no key, a
    /// refused URL or region, an unreadable Civo CLI config, no TLS
    /// set-up): retrying will not help.
    #[must_use]
    pub const fn is_config(&self) -> bool {
        matches!(
            self,
            Self::MissingApiKey
                | Self::Config { .. }
                | Self::InvalidUrl { .. }
                | Self::InvalidRegion { .. }
                | Self::Tls { .. }
        )
    }

    /// When a rate-limited API said to retry.
    #[must_use]
    pub const fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status the API answered, if the error comes from one.
    #[must_use]
    pub const fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::RateLimited { .. } => Some(429),
            Self::Api { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
