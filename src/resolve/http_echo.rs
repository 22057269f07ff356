//! HTTP echo services: `GET` a URL, the body is the caller's address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::AddressPolicy;
use crate::http::{self, BodyError, UrlProblem};

/// The echo services asked when the caller names none.
pub const DEFAULT_ECHO_URLS: [&str; 4] =
    ["https://ifconfig.me/ip", "https://api.ipify.org", "https://icanhazip.com", "https://checkip.amazonaws.com"];

/// An echo answer is an address and a newline: anything past this is not one.
pub(crate) const MAX_BODY_BYTES: usize = 4096;

/// One HTTP echo service (`https://ifconfig.me/ip` and friends): observes the
/// address our connection comes from.
///
/// The answer is trimmed and must parse as an IP address; HTML, error pages
/// and bodies over 4 KiB are rejected. `https://` only, except `http://` to a
/// loopback host (and, with [`AddressPolicy::AllowNonGlobal`], to a non-global IP
/// literal). A family other than [`IpFamily::Both`] binds the connection to
/// that family.
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
    clients: [OnceLock<Result<reqwest::Client, SourceError>>; 3],
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

    /// Checks the URL.
    ///
    /// # Errors
    ///
    /// [`SourceError::Config`] for an unparsable URL (its `source()` is the
    /// URL parser's error), or plain `http://` to a host that is not loopback
    /// (nor, with [`AddressPolicy::AllowNonGlobal`], a non-global IP literal).
    pub fn build(self) -> Result<HttpEchoSource, SourceError> {
        let text = self.url;
        let url = http::checked_url(&text, self.addresses.allows_non_global()).map_err(|problem| match problem {
            UrlProblem::Unparsable(e) => SourceError::config(format!("echo URL {text:?}: {e}")).with_source(e),
            UrlProblem::Insecure => SourceError::config(format!(
                "echo URL {text:?}: only https:// (plain http:// only to a loopback host): an answer in clear text can be forged on the way"
            )),
        })?;
        Ok(HttpEchoSource { name: format!("http:{url}"), url, clients: Default::default() })
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
        let (slot, local) = match family {
            IpFamily::V4 => (0, Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
            IpFamily::V6 => (1, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
            _ => (2, None),
        };
        self.clients[slot]
            .get_or_init(|| {
                http::client_from(local, Duration::from_secs(5)).map_err(|e| {
                    SourceError::config(format!("cannot set up the HTTP client: {}", e.message())).with_cause(e.cause())
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
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
                SourceError::Timeout(Duration::from_secs(5))
            } else {
                SourceError::unreachable(http::describe(&e)).with_source(e)
            }
        })?;
        let status = response.status();
        let html = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("html"));
        let body = http::read_capped(response, MAX_BODY_BYTES).await.map_err(|e| match e {
            BodyError::TooLarge => SourceError::TooLarge(MAX_BODY_BYTES),
            BodyError::Timeout => SourceError::Timeout(Duration::from_secs(5)),
            BodyError::Broken(e) => SourceError::unreachable(http::describe(&e)).with_source(e),
        })?;
        if status.is_server_error() {
            return Err(SourceError::server_failure(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(SourceError::BadAnswer(format!("HTTP {status}: {}", http::excerpt(&body, 60))));
        }
        parse_echo(&body, html).map(|ip| vec![ip])
    }
}

/// The address in an echo body: one address, surrounding blanks allowed.
pub(crate) fn parse_echo(body: &[u8], html: bool) -> Result<IpAddr, SourceError> {
    let text = std::str::from_utf8(body).map_err(|_| SourceError::BadAnswer("a body that is not text".into()))?;
    let trimmed = text.trim();
    if html || trimmed.starts_with('<') {
        return Err(SourceError::BadAnswer(format!("an HTML page: {}", http::excerpt(body, 60))));
    }
    trimmed.parse::<IpAddr>().map_err(|_| SourceError::BadAnswer(http::excerpt(body, 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_bodies() {
        assert_eq!(parse_echo(b"212.2.253.151\n", false), Ok(IpAddr::from([212, 2, 253, 151])));
        assert_eq!(parse_echo(b"  2a00:1450::10\r\n", false), Ok(IpAddr::from([0x2a00, 0x1450, 0, 0, 0, 0, 0, 0x10])));
        assert!(matches!(parse_echo(b"<html>hi</html>", false), Err(SourceError::BadAnswer(_))));
        assert!(matches!(parse_echo(b"212.2.253.151", true), Err(SourceError::BadAnswer(_))));
        assert!(matches!(parse_echo(b"ip=1.2.3.4", false), Err(SourceError::BadAnswer(_))));
        assert!(matches!(parse_echo(b"1.2.3.4 5.6.7.8", false), Err(SourceError::BadAnswer(_))));
        assert!(matches!(parse_echo(&[0xff, 0xfe], false), Err(SourceError::BadAnswer(_))));
        assert!(matches!(parse_echo(b"", false), Err(SourceError::BadAnswer(_))));
    }

    #[test]
    fn only_secure_urls() {
        assert!(HttpEchoSource::new("http://ifconfig.me/ip").is_err());
        assert!(HttpEchoSource::new("http://127.0.0.1:8080/").is_ok());
        assert_eq!(HttpEchoSource::defaults().len(), 4);
        for url in DEFAULT_ECHO_URLS {
            assert!(HttpEchoSource::new(url).is_ok(), "{url}");
        }
    }
}
