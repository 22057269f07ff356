//! HTTP echo services: `GET` a URL, the body is the caller's address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use super::echo::{self, DEFAULT_ECHO_URLS, MAX_BODY_BYTES};
use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::AddressPolicy;
use crate::http::{self, BodyError};

/// The clients' connect timeout, which a timed-out request reports.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One HTTP echo service (`https://ifconfig.me/ip` and friends): observes the
/// address our connection comes from.
///
/// The answer is trimmed and must parse as an IP address; HTML, error pages
/// and bodies over 4 KiB are rejected (the echo rules, which the probe's
/// pods follow too). `https://` only, except `http://` to a loopback host
/// (and, with [`AddressPolicy::AllowNonGlobal`], to a non-global IP
/// literal). A family other than [`IpFamily::Both`] binds the connection to
/// that family.
///
/// Its HTTP clients (one per [`IpFamily`], TLS set up once per process) are
/// built with it, so that [`gather`](EgressSource::gather) does no blocking
/// setup and a resolver's deadline holds from its first poll.
///
/// ```
/// use civo_egress::resolve::{EgressSource, HttpEchoSource};
/// let echo = HttpEchoSource::new("https://ifconfig.me/ip")?;
/// assert_eq!(echo.name(), "http:https://ifconfig.me/ip");
/// assert!(HttpEchoSource::new("http://ifconfig.me/ip").is_err(), "clear text can be forged");
/// # Ok::<(), civo_egress::resolve::SourceError>(())
/// ```
#[derive(Debug)]
pub struct HttpEchoSource {
    url: Url,
    name: String,
    /// IPv4, IPv6 and either; or why they could not be built (no CA roots
    /// on the system, say), which every `gather` then says.
    clients: Result<[reqwest::Client; 3], SourceError>,
}

/// Builds an [`HttpEchoSource`] with an [`AddressPolicy`] other than the default.
///
/// ```
/// use civo_egress::AddressPolicy;
/// use civo_egress::resolve::HttpEchoSource;
/// // A lab's echo service on a documentation address, in clear text:
/// let lab = AddressPolicy::AllowNonGlobal;
/// let echo = HttpEchoSource::builder("http://198.51.100.80/").addresses(lab).build()?;
/// assert_eq!(echo.url(), "http://198.51.100.80/");
/// assert!(HttpEchoSource::new("http://198.51.100.80/").is_err());
/// # Ok::<(), civo_egress::resolve::SourceError>(())
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct HttpEchoSourceBuilder {
    url: String,
    addresses: AddressPolicy,
}

impl HttpEchoSourceBuilder {
    /// Which URLs are asked (default [`AddressPolicy::GlobalOnly`]).
    /// [`AddressPolicy::AllowNonGlobal`] also allows plain `http://` to an IP literal that
    /// is not global unicast: a lab's echo service on a documentation or
    /// private address. See [the lab opt-in](super#labs-and-tests-the-one-opt-in).
    pub const fn addresses(mut self, addresses: AddressPolicy) -> Self {
        self.addresses = addresses;
        self
    }

    /// Checks the URL and builds the source's HTTP clients (no network:
    /// the first source of a process also reads the system's CA roots).
    ///
    /// # Errors
    ///
    /// [`SourceError::Config`] for an unparsable URL (its `source()` is the
    /// URL parser's error), or plain `http://` to a host that is not loopback
    /// (nor, with [`AddressPolicy::AllowNonGlobal`], a non-global IP literal).
    /// A client that cannot be built (no CA roots on the system) is not an
    /// error here: each [`gather`](EgressSource::gather) returns it, as a
    /// [`SourceError::Config`], so that one unusable source never stops a
    /// resolver built with others.
    pub fn build(self) -> Result<HttpEchoSource, SourceError> {
        let url = echo::echo_url(&self.url, self.addresses)?;
        Ok(HttpEchoSource { name: format!("http:{url}"), url, clients: clients() })
    }
}

impl HttpEchoSource {
    /// A source asking `url`, with the default [`AddressPolicy`].
    ///
    /// # Errors
    ///
    /// As [`HttpEchoSourceBuilder::build`].
    pub fn new(url: &str) -> Result<Self, SourceError> {
        Self::builder(url).build()
    }

    /// Starts a builder, to set the [`AddressPolicy`].
    pub fn builder(url: impl Into<String>) -> HttpEchoSourceBuilder {
        HttpEchoSourceBuilder { url: url.into(), addresses: AddressPolicy::GlobalOnly }
    }

    /// A source for each of `urls`, with the default [`AddressPolicy`].
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), for the first URL refused.
    pub fn many<S: AsRef<str>>(urls: impl IntoIterator<Item = S>) -> Result<Vec<Self>, SourceError> {
        urls.into_iter().map(|u| Self::new(u.as_ref())).collect()
    }

    /// A source for each of the [`DEFAULT_ECHO_URLS`].
    #[must_use]
    #[allow(clippy::expect_used, reason = "an invariant of the constant URLs, checked by a unit test")]
    pub fn defaults() -> Vec<Self> {
        DEFAULT_ECHO_URLS
            .iter()
            .map(|url| Self::new(url).expect("DEFAULT_ECHO_URLS are https:// URLs, checked by a unit test")) // ok: constant URLs
            .collect()
    }

    /// The URL asked.
    #[must_use]
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    fn client(&self, family: IpFamily) -> Result<&reqwest::Client, SourceError> {
        let [v4, v6, either] = self.clients.as_ref().map_err(Clone::clone)?;
        Ok(match family {
            IpFamily::V4 => v4,
            IpFamily::V6 => v6,
            _ => either,
        })
    }
}

/// The clients of one source: IPv4 (connections from `0.0.0.0`), IPv6
/// (from `::`) and either. Each source has its own (their connection pools
/// live and die with it); the TLS configuration they share is built once per
/// process ([`http::tls_config`]), so the clients cost little.
fn clients() -> Result<[reqwest::Client; 3], SourceError> {
    let build = |local: Option<IpAddr>| {
        http::client_from(local, TIMEOUT).map_err(|e| {
            SourceError::config(format!("cannot set up the HTTP client: {}", e.message())).with_cause(e.cause())
        })
    };
    Ok([build(Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))?, build(Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)))?, build(None)?])
}

#[async_trait]
impl EgressSource for HttpEchoSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Observed
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let response = self.client(family)?.get(self.url.clone()).send().await.map_err(|e| {
            if e.is_timeout() {
                SourceError::Timeout(TIMEOUT)
            } else {
                SourceError::unreachable(http::describe(&e)).with_source(e)
            }
        })?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = http::read_capped(response, MAX_BODY_BYTES).await.map_err(|e| match e {
            BodyError::TooLarge => SourceError::TooLarge(MAX_BODY_BYTES),
            BodyError::Timeout => SourceError::Timeout(TIMEOUT),
            BodyError::Broken(e) => SourceError::unreachable(http::describe(&e)).with_source(e),
        })?;
        echo::judge(status.as_u16(), &content_type, &body).map(|ip| vec![ip])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_secure_urls() {
        assert!(HttpEchoSource::new("http://ifconfig.me/ip").is_err());
        assert!(HttpEchoSource::new("http://127.0.0.1:8080/").is_ok());
        assert_eq!(HttpEchoSource::defaults().len(), 4);
        for url in DEFAULT_ECHO_URLS {
            assert!(HttpEchoSource::new(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn the_clients_are_built_with_the_source() {
        let source = HttpEchoSource::new("http://127.0.0.1:8080/").unwrap();
        assert!(source.clients.is_ok(), "{:?}", source.clients.as_ref().err());
        for family in [IpFamily::V4, IpFamily::V6, IpFamily::Both] {
            assert!(source.client(family).is_ok());
        }
    }
}
