//! HTTP plumbing shared by the Civo client and the HTTP echo source.

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::cause::Cause;

/// The User-Agent every request carries.
pub(crate) const USER_AGENT: &str = concat!("civo-egress/", env!("CARGO_PKG_VERSION"));

/// Why a URL was refused before any connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    Unparsable(url::ParseError),
    /// Not `https://`, and not `http://` to a loopback host.
    Insecure,
}

/// Parses `text` and allows `https://`, or `http://` to a loopback host only
/// (tests and local proxies): an API key or an egress answer must never cross
/// a network in clear text.
///
/// With `lab`, plain `http://` is also allowed to an IP literal that is not
/// global unicast (a lab's documentation or private addresses, which never
/// cross the internet).
pub(crate) fn checked_url(text: &str, lab: bool) -> Result<Url, UrlProblem> {
    let url = Url::parse(text.trim()).map_err(UrlProblem::Unparsable)?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(url.host()) => Ok(url),
        "http" if lab && is_non_global(url.host()) => Ok(url),
        _ => Err(UrlProblem::Insecure),
    }
}

fn is_non_global(host: Option<Host<&str>>) -> bool {
    let ip = match host {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return false,
    };
    crate::special::lookup(ip).is_some()
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Why the HTTP client could not be built (no CA roots on the system, say).
#[derive(Debug)]
pub(crate) struct ClientError {
    message: String,
    cause: Cause,
}

impl ClientError {
    fn new(message: String, cause: Cause) -> Self {
        Self { message, cause }
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn cause(&self) -> Cause {
        self.cause.clone()
    }
}

/// The TLS configuration: rustls with the ring provider (no aws-lc-sys, no
/// C build beyond ring's), TLS 1.2 and 1.3, the platform's certificate
/// verifier (the system's CA roots, as reqwest's default does), HTTP/1.1 by
/// ALPN. Built per client, never installed as the process default: the
/// application's own rustls setup stays its own.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, ClientError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(BuilderVerifierExt::with_platform_verifier)
        .map_err(|e| ClientError::new(format!("cannot set up TLS: {e}"), Cause::new(e)))?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A reqwest client configured the way both layers need it: our User-Agent,
/// no redirects (an echo service or API that redirects is misbehaving), no
/// proxy from the environment (a proxy would change the egress we observe),
/// a connect timeout, and [`tls_config`].
///
/// Connections are made from `local` when given (`0.0.0.0` forces IPv4, `::`
/// IPv6).
pub(crate) fn client_from(local: Option<IpAddr>, connect_timeout: Duration) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .user_agent(USER_AGENT)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .local_address(local)
        .build()
        .map_err(|e| ClientError::new(format!("cannot build the HTTP client: {}", describe(&e)), Cause::new(e)))
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge,
    Timeout,
    Broken(reqwest::Error),
}

/// Reads a body, never holding more than `limit` bytes: a hostile server
/// cannot make us buffer 64 MiB.
pub(crate) async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(BodyError::Timeout),
            Err(e) => return Err(BodyError::Broken(e)),
        }
    }
}

/// A reqwest error as one line, with its innermost cause (which says
/// "connection refused" where the outer one only says "error sending request").
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let outer = error.to_string();
    let inner = cause.to_string();
    if inner == outer { outer } else { format!("{outer}: {inner}") }
}

/// The first `max` characters of a body, on one line, for an error message.
pub(crate) fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(checked_url("https://api.civo.com", false).is_ok());
        assert!(checked_url("http://127.0.0.1:8080/", false).is_ok());
        assert!(checked_url("http://127.9.9.9/", false).is_ok());
        assert!(checked_url("http://[::1]:80/", false).is_ok());
        assert!(checked_url("http://localhost:3000", false).is_ok());
        assert_eq!(checked_url("http://api.civo.com", false), Err(UrlProblem::Insecure));
        assert_eq!(checked_url("http://10.0.0.1", false), Err(UrlProblem::Insecure));
        assert_eq!(checked_url("http://localhost.evil.com", false), Err(UrlProblem::Insecure));
        assert_eq!(checked_url("ftp://127.0.0.1", false), Err(UrlProblem::Insecure));
        assert!(matches!(checked_url("not a url", false), Err(UrlProblem::Unparsable(_))));
        assert_eq!(checked_url("http://198.51.100.80/", false), Err(UrlProblem::Insecure));
        assert!(checked_url("http://198.51.100.80/", true).is_ok());
        assert!(checked_url("http://192.168.1.1/", true).is_ok());
        assert_eq!(checked_url("http://8.8.8.8/", true), Err(UrlProblem::Insecure));
        assert_eq!(checked_url("http://echo.lab/", true), Err(UrlProblem::Insecure));
    }

    #[test]
    fn the_client_is_built_with_rustls_and_ring_without_network() {
        let config = tls_config().unwrap(); // ok: test
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        let ring = rustls::crypto::ring::default_provider();
        let suites = |p: &rustls::crypto::CryptoProvider| p.cipher_suites.iter().map(|s| s.suite()).collect::<Vec<_>>();
        assert_eq!(suites(config.crypto_provider()), suites(&ring), "the ring provider's suites");
        assert!(client_from(None, Duration::from_secs(1)).is_ok());
        assert!(client_from(Some(IpAddr::from([0, 0, 0, 0])), Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn excerpts_are_bounded_and_flat() {
        assert_eq!(excerpt(b"<html>\n  <body>Not Found</body>\n</html>", 100), "<html> <body>Not Found</body> </html>");
        assert_eq!(excerpt("ééééé".as_bytes(), 3), "ééé…");
    }
}
