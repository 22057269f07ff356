//! The resolver's deadline holds in a debug build, on the single-threaded
//! runtime the CLI and `#[tokio::test]` use: an HTTP echo source sets up its
//! TLS clients when it is built, never inside `gather`, where that blocking
//! work (reading and parsing the system's CA roots, a few hundred ms per
//! client in a debug build) once held the runtime past a 1 s deadline
//! (2.02 s, and no answer collected).
//!
//! The bounds are generous: they check that the deadline holds, not speed.

#![cfg(feature = "http-probe")]

use crate::common;

use std::time::{Duration, Instant};

use civo_egress::resolve::{EgressResolver, EgressStatus, HttpEchoSource, IpFamily, SourceError, Vantage};
use common::server::{Reply, echo_reply};

/// Several sources, each to its own server that accepts and never answers.
async fn silent_sources(count: usize) -> Vec<HttpEchoSource> {
    let mut sources = Vec::new();
    for _ in 0..count {
        sources.push(HttpEchoSource::new(&echo_reply(Reply::Silence).await).unwrap());
    }
    sources
}

async fn resolve_against_silence(family: IpFamily) {
    let sources = silent_sources(6).await;
    let deadline = Duration::from_secs(1);
    let resolver = EgressResolver::builder()
        .vantage(Vantage::Pod)
        .family(family)
        .source_timeout(Duration::from_secs(30))
        .deadline(deadline)
        .sources(sources)
        .build()
        .unwrap();
    let started = Instant::now();
    let report = resolver.resolve().await;
    let took = started.elapsed();
    assert!(took >= deadline, "never before the deadline: {took:?}");
    assert!(took < Duration::from_millis(1500), "the 1 s deadline held ({family}): {took:?}");
    assert_eq!(report.status(), EgressStatus::Unknown);
    assert_eq!(report.evidence().len(), 6);
    for evidence in report.evidence() {
        assert!(matches!(evidence.error(), Some(SourceError::Timeout(_))), "{evidence}");
    }
}

#[tokio::test]
async fn a_one_second_deadline_holds_with_silent_http_echo_sources() {
    resolve_against_silence(IpFamily::Both).await;
}

#[tokio::test]
async fn a_one_second_deadline_holds_with_silent_http_echo_sources_over_ipv4() {
    resolve_against_silence(IpFamily::V4).await;
}
