//! HTTP plumbing shared by the Civo client and the HTTP echo source: the
//! TLS configuration (built once per process), the client, capped bodies.
//! The URL rule and body excerpts are the echo rules' (`resolve/echo.rs`,
//! pure, which the probe uses without reqwest), named here too.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::cause::Cause;
#[cfg(feature = "civo-api")]
pub(crate) use crate::resolve::echo::{UrlProblem, checked_url, excerpt};

/// The User-Agent every request carries.
pub(crate) const USER_AGENT: &str = concat!("civo-egress/", env!("CARGO_PKG_VERSION"));

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
/// ALPN. Never installed as the process default: the application's own
/// rustls setup stays its own.
///
/// Built once per process and cloned into each client (a clone shares the
/// verifier and its roots): loading and parsing the system's CA roots takes
/// a few hundred milliseconds in a debug build, and an HTTP echo source
/// builds its clients when it is built, never inside a deadline. A failure
/// is not kept: the next call tries again.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, ClientError> {
    static SHARED: OnceLock<rustls::ClientConfig> = OnceLock::new();
    if let Some(config) = SHARED.get() {
        return Ok(config.clone());
    }
    let config = new_tls_config()?;
    Ok(SHARED.get_or_init(|| config).clone())
}

fn new_tls_config() -> Result<rustls::ClientConfig, ClientError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_tls_configuration_is_built_once_and_shared() {
        let (one, two) = (tls_config().unwrap(), tls_config().unwrap()); // ok: test
        assert!(std::sync::Arc::ptr_eq(one.crypto_provider(), two.crypto_provider()), "one provider, one set of roots");
        let fresh = new_tls_config().unwrap(); // ok: test
        assert!(!std::sync::Arc::ptr_eq(one.crypto_provider(), fresh.crypto_provider()));
    }
}
