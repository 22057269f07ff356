//! The `Watcher` (feature `watch`) against the fake Civo API, whose account
//! changes between refreshes, and over a snapshot file rewritten between
//! them; its metrics at each step, and `run`'s end.

#![cfg(feature = "watch")]

use crate::common;
use crate::common::temp::TempDir;

use std::net::IpAddr;
use std::time::Duration;

use civo_egress::civo::{CivoClient, Selection};
use civo_egress::watch::{Event, Metrics, Origin, WatchError, Watcher};
use civo_egress::{Cluster, Node, PublicIpPool, Topology, WarningKind};
use common::civo_api::{Account, FakeCivo, KEY};
use common::server::Reply;
use serde_json::{Value, json};

const PROD_ID: &str = "5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11";
const NEW_NODE: &str = "k3s-prod-8e1c-4b2a1f-node-pool-e7b2-m4n5p";

/// `(kind, cluster or allowlist/cluster)` of each event: what a row asserts.
fn summary(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(&e.to_json()).unwrap();
            let cluster = v["cluster"].as_str().unwrap_or("");
            let what = match v["allowlist"].as_str() {
                Some(list) => format!("{list}:{cluster}"),
                None => cluster.to_owned(),
            };
            (e.kind().name().to_owned(), what)
        })
        .collect()
}

fn json_of(events: &[Event], kind: &str) -> Value {
    let event = events.iter().find(|e| e.kind().name() == kind).unwrap_or_else(|| panic!("no {kind}: {events:?}"));
    serde_json::from_str(&event.to_json()).unwrap()
}

fn ips(texts: &[&str]) -> Vec<IpAddr> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn ip_line(ip: &str) -> String {
    ip_line_of(PROD_ID, ip)
}

fn ip_line_of(id: &str, ip: &str) -> String {
    format!(r#"civo_egress_ip_info{{cluster="LON1/prod",cluster_id="{id}",region="LON1",ip="{ip}",family="v4"}} 1"#)
}

/// Every line is in the rendered metrics; every `!`-prefixed one is not.
fn assert_metrics(metrics: &Metrics, lines: &[String]) {
    let text = metrics.render();
    for line in lines {
        match line.strip_prefix('!') {
            Some(absent) => assert!(!text.lines().any(|l| l == absent), "present: {absent}\n{text}"),
            None => assert!(text.lines().any(|l| l == line), "absent: {line}\n{text}"),
        }
    }
}

/// prod's pool asks for two nodes; the second is BUILDING, without a public IP.
fn scaling_account() -> Account {
    let mut account = Account::fixture();
    let prod = &mut account.clusters[0];
    prod["pools"][1]["count"] = 2.into();
    prod["pools"][1]["instance_names"].as_array_mut().unwrap().push(NEW_NODE.into());
    let instances = account.instances.get_mut(PROD_ID).unwrap().as_array_mut().unwrap();
    instances.push(json!({"id": "m4n5p-inst", "hostname": NEW_NODE, "private_ip": "192.168.10.8",
        "public_ip": "", "status": "BUILDING", "region": "LON1"}));
    account
}

/// Replaces prod's gateway: `master_ip` and the gateway node's public IP.
fn replace_gateway(account: &mut Account, ip: &str) {
    account.clusters[0]["master_ip"] = ip.into();
    account.instances.get_mut(PROD_ID).unwrap()[0]["public_ip"] = ip.into();
}

fn give_new_node_its_ip(account: &mut Account, ip: &str) {
    let instances = account.instances.get_mut(PROD_ID).unwrap().as_array_mut().unwrap();
    let node = instances.iter_mut().find(|i| i["hostname"] == NEW_NODE).unwrap();
    node["public_ip"] = ip.into();
    node["status"] = "ACTIVE".into();
}

#[tokio::test]
async fn watches_the_api_through_changes_failures_and_recovery() {
    let fake = FakeCivo::start(scaling_account(), 20).await;
    let dir = TempDir::new("watch", "civo");
    // partner lists both gateways but none of the pool's nodes.
    let partner = dir.write("partner.txt", "74.220.24.10\n74.220.24.11\n74.220.26.44\n");
    let client = CivoClient::builder()
        .api_key(KEY)
        .api_url(fake.url())
        .region("LON1")
        .request_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(10))
        .max_retries(0)
        .build()
        .unwrap();
    let origin = Origin::Civo { client, selection: Selection::all() };
    let mut watcher = Watcher::builder(origin).allowlist("partner", &partner).build().unwrap();
    let metrics = Metrics::new(watcher.subscribe());

    let s = |kind: &str, what: &str| (kind.to_owned(), what.to_owned());

    // (a) First refresh: the pool's second node has no IP yet.
    let events = watcher.refresh().await;
    #[rustfmt::skip]
    assert_eq!(summary(&events), [
        s("cluster-added", "LON1/prod"), s("incomplete", "LON1/prod"), s("allowlist-uncovered", "partner:LON1/prod"),
        s("cluster-added", "LON1/staging"), s("allowlist-covered", "partner:LON1/staging"),
    ]);
    assert_eq!(json_of(&events, "cluster-added")["egress_ips"], json!(["74.220.24.10", "74.220.24.77"]));
    assert_eq!(json_of(&events, "cluster-added")["cluster_id"], PROD_ID);
    assert_eq!(json_of(&events, "incomplete")["pending"], 1);
    assert_eq!(json_of(&events, "allowlist-uncovered")["missing"], json!(["74.220.24.77"]));
    assert!(!watcher.state().is_clear());
    #[rustfmt::skip]
    assert_metrics(&metrics, &[
        ip_line("74.220.24.10"), ip_line("74.220.24.77"),
        r#"civo_egress_incomplete{cluster="LON1/prod"} 1"#.into(),
        r#"civo_egress_incomplete{cluster="LON1/staging"} 0"#.into(),
        r#"civo_egress_changes_total{cluster="LON1/prod"} 0"#.into(),
        r#"civo_egress_allowlist_covered{allowlist="partner",cluster="LON1/prod"} 0"#.into(),
        r#"civo_egress_allowlist_covered{allowlist="partner",cluster="LON1/staging"} 1"#.into(),
        "civo_egress_refresh_success 1".into(), "civo_egress_refresh_errors_total 0".into(),
    ]);

    // The same account again: nothing to tell.
    assert_eq!(watcher.refresh().await, []);

    // (b) The gateway node replaced: a new master_ip.
    fake.edit_account(|a| replace_gateway(a, "74.220.24.11"));
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("egress-changed", "LON1/prod")], "partner lists both gateways");
    assert_eq!(json_of(&events, "egress-changed")["added"], json!(["74.220.24.11"]));
    assert_eq!(json_of(&events, "egress-changed")["removed"], json!(["74.220.24.10"]));
    #[rustfmt::skip]
    assert_metrics(&metrics, &[
        ip_line("74.220.24.11"), format!("!{}", ip_line("74.220.24.10")),
        r#"civo_egress_changes_total{cluster="LON1/prod"} 1"#.into(),
    ]);

    // (c) The pool's second node gets its IP: the set is complete.
    fake.edit_account(|a| give_new_node_its_ip(a, "74.220.24.78"));
    let events = watcher.refresh().await;
    #[rustfmt::skip]
    assert_eq!(summary(&events), [
        s("egress-changed", "LON1/prod"), s("complete", "LON1/prod"),
        s("allowlist-uncovered", "partner:LON1/prod"),
    ]);
    assert_eq!(json_of(&events, "egress-changed")["added"], json!(["74.220.24.78"]));
    assert_eq!(json_of(&events, "egress-changed")["removed"], json!([]));
    assert_eq!(watcher.state().clusters()[0].status(), civo_egress::EgressStatus::Expected, "its doubt is gone");
    assert_eq!(json_of(&events, "allowlist-uncovered")["missing"], json!(["74.220.24.77", "74.220.24.78"]));
    let kept = ips(&["74.220.24.11", "74.220.24.77", "74.220.24.78"]);
    assert_eq!(watcher.state().clusters()[0].egress_ips(), kept);
    #[rustfmt::skip]
    assert_metrics(&metrics, &[
        ip_line("74.220.24.78"),
        r#"civo_egress_incomplete{cluster="LON1/prod"} 0"#.into(),
        r#"civo_egress_changes_total{cluster="LON1/prod"} 2"#.into(),
    ]);

    // (d) The API fails: 429 with Retry-After: 7, then 500. The state is
    // kept. The 429 first: after one failure the backoff is 5 s ±10 %, so
    // a wait of 7 s is the Retry-After's doing (after two, 10 s ±10 %).
    let rate_limited = Reply::json(429, r#"{"code":"too_many_requests"}"#).with_header("Retry-After", "7");
    fake.fail_next("/v2/kubernetes/clusters", rate_limited);
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("refresh-failed", "")]);
    assert_eq!(watcher.last_error().unwrap().retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(watcher.next_wait(), Duration::from_secs(7));
    assert_eq!(watcher.state().clusters()[0].egress_ips(), kept, "no IP removed for want of an answer");
    #[rustfmt::skip]
    assert_metrics(&metrics, &[
        ip_line("74.220.24.11"), ip_line("74.220.24.77"), ip_line("74.220.24.78"),
        "civo_egress_refresh_success 0".into(), "civo_egress_refresh_errors_total 1".into(),
        r#"civo_egress_changes_total{cluster="LON1/prod"} 2"#.into(),
    ]);
    fake.fail_next("/v2/kubernetes/clusters", Reply::json(500, r#"{"code":"internal_error"}"#));
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("refresh-failed", "")]);
    assert!(json_of(&events, "refresh-failed")["error"].as_str().unwrap().contains("500"), "{events:?}");
    assert_eq!(watcher.last_error().unwrap().retry_after(), None);
    let wait = watcher.next_wait();
    assert!((Duration::from_secs(9)..=Duration::from_secs(11)).contains(&wait), "{wait:?}");
    assert_eq!(watcher.state().refresh().failures_in_a_row(), 2);
    assert_eq!(watcher.state().clusters()[0].egress_ips(), kept);
    assert_metrics(&metrics, &["civo_egress_refresh_success 0".into(), "civo_egress_refresh_errors_total 2".into()]);

    // (e) It recovers; nothing else changed.
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("refresh-recovered", "")]);
    assert_eq!(json_of(&events, "refresh-recovered")["failures"], 2);
    assert!(watcher.last_error().is_none());
    #[rustfmt::skip]
    assert_metrics(&metrics, &[
        "civo_egress_refresh_success 1".into(), "civo_egress_refresh_errors_total 2".into(),
        r#"civo_egress_changes_total{cluster="LON1/prod"} 2"#.into(),
    ]);

    // The partner adds the pool's IPs: its file is read again.
    std::fs::write(&partner, "74.220.24.0/24\n74.220.26.44\n").unwrap();
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("allowlist-covered", "partner:LON1/prod")]);
    assert_metrics(&metrics, &[r#"civo_egress_allowlist_covered{allowlist="partner",cluster="LON1/prod"} 1"#.into()]);
    assert!(watcher.state().is_clear(), "{:?}", watcher.state());
}

/// A snapshot of prod (LON1, gateway `gateway`, one public-IP pool node 74.220.24.77).
fn snapshot(gateway: &str) -> String {
    let prod = Cluster::builder("prod")
        .region("LON1")
        .id("p-1")
        .egress_ip(gateway.parse::<IpAddr>().unwrap())
        .public_ip_pool(PublicIpPool::new("edge", 0).unwrap())
        .node(
            Node::new("edge-1", "192.168.1.10".parse().unwrap())
                .unwrap()
                .with_public_ip("74.220.24.77".parse().unwrap()),
        )
        .build()
        .unwrap();
    Topology::new(vec![prod], vec![], vec![]).unwrap().to_json()
}

#[tokio::test]
async fn watches_a_snapshot_file_and_an_allowlist_read_again_at_each_refresh() {
    let dir = TempDir::new("watch", "snapshot");
    let path = dir.write("account.json", &snapshot("74.220.24.10"));
    let partner = dir.write("partner.txt", "74.220.24.10\n");
    let mut watcher = Watcher::builder(Origin::Snapshot(path.clone())).allowlist("partner", &partner).build().unwrap();
    let metrics = Metrics::new(watcher.subscribe());
    let s = |kind: &str, what: &str| (kind.to_owned(), what.to_owned());
    let egress = |w: &Watcher| w.state().clusters()[0].egress_ips().to_vec();

    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("cluster-added", "LON1/prod"), s("allowlist-uncovered", "partner:LON1/prod")]);

    // The file rewritten: read again.
    std::fs::write(&path, snapshot("74.220.24.11")).unwrap();
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("egress-changed", "LON1/prod"), s("allowlist-uncovered", "partner:LON1/prod")]);
    assert_eq!(json_of(&events, "egress-changed")["removed"], json!(["74.220.24.10"]));
    assert_eq!(json_of(&events, "allowlist-uncovered")["missing"], json!(["74.220.24.11", "74.220.24.77"]));

    // Made invalid: a failure, the state kept.
    std::fs::write(&path, "{\"clusters\": [{\"name\": ").unwrap();
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("refresh-failed", "")]);
    let error = watcher.last_error().unwrap();
    assert!(matches!(error, WatchError::Snapshot { .. }) && error.is_input(), "{error:?}");
    assert!(json_of(&events, "refresh-failed")["error"].as_str().unwrap().contains("account.json"), "{events:?}");
    assert_eq!(egress(&watcher), ips(&["74.220.24.11", "74.220.24.77"]), "kept");
    assert_metrics(&metrics, &["civo_egress_refresh_success 0".into(), ip_line_of("p-1", "74.220.24.11")]);

    // Mended, and the partner's file edited meanwhile: both read again.
    std::fs::write(&path, snapshot("74.220.24.11")).unwrap();
    std::fs::write(&partner, "74.220.24.0/24\n").unwrap();
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("refresh-recovered", ""), s("allowlist-covered", "partner:LON1/prod")]);
    assert!(watcher.state().is_clear(), "{:?}", watcher.state());

    // An allowlist made invalid keeps its last readable version, said in a
    // warning of the account: the refresh goes on, the watch is not clear,
    // and that allowlist no longer covers for sure.
    std::fs::write(&partner, "74.220.24.0/24\nnot an address\n").unwrap();
    let events = watcher.refresh().await;
    assert_eq!(summary(&events), [s("allowlist-uncovered", "partner:LON1/prod")]);
    assert_eq!(json_of(&events, "allowlist-uncovered")["incomplete"], json!(true));
    assert!(watcher.last_error().is_none(), "{:?}", watcher.last_error());
    let warnings = watcher.state().warnings();
    assert_eq!(warnings.iter().map(|w| w.kind()).collect::<Vec<_>>(), [WarningKind::SourceUnusable]);
    assert!(
        warnings[0].message().contains("partner") && warnings[0].message().contains("last readable"),
        "{warnings:?}"
    );
    assert!(!watcher.state().clusters()[0].allowlists()[0].is_covered() && !watcher.state().is_clear());
    #[rustfmt::skip]
    assert_metrics(&metrics, &[
        r#"civo_egress_allowlist_covered{allowlist="partner",cluster="LON1/prod"} 0"#.into(),
        r#"civo_egress_allowlist_missing_ips{allowlist="partner",cluster="LON1/prod"} 0"#.into(),
        r#"civo_egress_caveats{cluster="",kind="source-unusable"} 1"#.into(),
    ]);

    // The snapshot gone: a failure naming the file.
    std::fs::write(&partner, "74.220.24.0/24\n").unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(summary(&watcher.refresh().await), [s("refresh-failed", "")]);
    assert!(matches!(watcher.last_error(), Some(WatchError::SnapshotFile { .. })), "{:?}", watcher.last_error());
    assert_eq!(watcher.state().refresh().failures_in_a_row(), 1);
    assert_eq!(watcher.state().clusters()[0].left_out_kind(), None::<WarningKind>, "a failure leaves nothing out");
}

#[tokio::test]
async fn run_ends_promptly_once_its_receiver_is_dropped() {
    let dir = TempDir::new("watch", "run");
    let path = dir.write("account.json", &snapshot("74.220.24.10"));
    let partner = dir.write("partner.txt", "74.220.24.10\n");
    // capacity: 64 (dropped while run sleeps an hour), 1 (dropped while
    // run waits to send its second event).
    for capacity in [64, 1] {
        let watcher = Watcher::builder(Origin::Snapshot(path.clone()))
            .interval(Duration::from_secs(3600))
            .allowlist("partner", &partner)
            .build()
            .unwrap();
        let (events, mut receiver) = tokio::sync::mpsc::channel(capacity);
        let task = tokio::spawn(watcher.run(events));
        let first = receiver.recv().await.unwrap();
        assert_eq!(first.kind().name(), "cluster-added", "{first}");
        drop(receiver);
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap_or_else(|_| panic!("run still going 2 s after its receiver was dropped (capacity {capacity})"))
            .unwrap();
    }
}
