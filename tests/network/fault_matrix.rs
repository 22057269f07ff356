//! The fault matrix of docs/reliability.md: every row a hostile or broken
//! peer on loopback, every row a typed outcome within a bounded time, and no
//! panic. Row names match the table.

#![cfg(all(feature = "civo-api", feature = "dns", feature = "http-probe"))]

use crate::common;

use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use civo_egress::WarningKind;
use civo_egress::civo::{CivoClient, CivoError, Discovery, Selection};
use civo_egress::resolve::{
    DnsEchoSource, DnsEchoStyle, EgressCheckError, EgressReport, EgressResolver, EgressSource, EgressStatus,
    HttpEchoSource, IpFamily, SourceError, Vantage,
};
use common::civo_api::{FakeCivo, KEY, fixture, not_found_html};
use common::dns::{Answer, FakeDns};
use common::server::{Reply, echo, echo_reply};

/// Runs `work`, which must finish within `limit`.
async fn bounded<T>(row: &str, limit: Duration, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = tokio::time::timeout(limit * 3, work).await.unwrap_or_else(|_| panic!("{row}: did not return"));
    assert!(started.elapsed() <= limit, "{row}: took {:?}, more than {limit:?}", started.elapsed());
    out
}

fn civo(fake: &FakeCivo) -> CivoClient {
    CivoClient::builder()
        .api_key(KEY)
        .api_url(fake.url())
        .request_timeout(Duration::from_millis(500))
        .deadline(Duration::from_secs(2))
        .max_body_bytes(1 << 20)
        .build()
        .unwrap()
}

// The limits are about twice what a correct client needs, so that a shared
// 2-core machine does not fail them, and far below what a hang would take.

/// One Civo API row: `replies` queued for /v2/networks, then the check.
async fn civo_row(row: &str, replies: Vec<Reply>, check: impl Fn(&Result<usize, CivoError>) -> bool) {
    let fake = FakeCivo::account().await;
    for reply in replies {
        fake.fail_next("/v2/networks", reply);
    }
    let client = civo(&fake);
    let result = bounded(row, Duration::from_secs(6), client.networks()).await.map(|n| n.len());
    assert!(check(&result), "{row}: {result:?}");
    if let Err(e) = &result {
        assert!(!format!("{e} {e:?}").contains(KEY), "{row}: key leaked");
    }
}

#[tokio::test]
async fn civo_api_rows() {
    let json = |status, body: &str| Reply::json(status, body.to_owned());
    civo_row("civo 401", vec![json(401, &fixture("civogo/error_401.json"))], |r| {
        matches!(r, Err(CivoError::Unauthorized { .. }))
    })
    .await;
    civo_row("civo 403", vec![json(403, r#"{"code":"forbidden","reason":"no"}"#)], |r| {
        matches!(r, Err(CivoError::Forbidden { .. }))
    })
    .await;
    civo_row("civo 404 html", vec![not_found_html()], |r| matches!(r, Err(CivoError::NotFound { .. }))).await;
    civo_row("civo 409", vec![json(409, &fixture("civogo/error_409.json"))], |r| {
        matches!(r, Err(CivoError::Api { status: 409, .. }))
    })
    .await;
    civo_row("civo 429 then ok", vec![json(429, "{}").with_header("Retry-After", "0")], |r| matches!(r, Ok(2))).await;
    civo_row(
        "civo 429 past the deadline",
        vec![json(429, "{}").with_header("Retry-After", "60")],
        |r| matches!(r, Err(CivoError::RateLimited { retry_after: Some(d), .. }) if d.as_secs() == 60),
    )
    .await;
    civo_row("civo 500 then ok", vec![json(500, r#"{"code":"x","reason":"y"}"#)], |r| matches!(r, Ok(2))).await;
    civo_row("civo 500 persistent", vec![json(500, r#"{"code":"internal_error","reason":"y"}"#); 4], |r| {
        matches!(r, Err(CivoError::Api { status: 500, .. }))
    })
    .await;
    civo_row("civo 502 persistent", vec![Reply::text(502, "text/html", "<h1>bad gateway</h1>"); 4], |r| {
        matches!(r, Err(CivoError::Status { status: 502, .. }))
    })
    .await;
    civo_row("civo 503 persistent", vec![Reply::text(503, "text/plain", "down"); 4], |r| {
        matches!(r, Err(CivoError::Status { status: 503, .. }))
    })
    .await;
    civo_row("civo truncated body", vec![json(200, r#"[{"id": "n1", "na"#)], |r| {
        matches!(r, Err(CivoError::Decode { .. }))
    })
    .await;
    civo_row(
        "civo wrong JSON types",
        vec![json(200, r#"[{"id": ["not", "a", "string"]}]"#)],
        |r| matches!(r, Err(CivoError::Decode { path, .. }) if path == "[0].id"),
    )
    .await;
    civo_row("civo 64 MiB body", vec![Reply::Huge { total: 64 << 20 }], |r| {
        matches!(r, Err(CivoError::TooLarge { .. }))
    })
    .await;
    civo_row("civo 64 MiB chunked body", vec![Reply::HugeChunked { total: 64 << 20 }], |r| {
        matches!(r, Err(CivoError::TooLarge { .. }))
    })
    .await;
    // A request that timed out is retried: hung once, it is answered.
    civo_row("civo hangs once", vec![Reply::Silence], |r| matches!(r, Ok(2))).await;
    civo_row("civo never answers", vec![Reply::Silence; 5], |r| matches!(r, Err(CivoError::Timeout { .. }))).await;
    civo_row("civo closes mid-body", vec![Reply::CloseMidBody { declared: 1000, sent: b"[{\"id\":".to_vec() }], |r| {
        matches!(r, Err(CivoError::Connect { .. }))
    })
    .await;
}

/// One discovery row: the fixture account, `setup` breaks part of it, then
/// the check of the whole discovery.
async fn discovery_row(row: &str, setup: impl Fn(&FakeCivo), check: impl Fn(&Result<Discovery, CivoError>) -> bool) {
    let fake = FakeCivo::account().await;
    setup(&fake);
    let client = civo(&fake);
    let result = bounded(row, Duration::from_secs(6), client.discover(&Selection::all())).await;
    assert!(check(&result), "{row}: {result:?}");
    if let Err(e) = &result {
        assert!(!format!("{e} {e:?}").contains(KEY), "{row}: key leaked");
    }
}

/// The discovery succeeded with `clusters` clusters and a warning of `kind`.
fn partial(result: &Result<Discovery, CivoError>, clusters: usize, kind: WarningKind) -> bool {
    result
        .as_ref()
        .is_ok_and(|d| d.topology().clusters().len() == clusters && d.warnings().iter().any(|w| w.kind() == kind))
}

#[tokio::test]
async fn discovery_rows() {
    const STAGING: &str = "/v2/kubernetes/clusters/9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d/instances";
    discovery_row(
        "discovery 404 on one cluster's instances",
        |f| f.fail_next(STAGING, not_found_html()),
        |r| partial(r, 1, WarningKind::ClusterGone),
    )
    .await;
    discovery_row(
        "discovery 403 on /v2/ips",
        |f| f.forbid("/v2/ips"),
        |r| {
            partial(r, 2, WarningKind::ReservedIpsUnknown)
                && r.as_ref().is_ok_and(|d| d.topology().reserved_ips().is_empty())
        },
    )
    .await;
    discovery_row(
        "discovery 403 on /v2/loadbalancers",
        |f| f.forbid("/v2/loadbalancers"),
        |r| partial(r, 2, WarningKind::LoadBalancersUnknown),
    )
    .await;
    discovery_row(
        "discovery 403 on /v2/networks",
        |f| f.forbid("/v2/networks"),
        |r| partial(r, 2, WarningKind::NetworksUnknown),
    )
    .await;
    discovery_row("discovery pages under-reported", FakeCivo::under_report_pages, |r| {
        r.as_ref().is_ok_and(|d| d.topology().clusters().len() == 2 && d.topology().reserved_ips().len() == 3)
    })
    .await;
    discovery_row(
        "discovery 401 on one cluster's instances",
        |f| f.fail_next(STAGING, Reply::json(401, fixture("civogo/error_401.json"))),
        |r| matches!(r, Err(CivoError::Unauthorized { .. })),
    )
    .await;
    discovery_row(
        "discovery 403 on the cluster list",
        |f| f.forbid("/v2/kubernetes/clusters"),
        |r| matches!(r, Err(CivoError::Forbidden { .. })),
    )
    .await;
    discovery_row(
        "discovery 503 persistent on /v2/ips",
        |f| {
            for _ in 0..4 {
                f.fail_next("/v2/ips", Reply::text(503, "text/plain", "down"));
            }
        },
        |r| matches!(r, Err(CivoError::Status { status: 503, .. })),
    )
    .await;
    discovery_row(
        "discovery instances never answer",
        |f| {
            for _ in 0..5 {
                f.fail_next(STAGING, Reply::Silence);
            }
        },
        |r| matches!(r, Err(CivoError::Timeout { .. })),
    )
    .await;
}

/// One DNS row: the OpenDNS question answered with `answer`.
async fn dns_row(row: &str, answer: Answer, check: impl Fn(&Result<Vec<IpAddr>, SourceError>) -> bool) {
    let dns = FakeDns::start().await;
    dns.opendns(answer);
    let source = DnsEchoSource::new(DnsEchoStyle::OpenDns, dns.addr).with_timeout(Duration::from_millis(500));
    let result = bounded(row, Duration::from_secs(4), source.gather(IpFamily::V4)).await;
    assert!(check(&result), "{row}: {result:?}");
}

#[tokio::test]
async fn dns_rows() {
    let egress: IpAddr = "74.220.24.10".parse().unwrap();
    dns_row("dns SERVFAIL", Answer::ServFail, |r| matches!(r, Err(SourceError::ServerFailure { .. }))).await;
    dns_row("dns NXDOMAIN", Answer::NxDomain, |r| matches!(r, Err(SourceError::NotFound { .. }))).await;
    dns_row("dns truncated over UDP", Answer::TruncatedUdp(vec![egress]), |r| r.as_deref() == Ok(&[egress][..])).await;
    dns_row("dns truncated everywhere", Answer::AlwaysTruncated, |r| r.is_err()).await;
    dns_row("dns silence", Answer::Silence, |r| matches!(r, Err(SourceError::Timeout(_)))).await;
}

/// One echo row: the resolver over `bodies`, then the check.
async fn echo_row(row: &str, replies: Vec<Reply>, quorum: usize, check: impl Fn(&EgressReport) -> bool) {
    let mut sources = Vec::new();
    for reply in replies {
        sources.push(HttpEchoSource::new(&echo_reply(reply).await).unwrap());
    }
    let resolver = EgressResolver::builder()
        .vantage(Vantage::Pod)
        .quorum(quorum)
        .source_timeout(Duration::from_millis(800))
        .deadline(Duration::from_secs(1))
        .sources(sources)
        .build()
        .unwrap();
    let report = bounded(row, Duration::from_secs(3), resolver.resolve()).await;
    assert!(check(&report), "{row}: {report:?}");
}

#[tokio::test]
async fn echo_rows() {
    let text = |body: &str| Reply::text(200, "text/plain", body.to_owned());
    let (right, liar) = ("74.220.24.10", "74.220.24.99");
    echo_row("echo one liar", vec![text(right), text(liar), text(right)], 2, |r| {
        r.status() == EgressStatus::Observed
            && r.warnings().iter().any(|w| w.kind() == civo_egress::WarningKind::Outlier && w.message().contains(liar))
    })
    .await;
    echo_row("echo two against two", vec![text(right), text(liar), text(liar), text(right)], 2, |r| {
        r.status() == EgressStatus::Unknown
            && r.observed().is_none()
            && r.warnings().iter().any(|w| w.kind() == civo_egress::WarningKind::Disagreement)
    })
    .await;
    echo_row("echo private address", vec![text("192.168.1.3")], 1, |r| {
        matches!(r.evidence()[0].error(), Some(SourceError::NonGlobal { .. }))
    })
    .await;
    echo_row("echo every answer rejected", vec![text("192.0.2.1"), text("100.64.0.1")], 2, |r| {
        r.status() == EgressStatus::Unknown
            && r.warnings().iter().any(|w| w.kind() == civo_egress::WarningKind::AllRejected)
            && r.warnings().iter().any(|w| w.kind() == civo_egress::WarningKind::NothingObserved)
            && r.rejected().len() == 2
            && matches!(
                r.verify_allowlisted(&civo_egress::Allowlist::default()),
                Err(EgressCheckError::AllRejected { rejected, .. }) if rejected.len() == 2
            )
    })
    .await;
    echo_row("echo HTML", vec![Reply::text(200, "text/html", "<html>74.220.24.10</html>")], 1, |r| {
        matches!(r.evidence()[0].error(), Some(SourceError::BadAnswer(_)))
    })
    .await;
    echo_row("echo 8 MiB body", vec![Reply::Huge { total: 8 << 20 }], 1, |r| {
        matches!(r.evidence()[0].error(), Some(SourceError::TooLarge(_)))
    })
    .await;
    // Every source is waited for (until its timeout): a verdict drawn
    // earlier would change with the order answers arrive in.
    echo_row("echo hangs, quorum met", vec![Reply::Silence, text(right), text(right)], 2, |r| {
        r.status() == EgressStatus::Observed && matches!(r.evidence()[0].error(), Some(SourceError::Timeout(_)))
    })
    .await;
    echo_row("echo hangs, no quorum", vec![Reply::Silence, Reply::Silence], 2, |r| {
        r.status() == EgressStatus::Unknown
            && r.evidence().iter().all(|e| matches!(e.error(), Some(SourceError::Timeout(_))))
    })
    .await;
    // A liar alone is still only one voice.
    let alone = HttpEchoSource::new(&echo(liar).await).unwrap();
    let report =
        EgressResolver::builder().vantage(Vantage::Pod).source(alone).quorum(1).build().unwrap().resolve().await;
    assert_eq!(report.observed(), Some(liar.parse().unwrap()), "quorum 1 trusts one source: the default is 2");
}
