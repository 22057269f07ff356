//! resolve_egress with real peers on loopback: HTTP echo servers, a DNS
//! server (hickory-server), the fake Civo API and kubeconfig files.

#![cfg(all(feature = "civo-api", feature = "kubeconfig", feature = "dns", feature = "http-probe"))]

use crate::common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use civo_egress::civo::CivoClient;
use civo_egress::kubeconfig::{Kubeconfig, KubeconfigError};
use civo_egress::resolve::{
    CivoSource, DnsEchoSource, DnsEchoStyle, EgressCheckError, EgressResolver, EgressSource, EgressStatus,
    EvidenceKind, HttpEchoSource, IpFamily, KubeconfigSource, ResolveError, SourceError, StaticSource, TopologySource,
    Vantage,
};
use civo_egress::{Allowlist, Subject, Topology, Warning, WarningKind, resolve_egress};
use common::dns::{Answer, FakeDns};
use common::server::{Reply, echo, echo_reply};
use hickory_server::proto::rr::RecordType;

pub(crate) const EGRESS: &str = "74.220.24.10";
pub(crate) const OTHER: &str = "74.220.24.99";

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(crate) fn expected(ips: &[&str]) -> StaticSource {
    StaticSource::new("whitelist", EvidenceKind::Expected, ips.iter().map(|s| ip(s)))
}

pub(crate) async fn http(bodies: &[&str]) -> Vec<HttpEchoSource> {
    let mut sources = Vec::new();
    for body in bodies {
        sources.push(HttpEchoSource::new(&echo(body).await).unwrap());
    }
    sources
}

/// Whether `report` warns of `kind`.
fn warns(report: &civo_egress::resolve::EgressReport, kind: WarningKind) -> bool {
    report.warnings().iter().any(|w| w.kind() == kind)
}

/// A resolver inside a pod of the cluster: these tests hold the pod rules
/// (tests/network/vantage.rs holds the host's).
fn pod() -> civo_egress::resolve::EgressResolverBuilder {
    EgressResolver::builder().vantage(Vantage::Pod)
}

fn resolver() -> civo_egress::resolve::EgressResolverBuilder {
    pod().cluster("prod").source_timeout(Duration::from_secs(2)).deadline(Duration::from_secs(4))
}

#[tokio::test]
async fn confirmed_when_a_quorum_observes_the_expected_ip() {
    let report = resolver()
        .source(expected(&[EGRESS]))
        .sources(http(&[EGRESS, "74.220.24.10\n"]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Confirmed, "{report:?}");
    assert_eq!(report.egress_ips(), [ip(EGRESS)]);
    assert_eq!(report.observed(), Some(ip(EGRESS)));
    assert_eq!(report.cluster(), Some("prod"));
    assert!(report.warnings().is_empty(), "{:?}", report.warnings());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "confirmed");
    assert_eq!(json["egress_ips"], serde_json::json!([EGRESS]));
    let rows = json["evidence"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["source"], "whitelist");
    assert!(rows[1]["source"].as_str().unwrap().starts_with("http:http://127.0.0.1:"));
    assert!(rows.iter().all(|r| r["ip"] == EGRESS && r["error"].is_null() && r["elapsed_ms"].is_u64()));
    assert_eq!(json["vantage"], "pod");
    assert!(json["host_observed"].is_null());
    assert!(rows[0]["vantage"].is_null(), "an expected row was made from nowhere: {}", rows[0]);
    assert!(rows[1..].iter().all(|r| r["vantage"] == "pod"), "{rows:?}");
}

#[tokio::test]
async fn expected_when_observers_fail() {
    let mut sources = vec![HttpEchoSource::new(&echo_reply(Reply::text(500, "text/plain", "oops")).await).unwrap()];
    sources.push(
        HttpEchoSource::new(&echo_reply(Reply::text(200, "text/html", "<html>74.220.24.10</html>")).await).unwrap(),
    );
    let builder = resolver().source(expected(&[EGRESS])).sources(sources);
    // Rule 6: inside the cluster, a check that observed nothing fails...
    let report = builder.clone().build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Unverified);
    assert!(!report.status().is_ok());
    assert_eq!((report.egress_ips(), report.unverified_ips()), (vec![ip(EGRESS)], vec![ip(EGRESS)]));
    assert!(matches!(report.evidence()[1].error(), Some(SourceError::ServerFailure { .. })), "{:?}", report.evidence());
    assert!(matches!(report.evidence()[2].error(), Some(SourceError::BadAnswer(m)) if m.contains("HTML")));
    let nothing = report.warnings().iter().find(|w| w.kind() == WarningKind::NothingObserved).unwrap();
    assert!(nothing.message().contains("server failure") && nothing.message().contains("HTML"), "{nothing}");
    let error = report.verify_allowlisted(&format!("{EGRESS}/32").parse().unwrap()).unwrap_err();
    assert!(matches!(&error, EgressCheckError::NotObserved { causes, .. } if causes.len() == 2), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("server failure") && !text.contains("quorum"), "the cause per source: {text}");
    // ... unless an expected-only answer is accepted.
    let report = builder.accept_expected(true).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Expected);
    assert!(report.status().is_ok() && warns(&report, WarningKind::NothingObserved));
}

#[tokio::test]
async fn observed_without_expectations() {
    let report = resolver().sources(http(&[EGRESS, EGRESS]).await).build().unwrap().resolve().await;
    assert_eq!((report.status(), report.egress_ips()), (EgressStatus::Observed, vec![ip(EGRESS)]));
}

#[tokio::test]
async fn mismatch_when_the_gateway_was_replaced() {
    let report =
        resolver().source(expected(&[EGRESS])).sources(http(&[OTHER, OTHER]).await).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Mismatch);
    assert!(!report.status().is_ok());
    // Rule 1: the whitelist must grow; nothing is stale on one pod's word.
    assert_eq!(report.egress_ips(), [ip(EGRESS), ip(OTHER)]);
    assert!(report.stale_ips().is_empty());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        (&json["egress_ips"], &json["stale_ips"]),
        (&serde_json::json!([EGRESS, OTHER]), &serde_json::json!([]))
    );
    let mismatch = report.warnings().iter().find(|w| w.kind() == WarningKind::Mismatch);
    assert!(mismatch.is_some_and(|w| w.message().contains(OTHER)), "{:?}", report.warnings());
    assert!(mismatch.is_some_and(|w| w.cluster() == Some("prod") && w.subject().is_none()), "{mismatch:?}");
    // Each JSON warning is an object: its kind, the cluster, the sentence.
    let warnings = json["warnings"].as_array().unwrap();
    assert!(warnings.iter().all(|w| w["kind"].is_string() && w["message"].is_string()), "{warnings:?}");
    let mismatch = warnings.iter().find(|w| w["kind"] == "mismatch").unwrap();
    assert_eq!(mismatch["cluster"], "prod");
    assert!(mismatch["message"].as_str().unwrap().contains(OTHER), "{mismatch}");
    assert_eq!(
        serde_json::from_value::<Warning>(mismatch.clone()).ok().as_ref(),
        report.warnings().iter().find(|w| w.kind() == WarningKind::Mismatch),
        "the JSON reads back as the warning"
    );
    let partner: Allowlist = format!("{EGRESS}/32").parse().unwrap();
    let error = report.verify_allowlisted(&partner).unwrap_err();
    assert!(matches!(&error, EgressCheckError::NotAllowlisted { replaced: true, .. }));
    let text = error.to_string();
    assert!(
        text.contains("74.220.24.99 is not in the partner's allowlist") && text.contains("allow 74.220.24.99/32"),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_without_anything() {
    let silent = HttpEchoSource::new(&echo_reply(Reply::text(404, "text/plain", "no")).await).unwrap();
    let report = pod().quorum(1).source(silent).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Unknown);
    assert!(report.egress_ips().is_empty());
    assert!(matches!(report.verify_allowlisted(&Allowlist::default()), Err(EgressCheckError::NotObserved { .. })));
    // No cluster named: the warnings name none either.
    assert!(warns(&report, WarningKind::NothingObserved), "{:?}", report.warnings());
    assert!(report.warnings().iter().all(|w| w.cluster().is_none()), "{:?}", report.warnings());
    let json = serde_json::to_value(&report).unwrap();
    let warning = &json["warnings"][0];
    assert_eq!(warning["kind"], "nothing-observed");
    assert!(warning.get("cluster").is_none() && warning["message"].is_string(), "{warning}");
}

#[tokio::test]
async fn one_liar_is_outvoted_and_named() {
    let liar = HttpEchoSource::new(&echo(OTHER).await).unwrap();
    let honest = http(&[EGRESS, EGRESS]).await;
    let report = resolver().source(expected(&[EGRESS])).source(liar).sources(honest).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Confirmed);
    let outlier = report.warnings().iter().find(|w| w.kind() == WarningKind::Outlier);
    assert!(outlier.is_some_and(|w| w.message().contains(OTHER)), "the liar is named: {:?}", report.warnings());
    let liar = report.evidence().iter().find(|row| row.ip() == Some(ip(OTHER))).unwrap().source().to_owned();
    assert_eq!(outlier.and_then(Warning::subject), Some(&Subject::Source(liar.clone())), "the source it is about");
    let json = serde_json::to_value(&report).unwrap();
    let outlier = json["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "outlier").unwrap();
    assert_eq!((&outlier["cluster"], &outlier["source"]), (&serde_json::json!("prod"), &serde_json::json!(liar)));
    assert!(outlier["message"].as_str().unwrap().contains(OTHER), "{outlier}");
    // Rule 5: advice on a split vote says who disagreed.
    let error = report.verify_allowlisted(&"198.51.100.1/32\n".parse().unwrap()).unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&format!("not unanimous: {liar} said {OTHER}")), "{text}");
}

#[tokio::test]
async fn disagreeing_observers_decide_nothing() {
    // One honest observer and two liars who disagree with each other.
    let report = resolver()
        .source(expected(&[EGRESS]))
        .sources(http(&[EGRESS, OTHER, "74.220.24.98"]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Unverified, "from a pod, a split vote verifies nothing");
    assert_eq!(report.observed(), None);
    assert!(warns(&report, WarningKind::Disagreement), "{:?}", report.warnings());
    // Two against two is a tie, and a tie is never broken.
    for _ in 0..5 {
        let report = resolver().sources(http(&[EGRESS, OTHER, OTHER, EGRESS]).await).build().unwrap().resolve().await;
        assert_eq!(report.status(), EgressStatus::Unknown);
        assert!(warns(&report, WarningKind::Disagreement), "{:?}", report.warnings());
    }
}

#[tokio::test]
async fn a_hung_source_is_waited_for_until_its_timeout_only() {
    let hung = HttpEchoSource::new(&echo_reply(Reply::Silence).await).unwrap();
    let started = Instant::now();
    let report = pod()
        .source_timeout(Duration::from_secs(2))
        .deadline(Duration::from_secs(20))
        .source(hung)
        .sources(http(&[EGRESS, EGRESS]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    // Every source is heard out (a verdict drawn earlier would change with
    // the order answers arrive in), each under its own timeout.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the source's timeout, not the deadline: {:?}",
        started.elapsed()
    );
    assert_eq!(report.status(), EgressStatus::Observed);
    assert!(matches!(report.evidence()[0].error(), Some(SourceError::Timeout(_))), "{:?}", report.evidence());
}

#[tokio::test]
async fn the_deadline_holds_when_everything_hangs() {
    let mut sources = Vec::new();
    for _ in 0..3 {
        sources.push(HttpEchoSource::new(&echo_reply(Reply::Silence).await).unwrap());
    }
    let started = Instant::now();
    let report = pod()
        .source_timeout(Duration::from_secs(30))
        .deadline(Duration::from_millis(400))
        .sources(sources)
        .build()
        .unwrap()
        .resolve()
        .await;
    let took = started.elapsed();
    // Never before the deadline; far sooner than the 30 s source timeout.
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(10), "{took:?}");
    assert_eq!(report.status(), EgressStatus::Unknown);
    assert!(report.evidence().iter().all(|e| matches!(e.error(), Some(SourceError::Timeout(_)))));
}

#[tokio::test]
async fn per_source_timeouts_hold() {
    let slow = HttpEchoSource::new(
        &echo_reply(Reply::After(Duration::from_secs(30), Box::new(Reply::text(200, "text/plain", EGRESS)))).await,
    )
    .unwrap();
    let started = Instant::now();
    let report =
        pod().quorum(1).source_timeout(Duration::from_millis(300)).source(slow).build().unwrap().resolve().await;
    // The echo answers after 30 s.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(report.evidence()[0].error(), Some(&SourceError::Timeout(Duration::from_millis(300))));
}

#[tokio::test]
async fn bad_echo_answers_are_rejected_with_reasons() {
    type Check = fn(&SourceError) -> bool;
    let cases: Vec<(Reply, Check)> = vec![
        (Reply::text(200, "text/plain", "10.0.0.7\n"), |e| matches!(e, SourceError::NonGlobal { .. })),
        (
            Reply::text(200, "text/plain", "100.64.3.3"),
            |e| matches!(e, SourceError::NonGlobal { why, .. } if why.contains("CGNAT")),
        ),
        (Reply::text(200, "text/plain", "127.0.0.1"), |e| matches!(e, SourceError::NonGlobal { .. })),
        (Reply::text(200, "text/plain", "not an address"), |e| matches!(e, SourceError::BadAnswer(_))),
        (Reply::text(200, "text/html", "<!doctype html><p>hi"), |e| matches!(e, SourceError::BadAnswer(_))),
        (Reply::Huge { total: 8 << 20 }, |e| matches!(e, SourceError::TooLarge(4096))),
        (Reply::HugeChunked { total: 8 << 20 }, |e| matches!(e, SourceError::TooLarge(4096))),
        (Reply::text(502, "text/plain", "bad gateway"), |e| matches!(e, SourceError::ServerFailure { .. })),
        (Reply::text(301, "text/plain", "moved"), |e| matches!(e, SourceError::BadAnswer(_))),
        (Reply::CloseMidBody { declared: 40, sent: b"74.2".to_vec() }, |e| {
            matches!(e, SourceError::Unreachable { .. })
        }),
    ];
    for (reply, check) in cases {
        let description = format!("{reply:?}");
        let source = HttpEchoSource::new(&echo_reply(reply).await).unwrap();
        let report = pod().quorum(1).source(source).build().unwrap().resolve().await;
        let error = report.evidence()[0].error().cloned();
        assert!(error.as_ref().is_some_and(check), "{description:.60}: {error:?}");
        assert_eq!(report.status(), EgressStatus::Unknown);
    }
}

#[tokio::test]
async fn non_global_observations_need_an_explicit_opt_in() {
    let report = pod()
        .quorum(1)
        .addresses(civo_egress::AddressPolicy::AllowNonGlobal)
        .sources(http(&["203.0.113.10"]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!((report.status(), report.observed()), (EgressStatus::Observed, Some(ip("203.0.113.10"))));
}

#[tokio::test]
async fn ipv6_and_families() {
    let v6 = "2a00:1450:4009::10";
    let mut over_v6 = Vec::new();
    for _ in 0..2 {
        over_v6.push(HttpEchoSource::new(&common::server::echo_v6(v6).await).unwrap());
    }
    let report = resolver()
        .source(expected(&[EGRESS, v6]))
        .sources(over_v6)
        .family(IpFamily::V6)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Confirmed, "{report:?}");
    assert_eq!(report.egress_ips(), [ip(v6)], "the IPv4 expectation is filtered out");
    let report =
        resolver().sources(http(&[EGRESS, EGRESS]).await).family(IpFamily::V4).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Observed, "IPv4 over IPv4");
    let liar = HttpEchoSource::new(&common::server::echo_v6(EGRESS).await).unwrap();
    let report = pod().quorum(1).source(liar).family(IpFamily::V6).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Unknown);
    assert!(matches!(report.evidence()[0].error(), Some(SourceError::WrongFamily(_))), "{:?}", report.evidence());
}

#[tokio::test]
async fn dns_echo_services() {
    let dns = FakeDns::start().await;
    dns.opendns(Answer::Ips(vec![ip(EGRESS)]));
    dns.set("myip.opendns.com.", RecordType::AAAA, Answer::Ips(vec![]));
    dns.set(
        "o-o.myaddr.l.google.com.",
        RecordType::TXT,
        Answer::Txt(vec!["edns0-client-subnet 74.220.24.0/24".into(), EGRESS.into()]),
    );
    let opendns = DnsEchoSource::new(DnsEchoStyle::OpenDns, dns.addr);
    let google = DnsEchoSource::new(DnsEchoStyle::Google, dns.addr);
    assert_eq!(opendns.gather(IpFamily::V4).await.unwrap(), [ip(EGRESS)]);
    assert_eq!(google.gather(IpFamily::Both).await.unwrap(), [ip(EGRESS)], "the edns0-client-subnet record is skipped");
    let report = resolver().source(expected(&[EGRESS])).source(opendns).source(google).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Confirmed, "{report:?}");
    dns.set("myip.opendns.com.", RecordType::AAAA, Answer::Ips(vec![ip("2a00:1450:4009::10")]));
    let opendns = DnsEchoSource::new(DnsEchoStyle::OpenDns, dns.addr);
    assert_eq!(opendns.gather(IpFamily::V6).await.unwrap(), [ip("2a00:1450:4009::10")]);
    assert_eq!(opendns.gather(IpFamily::Both).await.unwrap(), [ip(EGRESS), ip("2a00:1450:4009::10")]);

    // The server sees 127.0.0.1: a real echo, rejected as evidence unless allowed.
    dns.opendns(Answer::Asker);
    dns.set("o-o.myaddr.l.google.com.", RecordType::TXT, Answer::GoogleAsker);
    let either = DnsEchoSource::new(DnsEchoStyle::Either, dns.addr);
    assert_eq!(either.gather(IpFamily::V4).await.unwrap(), [ip("127.0.0.1")]);
    let report =
        pod().quorum(1).source(DnsEchoSource::new(DnsEchoStyle::Google, dns.addr)).build().unwrap().resolve().await;
    assert!(matches!(report.evidence()[0].error(), Some(SourceError::NonGlobal { .. })));
}

#[tokio::test]
async fn dns_failures_are_typed() {
    let dns = FakeDns::start().await;
    let ask = |style| DnsEchoSource::new(style, dns.addr).with_timeout(Duration::from_millis(300));
    dns.opendns(Answer::NxDomain);
    assert!(matches!(ask(DnsEchoStyle::OpenDns).gather(IpFamily::V4).await, Err(SourceError::NotFound { .. })));
    dns.opendns(Answer::ServFail);
    assert!(matches!(ask(DnsEchoStyle::OpenDns).gather(IpFamily::V4).await, Err(SourceError::ServerFailure { .. })));
    dns.opendns(Answer::Silence);
    let started = Instant::now();
    assert!(matches!(ask(DnsEchoStyle::OpenDns).gather(IpFamily::V4).await, Err(SourceError::Timeout(_))));
    // A silent server is given up on after 300 ms, not hickory's default of seconds per try.
    assert!(started.elapsed() < Duration::from_secs(4));
    dns.set("o-o.myaddr.l.google.com.", RecordType::TXT, Answer::Txt(vec!["edns0-client-subnet 1.2.3.0/24".into()]));
    assert!(matches!(ask(DnsEchoStyle::Google).gather(IpFamily::V4).await, Err(SourceError::BadAnswer(_))));
    // `Either` falls back to Google's question when OpenDNS's is unknown.
    dns.opendns(Answer::NxDomain);
    dns.set("o-o.myaddr.l.google.com.", RecordType::TXT, Answer::Txt(vec![EGRESS.into()]));
    assert_eq!(ask(DnsEchoStyle::Either).gather(IpFamily::V4).await.unwrap(), [ip(EGRESS)]);
}

fn kubeconfig_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("civo-egress-kube-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("prod.yaml"), common::civo_api::fixture("account/kubeconfig-prod.yaml")).unwrap();
    std::fs::write(dir.join("staging.yaml"), common::civo_api::fixture("account/kubeconfig-staging-dns.yaml")).unwrap();
    dir
}

#[tokio::test]
async fn kubeconfig_with_an_ip_or_a_dns_name() {
    let dir = kubeconfig_dir();
    let merged =
        Kubeconfig::load(&[dir.join("prod.yaml"), dir.join("missing.yaml"), dir.join("staging.yaml")]).unwrap();
    assert_eq!(merged.current_context(), Some("prod"), "the first current-context wins");
    let prod = KubeconfigSource::new(&merged, None).unwrap();
    assert_eq!(prod.gather(IpFamily::Both).await.unwrap(), [ip(EGRESS)]);
    assert_eq!(prod.name(), "kubeconfig:prod");

    let dns = FakeDns::start().await;
    dns.set("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d.k8s.civo.com.", RecordType::A, Answer::Ips(vec![ip("74.220.26.44")]));
    dns.set("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d.k8s.civo.com.", RecordType::AAAA, Answer::Ips(vec![]));
    let staging = KubeconfigSource::new(&merged, Some("staging")).unwrap().nameserver(dns.addr);
    assert_eq!(staging.gather(IpFamily::Both).await.unwrap(), [ip("74.220.26.44")]);

    let nx = FakeDns::start().await;
    let unresolved = KubeconfigSource::new(&merged, Some("staging")).unwrap().nameserver(nx.addr);
    assert!(matches!(unresolved.gather(IpFamily::Both).await, Err(SourceError::NotFound { .. })));

    assert!(
        matches!(KubeconfigSource::new(&merged, Some("dev")), Err(KubeconfigError::UnknownContext { available, .. }) if available == ["prod", "staging"])
    );
    assert_eq!(Kubeconfig::load(&[dir.join("none.yaml")]).unwrap_err(), KubeconfigError::NoFile);
}

#[test]
fn hostile_or_broken_kubeconfigs_are_errors_without_secrets() {
    let e = Kubeconfig::from_yaml("clusters: [\n  token: sekrit-token-value\n").unwrap_err();
    assert!(matches!(e, KubeconfigError::Yaml { .. }), "{e}");
    assert!(!e.to_string().contains("sekrit"), "{e}");
    let wrong_type = Kubeconfig::from_yaml("clusters: \"sekrit-token-value\"\n").unwrap_err();
    assert!(!wrong_type.to_string().contains("sekrit"), "{wrong_type}");
    for error in [&e, &wrong_type] {
        assert!(!format!("{error:?}").contains("sekrit"), "nor in the cause: {error:?}");
    }
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let started = Instant::now();
    let bomb = Kubeconfig::from_yaml(laughs);
    assert!(matches!(bomb, Err(KubeconfigError::Yaml { .. })), "an alias bomb is refused: {bomb:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let no_context = Kubeconfig::from_yaml("clusters: []\ncontexts: []\n").unwrap();
    assert_eq!(no_context.server(None).unwrap_err(), KubeconfigError::NoContext);
    let dangling =
        Kubeconfig::from_yaml("contexts:\n- name: x\n  context:\n    cluster: gone\ncurrent-context: x\n").unwrap();
    assert!(matches!(dangling.server(None), Err(KubeconfigError::UnknownCluster { .. })));
    let bad = Kubeconfig::from_yaml("clusters:\n- name: c\n  cluster:\n    server: not a url\ncontexts:\n- name: x\n  context:\n    cluster: c\ncurrent-context: x\n").unwrap();
    assert!(matches!(bad.server(None), Err(KubeconfigError::BadServer { .. })));
}

#[tokio::test]
async fn the_civo_api_and_a_snapshot_as_expected_sources() {
    let fake = common::civo_api::FakeCivo::account().await;
    let client = CivoClient::builder().api_key(common::civo_api::KEY).api_url(fake.url()).build().unwrap();
    let civo = CivoSource::new(client, "prod");
    assert_eq!(civo.gather(IpFamily::Both).await.unwrap(), [ip(EGRESS), ip("74.220.24.77")]);
    let report = resolver().source(civo).sources(http(&[EGRESS, EGRESS]).await).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Confirmed);
    assert_eq!(report.egress_ips(), [ip(EGRESS), ip("74.220.24.77")]);
    assert!(warns(&report, WarningKind::SeveralExpected), "{:?}", report.warnings());

    let topology = Topology::from_json(include_str!("../fixtures/account-topology.json")).unwrap();
    let snapshot = TopologySource::new(&topology, "staging").unwrap();
    assert_eq!(snapshot.gather(IpFamily::Both).await.unwrap(), [ip("74.220.26.44")]);
    assert!(matches!(TopologySource::new(&topology, "dev"), Err(SourceError::Config { .. })));

    let offline = CivoClient::builder().api_key("k").api_url("http://127.0.0.1:9").build().unwrap();
    let report = resolver()
        .source(CivoSource::new(offline, "prod"))
        .sources(http(&[EGRESS, EGRESS]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    // The expected side failed: the observation stays, and cannot be checked.
    assert_eq!(report.status(), EgressStatus::Unknown, "{report:?}");
    assert_eq!(report.egress_ips(), [ip(EGRESS)]);
    assert!(warns(&report, WarningKind::SourceUnusable), "{:?}", report.warnings());
    assert!(matches!(report.evidence()[0].error(), Some(SourceError::Unreachable { .. })));
}

#[tokio::test]
async fn the_startup_check_passes_for_the_whitelisted_ip() {
    let report =
        resolver().source(expected(&[EGRESS])).sources(http(&[EGRESS, EGRESS]).await).build().unwrap().resolve().await;
    let partner: Allowlist = "# partner\n74.220.24.0/24\n".parse().unwrap();
    assert_eq!(report.verify_allowlisted(&partner).unwrap(), ip(EGRESS));
}

#[tokio::test]
async fn ipv4_and_ipv6_are_separate_elections() {
    let v6 = "2a00:1450:4009::10";
    let report = resolver().sources(http(&[EGRESS, EGRESS, v6]).await).build().unwrap().resolve().await;
    assert_eq!(report.observed(), Some(ip(EGRESS)));
    assert!(!warns(&report, WarningKind::Outlier), "an IPv6 answer is not a liar: {:?}", report.warnings());
    // One IPv6 answer is no quorum: that family is not settled, so neither is the verdict.
    assert_eq!(report.status(), EgressStatus::Unknown);
    assert!(warns(&report, WarningKind::NoQuorum), "{:?}", report.warnings());
    let report = resolver().sources(http(&[v6, v6, EGRESS]).await).build().unwrap().resolve().await;
    assert_eq!(report.families()[1].observed(), Some(ip(v6)), "IPv6 decided on its own");
    // Rule 4: an IPv6 egress nothing expected is reported, never ignored.
    let report = resolver()
        .source(expected(&[EGRESS]))
        .sources(http(&[EGRESS, EGRESS, v6, v6]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Mismatch, "the whitelist lacks the IPv6 egress");
    assert_eq!(report.egress_ips(), [ip(EGRESS), ip(v6)]);
}

#[tokio::test]
async fn a_huge_deadline_is_no_deadline_not_a_panic() {
    let report = pod()
        .deadline(Duration::MAX)
        .source_timeout(Duration::MAX)
        .sources(http(&[EGRESS, EGRESS]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Observed);
    let fake = common::civo_api::FakeCivo::account().await;
    let client = CivoClient::builder()
        .api_key(common::civo_api::KEY)
        .api_url(fake.url())
        .deadline(Duration::MAX)
        .request_timeout(Duration::MAX)
        .build()
        .unwrap();
    assert_eq!(client.networks().await.unwrap().len(), 2);
}

#[tokio::test]
async fn misconfigurations_are_refused_at_build() {
    assert!(matches!(EgressResolver::builder().build(), Err(ResolveError::NoSources)));
    assert!(matches!(
        EgressResolver::builder().source(expected(&[EGRESS])).quorum(0).build(),
        Err(ResolveError::ZeroQuorum)
    ));
    let two = http(&[EGRESS, EGRESS]).await;
    assert!(matches!(
        EgressResolver::builder().sources(two).quorum(3).build(),
        Err(ResolveError::QuorumTooLarge { quorum: 3, observers: 2, .. })
    ));
    assert!(matches!(
        EgressResolver::builder().source(expected(&[EGRESS])).deadline(Duration::ZERO).build(),
        Err(ResolveError::ZeroTimeout)
    ));
    assert!(matches!(HttpEchoSource::new("http://ifconfig.me/ip"), Err(SourceError::Config { .. })));
    let shared: Vec<Arc<dyn EgressSource>> = vec![Arc::new(expected(&[EGRESS]))];
    let report = resolve_egress(shared).await.unwrap();
    assert_eq!(report.status(), EgressStatus::Expected);
}

/// The first error of type `E` in the `source()` chain of `error`.
fn cause<'a, E: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    let mut link = error.source();
    while let Some(e) = link {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        link = e.source();
    }
    None
}

#[tokio::test]
async fn when_every_answer_is_rejected_the_report_and_the_check_say_why() {
    let report =
        pod().cluster("lab").sources(http(&["192.0.2.1", "100.64.0.1"]).await).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Unknown);
    assert!(report.evidence().iter().all(|row| row.error().is_some_and(SourceError::is_rejected)));
    let rejected = report.rejected();
    let ips: Vec<IpAddr> = rejected.iter().map(|(ip, _)| *ip).collect();
    assert_eq!(ips, [ip("192.0.2.1"), ip("100.64.0.1")]);
    assert!(rejected.iter().all(|(_, what)| !what.is_empty()), "{rejected:?}");
    assert!(warns(&report, WarningKind::AllRejected), "{:?}", report.warnings());
    assert!(!warns(&report, WarningKind::NoQuorum), "not a reachability problem: {:?}", report.warnings());
    let error = report.verify_allowlisted(&Allowlist::default()).unwrap_err();
    match &error {
        EgressCheckError::AllRejected { rejected: listed, status, .. } => {
            assert_eq!(listed, &rejected);
            assert_eq!(*status, EgressStatus::Unknown);
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(text.contains("192.0.2.1") && text.contains("100.64.0.1") && text.contains("--allow-non-global"), "{text}");

    // With the lab opt-in, the same answers are evidence.
    let lab = civo_egress::AddressPolicy::AllowNonGlobal;
    let report = pod().quorum(1).addresses(lab).sources(http(&["192.0.2.1"]).await).build().unwrap().resolve().await;
    assert_eq!(report.observed(), Some(ip("192.0.2.1")));
}

#[tokio::test]
async fn causes_are_kept_and_reached_through_source() {
    // hickory: an NXDOMAIN answer.
    let dns = FakeDns::start().await;
    dns.opendns(Answer::NxDomain);
    let error = DnsEchoSource::new(DnsEchoStyle::OpenDns, dns.addr).gather(IpFamily::V4).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(cause::<hickory_server::net::NetError>(&error).is_some_and(|e| e.is_nx_domain()), "{error:?}");

    // reqwest, then io under it: a closed port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let error = HttpEchoSource::new(&url).unwrap().gather(IpFamily::Both).await.unwrap_err();
    assert!(error.is_unreachable(), "{error}");
    assert!(cause::<reqwest::Error>(&error).is_some_and(reqwest::Error::is_connect), "{error:?}");
    assert!(
        cause::<std::io::Error>(&error).is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );

    // YAML: a kubeconfig that is not YAML.
    let error = Kubeconfig::from_yaml("clusters: [\n").unwrap_err();
    assert!(error.is_invalid(), "{error}");
    assert!(cause::<serde_saphyr::Error>(&error).is_some(), "{error:?}");

    // io: a kubeconfig path that is a directory.
    let dir = kubeconfig_dir();
    let error = Kubeconfig::load(&[&dir]).unwrap_err();
    assert!(error.is_io(), "{error}");
    let why = cause::<civo_egress::LocalFileError>(&error);
    assert!(matches!(why, Some(civo_egress::LocalFileError::NotRegular { .. })), "{error:?}");
    assert!(Kubeconfig::load(&[dir.join("none.yaml")]).unwrap_err().is_not_found());
}

#[test]
fn resolver_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<EgressResolver>();
    assert_send_sync::<civo_egress::resolve::EgressReport>();
    assert_send_sync::<civo_egress::resolve::EgressResolverBuilder>();
    assert_send_sync::<civo_egress::resolve::Evidence>();
    assert_send_sync::<Warning>();
    assert_send_sync::<ResolveError>();
    assert_send_sync::<EgressCheckError>();
    assert_send_sync::<StaticSource>();
    assert_send_sync::<TopologySource>();
    assert_send_sync::<CivoSource>();
    assert_send_sync::<civo_egress::resolve::HttpEchoSourceBuilder>();
    assert_send_sync::<civo_egress::ParseNameError>();
    assert_send_sync::<Kubeconfig>();
    assert_send_sync::<KubeconfigError>();
    assert_send_sync::<civo_egress::kubeconfig::ApiServer>();
    assert_send_sync::<civo_egress::kubeconfig::ApiHost>();
    assert_send_sync::<Arc<dyn EgressSource>>();
    assert_send_sync::<SourceError>();
    assert_send_sync::<Vantage>();
    assert_send_sync::<HttpEchoSource>();
    assert_send_sync::<DnsEchoSource>();
    assert_send_sync::<KubeconfigSource>();
    fn assert_send<T: Send>(_: &T) {}
    let resolver = EgressResolver::builder().source(expected(&[EGRESS])).build().unwrap();
    assert_send(&resolver.resolve());
    assert_send(&resolve_egress(Vec::<Arc<dyn EgressSource>>::new()));
    let source: Arc<dyn EgressSource> = Arc::new(expected(&[EGRESS]));
    assert_send(&source.gather(IpFamily::Both));
}
