//! HTTP echo services: `GET` a URL, the body is the caller's address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::Validation;
use crate::http::{self, BodyError, UrlProblem};

/// The echo services asked when the caller names none.
pub const DEFAULT_ECHO_URLS: [&str; 4] =
    ["https://ifconfig.me/ip", "https://api.ipify.org", "https://icanhazip.com", "https://checkip.amazonaws.com"];

/// An echo answer is an address and a newline: anything past this is not one.
const MAX_BODY_BYTES: usize = 4096;

/// One HTTP echo service (`https://ifconfig.me/ip` and friends): observes the
/// address our connection comes from.
///
/// The answer is trimmed and must parse as an IP address; HTML, error pages
/// and bodies over 4 KiB are rejected. `https://` only, except `http://` to a
/// loopback host. A family other than [`IpFamily::Both`] binds the connection
/// to that family.
#[derive(Debug)]
pub struct HttpEchoSource {
    url: Url,
    clients: [OnceLock<Result<reqwest::Client, String>>; 3],
}

impl HttpEchoSource {
    /// A source asking `url`.
    ///
    /// # Errors
    ///
    /// [`SourceError::Config`] for an unparsable URL, or plain `http://` to a
    /// host that is not loopback.
    pub fn new(url: &str) -> Result<Self, SourceError> {
        Self::with_validation(url, Validation::strict())
    }

    /// As [`new`](Self::new); a [`Validation`] that allows non-global
    /// addresses also allows plain `http://` to an IP literal that is not
    /// global unicast: a lab's echo service on a documentation or private
    /// address. For labs and tests only.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_validation(url: &str, validation: Validation) -> Result<Self, SourceError> {
        let url = http::checked_url(url, validation.allows_non_global()).map_err(|problem| match problem {
            UrlProblem::Unparsable(e) => SourceError::Config(format!("echo URL {url:?}: {e}")),
            UrlProblem::Insecure => SourceError::Config(format!(
                "echo URL {url:?}: only https:// (plain http:// only to a loopback host): an answer in clear text can be forged on the way"
            )),
        })?;
        Ok(Self { url, clients: Default::default() })
    }

    /// A source for each of `urls`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), for the first URL refused.
    pub fn many<S: AsRef<str>>(urls: impl IntoIterator<Item = S>) -> Result<Vec<Self>, SourceError> {
        Self::many_with(urls, Validation::strict())
    }

    /// A source for each of `urls`, with [`with_validation`](Self::with_validation).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), for the first URL refused.
    pub fn many_with<S: AsRef<str>>(
        urls: impl IntoIterator<Item = S>,
        validation: Validation,
    ) -> Result<Vec<Self>, SourceError> {
        urls.into_iter().map(|u| Self::with_validation(u.as_ref(), validation)).collect()
    }

    /// The [`DEFAULT_ECHO_URLS`].
    ///
    /// # Errors
    ///
    /// None in practice: the defaults are valid.
    pub fn defaults() -> Result<Vec<Self>, SourceError> {
        Self::many(DEFAULT_ECHO_URLS)
    }

    fn client(&self, family: IpFamily) -> Result<&reqwest::Client, SourceError> {
        let (slot, local) = match family {
            IpFamily::V4 => (0, Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
            IpFamily::V6 => (1, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
            _ => (2, None),
        };
        self.clients[slot]
            .get_or_init(|| http::client_from(local, Duration::from_secs(5)))
            .as_ref()
            .map_err(|e| SourceError::Config(e.clone()))
    }
}

#[async_trait]
impl EgressSource for HttpEchoSource {
    fn name(&self) -> String {
        format!("http:{}", self.url)
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Observed
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let response = self.client(family)?.get(self.url.clone()).send().await.map_err(|e| {
            if e.is_timeout() {
                SourceError::Timeout(Duration::from_secs(5))
            } else {
                SourceError::Unreachable(http::describe(&e))
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
            BodyError::Broken(message) => SourceError::Unreachable(message),
        })?;
        if status.is_server_error() {
            return Err(SourceError::ServerFailure(format!("HTTP {status}")));
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
        assert_eq!(HttpEchoSource::defaults().map(|d| d.len()), Ok(4));
    }
}
