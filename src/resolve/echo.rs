//! What an echo answer means: the one set of rules every layer that observes
//! the egress shares (the HTTP echo source, the probe's pods reading the same
//! URLs with curl, the DNS echo source, the resolver). Pure: no I/O, no
//! runtime, no HTTP client, so the probe uses it without reqwest.
//!
//! - which URLs may be asked ([`checked_url`], [`echo_url`]): `https://`,
//!   or plain `http://` to a loopback host (and to a non-global IP literal
//!   with the lab opt-in);
//! - what an answer says ([`judge`], [`parse_echo`]): the HTTP status, no
//!   HTML, at most [`MAX_BODY_BYTES`], one address, blanks around it allowed;
//! - whether an observed address counts ([`check_global`]): global unicast,
//!   unless the lab opt-in (the DNS echo source's answers are read in
//!   `dns_echo.rs`, by hickory's types, and judged here too);
//! - the services asked when the caller names none ([`DEFAULT_ECHO_URLS`]).
//!
//! The global check is the resolver's for every observed source, so this
//! module is compiled with `resolve`; its HTTP half with `http-probe` or
//! `probe`, and the URL rule also with the Civo client's plumbing (`__http`),
//! which checks its API URL the same way.

use std::net::IpAddr;

#[cfg(any(feature = "__http", feature = "probe"))]
use url::{Host, Url};

use super::evidence::SourceError;
use crate::AddressPolicy;

/// The echo services asked when the caller names none.
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub const DEFAULT_ECHO_URLS: [&str; 4] =
    ["https://ifconfig.me/ip", "https://api.ipify.org", "https://icanhazip.com", "https://checkip.amazonaws.com"];

/// An echo answer is an address and a newline: anything past this is not one.
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub(crate) const MAX_BODY_BYTES: usize = 4096;

/// An observed address must be global unicast (the internet never sees a
/// private, CGNAT or documentation source), unless `addresses` is the lab
/// opt-in: the one rule of the resolver and the probe. The address comes
/// back canonical (`::ffff:a.b.c.d` is IPv4).
pub(crate) fn check_global(ip: IpAddr, addresses: AddressPolicy) -> Result<IpAddr, SourceError> {
    let ip = ip.to_canonical();
    match crate::special::lookup(ip) {
        Some(range) if !addresses.allows_non_global() => {
            Err(SourceError::NonGlobal { ip, why: format!("{} ({})", range.name, range.rfc) })
        }
        _ => Ok(ip),
    }
}

/// Why a URL was refused before any connection.
#[cfg(any(feature = "__http", feature = "probe"))]
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
#[cfg(any(feature = "__http", feature = "probe"))]
pub(crate) fn checked_url(text: &str, lab: bool) -> Result<Url, UrlProblem> {
    let url = Url::parse(text.trim()).map_err(UrlProblem::Unparsable)?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(url.host()) => Ok(url),
        "http" if lab && is_non_global(url.host()) => Ok(url),
        _ => Err(UrlProblem::Insecure),
    }
}

#[cfg(any(feature = "__http", feature = "probe"))]
fn is_non_global(host: Option<Host<&str>>) -> bool {
    let ip = match host {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return false,
    };
    crate::special::lookup(ip).is_some()
}

#[cfg(any(feature = "__http", feature = "probe"))]
fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// An echo URL, checked by [`checked_url`] with the lab opt-in of
/// `addresses`, its refusal as the HTTP echo source and the probe say it.
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub(crate) fn echo_url(text: &str, addresses: AddressPolicy) -> Result<Url, SourceError> {
    checked_url(text, addresses.allows_non_global()).map_err(|problem| match problem {
        UrlProblem::Unparsable(e) => SourceError::config(format!("echo URL {text:?}: {e}")).with_source(e),
        UrlProblem::Insecure => SourceError::config(format!(
            "echo URL {text:?}: only https:// (plain http:// only to a loopback host): an answer in clear text can be forged on the way"
        )),
    })
}

/// The address of one echo answer, whole: HTTP `status`, its `Content-Type`
/// (empty when none) and its `body`. A body over [`MAX_BODY_BYTES`] is
/// [`SourceError::TooLarge`], a 5xx a [`SourceError::ServerFailure`], any
/// other status but 2xx a [`SourceError::BadAnswer`] with an excerpt, and a
/// 2xx body is read by [`parse_echo`]. The global check is the caller's
/// ([`check_global`]: the resolver's for the HTTP echo source, the probe's
/// for its pods).
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub(crate) fn judge(status: u16, content_type: &str, body: &[u8]) -> Result<IpAddr, SourceError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(SourceError::TooLarge(MAX_BODY_BYTES));
    }
    if (500..600).contains(&status) {
        return Err(SourceError::server_failure(format!("HTTP {status}")));
    }
    if !(200..300).contains(&status) {
        return Err(SourceError::BadAnswer(format!("HTTP {status}: {}", excerpt(body, 60))));
    }
    parse_echo(body, content_type.to_ascii_lowercase().contains("html"))
}

/// The address in an echo body: one address, surrounding blanks allowed;
/// never from HTML (`html`: the content type said so).
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub(crate) fn parse_echo(body: &[u8], html: bool) -> Result<IpAddr, SourceError> {
    let text = std::str::from_utf8(body).map_err(|_| SourceError::BadAnswer("a body that is not text".into()))?;
    let trimmed = text.trim();
    if html || trimmed.starts_with('<') {
        return Err(SourceError::BadAnswer(format!("an HTML page: {}", excerpt(body, 60))));
    }
    trimmed.parse::<IpAddr>().map_err(|_| SourceError::BadAnswer(excerpt(body, 60)))
}

/// The first `max` characters of a body, on one line, for an error message.
#[cfg(any(feature = "__http", feature = "probe", feature = "dns"))]
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
    fn only_global_addresses_count_unless_the_lab_opts_in() {
        let strict = AddressPolicy::GlobalOnly;
        assert_eq!(check_global(IpAddr::from([212, 2, 253, 151]), strict), Ok(IpAddr::from([212, 2, 253, 151])));
        let mapped: IpAddr = "::ffff:212.2.253.151".parse().unwrap();
        assert_eq!(check_global(mapped, strict), Ok(IpAddr::from([212, 2, 253, 151])), "canonical");
        for ip in ["10.0.0.7", "100.64.0.1", "192.0.2.1", "127.0.0.1", "::1", "fe80::1", "::ffff:192.168.1.4"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(matches!(check_global(ip, strict), Err(SourceError::NonGlobal { .. })), "{ip}");
            assert_eq!(check_global(ip, AddressPolicy::AllowNonGlobal), Ok(ip.to_canonical()), "{ip}");
        }
        let cgnat = check_global(IpAddr::from([100, 64, 3, 3]), strict);
        assert!(matches!(&cgnat, Err(SourceError::NonGlobal { why, .. }) if why.contains("CGNAT")), "{cgnat:?}");
    }

    #[cfg(any(feature = "__http", feature = "probe"))]
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

    #[cfg(any(feature = "http-probe", feature = "probe"))]
    #[test]
    fn echo_urls_follow_the_url_rule_and_say_why_not() {
        for url in DEFAULT_ECHO_URLS {
            assert!(echo_url(url, AddressPolicy::GlobalOnly).is_ok(), "{url}");
        }
        let lab = AddressPolicy::AllowNonGlobal;
        assert!(echo_url("http://198.51.100.80/", lab).is_ok());
        let refused = echo_url("http://198.51.100.80/", AddressPolicy::GlobalOnly);
        assert!(matches!(&refused, Err(SourceError::Config { message, .. }) if message.contains("only https://")));
        let unparsable = echo_url("not a url", lab);
        assert!(matches!(&unparsable, Err(SourceError::Config { source: Some(_), .. })), "{unparsable:?}");
    }

    #[cfg(any(feature = "http-probe", feature = "probe"))]
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

    #[cfg(any(feature = "http-probe", feature = "probe"))]
    #[test]
    fn whole_answers_are_judged_by_status_type_size_and_body() {
        assert_eq!(judge(200, "text/plain", b"212.2.253.151\n"), Ok(IpAddr::from([212, 2, 253, 151])));
        assert_eq!(judge(204, "", b"212.2.253.151"), Ok(IpAddr::from([212, 2, 253, 151])));
        assert!(matches!(judge(200, "Text/HTML; charset=utf-8", b"212.2.253.151"), Err(SourceError::BadAnswer(_))));
        assert!(matches!(judge(503, "text/plain", b"212.2.253.151"), Err(SourceError::ServerFailure { .. })));
        let not_found = judge(404, "text/plain", b"no such page");
        assert!(matches!(&not_found, Err(SourceError::BadAnswer(m)) if m == "HTTP 404: no such page"), "{not_found:?}");
        assert!(matches!(judge(301, "", b""), Err(SourceError::BadAnswer(_))));
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(judge(200, "text/plain", &big), Err(SourceError::TooLarge(MAX_BODY_BYTES)));
        assert_eq!(judge(500, "text/plain", &big), Err(SourceError::TooLarge(MAX_BODY_BYTES)), "the cap first");
        // Non-global addresses are the caller's to reject.
        assert_eq!(judge(200, "", b"10.0.0.7"), Ok(IpAddr::from([10, 0, 0, 7])));
    }

    #[cfg(any(feature = "__http", feature = "probe", feature = "dns"))]
    #[test]
    fn excerpts_are_bounded_and_flat() {
        assert_eq!(excerpt(b"<html>\n  <body>Not Found</body>\n</html>", 100), "<html> <body>Not Found</body> </html>");
        assert_eq!(excerpt("ééééé".as_bytes(), 3), "ééé…");
    }
}
