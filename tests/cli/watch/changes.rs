//! A long watch: each change in order, a cluster left out then deleted,
//! /readyz, and the signals that stop it.

use serde_json::json;

use super::{
    Account, KEY, PROD, PROD_ID, STAGING, api, fail, kinds, lines, once, sample, set_cluster, stderr, stdout, tmp,
    watch,
};

/// Prod's gateway, and the node of its public-IP pool.
const GATEWAY: &str = "k3s-prod-8e1c-4b2a1f-node-pool-a1f3-k2m9x";
const POOL_NODE: &str = "k3s-prod-8e1c-4b2a1f-node-pool-e7b2-h5j6k";

fn set_public_ip(account: &mut Account, host: &str, ip: &str) {
    let nodes = account.instances.get_mut(PROD_ID).unwrap().as_array_mut().unwrap();
    nodes.iter_mut().filter(|n| n["hostname"] == host).for_each(|n| n["public_ip"] = json!(ip));
}

#[test]
fn a_long_watch_tells_each_change_in_order_and_stops_on_sigterm() {
    let mut account = Account::fixture();
    set_public_ip(&mut account, POOL_NODE, "");
    let api = api(account, 1);
    let partner = tmp("watch-long.txt", "74.220.24.10\n74.220.24.77\n74.220.26.44\n");
    let partner = format!("partner={}", partner.display());
    let mut w = watch(&["--interval", "1", "--api-url", &api.url, "--allowlist", &partner]);
    let first = w.batch();
    assert_eq!(first[0]["status"], "unverified", "{first:?}");
    // partner lets in every known IP of prod, but a pool node waits for its
    // IP: not covered, incomplete.
    let want = ["cluster-added", "incomplete", "allowlist-uncovered", "cluster-added", "allowlist-covered"];
    assert_eq!(kinds(&first), want, "{first:?}");
    assert_eq!((&first[2]["missing"], &first[2]["incomplete"]), (&json!([]), &json!(true)));
    assert_eq!((&first[1]["cluster"], &first[1]["pending"]), (&json!(PROD), &json!(1)));
    let m = w.metrics();
    assert_eq!(sample(&m, r#"civo_egress_incomplete{cluster="LON1/prod"}"#), Some(1.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_pending_nodes{cluster="LON1/prod"}"#), Some(1.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_changes_total{cluster="LON1/prod"}"#), Some(0.0), "{m}");

    // The pool node gets its IP: one more egress IP, the set complete.
    api.civo.edit_account(|a| set_public_ip(a, POOL_NODE, "74.220.24.77"));
    let grown = w.batch();
    // Its verdict went from unverified to expected: no verdict-changed without observers.
    assert_eq!(kinds(&grown), ["egress-changed", "complete", "allowlist-covered"], "{grown:?}");
    assert_eq!(grown[0]["cluster"], PROD);
    assert_eq!((&grown[0]["added"], &grown[0]["removed"]), (&json!(["74.220.24.77"]), &json!([])));
    let m = w.metrics();
    assert_eq!(sample(&m, r#"civo_egress_changes_total{cluster="LON1/prod"}"#), Some(1.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_incomplete{cluster="LON1/prod"}"#), Some(0.0), "{m}");

    // The gateway replaced: its IP changes, and the allowlist lacks the new one.
    api.civo.edit_account(|a| {
        a.clusters[0]["master_ip"] = json!("74.220.24.11");
        set_public_ip(a, GATEWAY, "74.220.24.11");
    });
    let replaced = w.batch();
    assert_eq!(kinds(&replaced), ["egress-changed", "allowlist-uncovered"], "{replaced:?}");
    assert_eq!((&replaced[0]["added"], &replaced[0]["removed"]), (&json!(["74.220.24.11"]), &json!(["74.220.24.10"])));
    assert_eq!(replaced[1]["missing"], json!(["74.220.24.11"]));
    let m = w.metrics();
    assert_eq!(sample(&m, r#"civo_egress_changes_total{cluster="LON1/prod"}"#), Some(2.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_changes_total{cluster="LON1/staging"}"#), Some(0.0), "{m}");
    assert!(sample(&m, r#"civo_egress_last_change_timestamp_seconds{cluster="LON1/prod"}"#).is_some(), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_allowlist_covered{allowlist="partner",cluster="LON1/prod"}"#), Some(0.0));
    assert_eq!(sample(&m, r#"civo_egress_allowlist_missing_ips{allowlist="partner",cluster="LON1/prod"}"#), Some(1.0));
    let new_ip = format!(
        r#"civo_egress_ip_info{{cluster="LON1/prod",cluster_id="{PROD_ID}",region="LON1",ip="74.220.24.11",family="v4"}}"#
    );
    assert_eq!(sample(&m, &new_ip), Some(1.0), "{m}");
    assert!(!m.contains(r#"ip="74.220.24.10""#), "{m}");

    // The API fails (two refreshes' worth of retries), then recovers.
    fail(&api, 8);
    let failed = w.batch();
    assert_eq!(kinds(&failed), ["refresh-failed"], "{failed:?}");
    let m = w.metrics();
    assert_eq!(sample(&m, "civo_egress_refresh_success"), Some(0.0), "{m}");
    assert_eq!(sample(&m, "civo_egress_refresh_errors_total"), Some(1.0), "{m}");
    assert_eq!(sample(&m, &new_ip), Some(1.0), "the last known state is kept: {m}");
    let mut failures = 1;
    let recovered = loop {
        let batch = w.batch();
        match kinds(&batch)[..] {
            ["refresh-failed"] => failures += 1,
            ["refresh-recovered"] => break batch,
            _ => panic!("{batch:?}"),
        }
    };
    assert_eq!(recovered[0]["failures"], failures);
    let m = w.metrics();
    assert_eq!(sample(&m, "civo_egress_refresh_success"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "civo_egress_refresh_errors_total"), Some(f64::from(failures)), "{m}");
    assert!(sample(&m, "civo_egress_refreshes_total").is_some_and(|n| n >= f64::from(3 + failures)), "{m}");
    assert_eq!(w.stop("TERM").code(), Some(0), "{}", w.log());
}

#[test]
fn readyz_waits_for_a_successful_refresh_and_sigint_stops() {
    let api = api(Account::fixture(), 1);
    fail(&api, 8); // the first two refreshes fail
    let mut w = watch(&["--interval", "1", "--api-url", &api.url]);
    assert_eq!(w.status("/healthz"), 200);
    assert_eq!(w.status("/readyz"), 503);
    assert_eq!(kinds(&w.batch()), ["refresh-failed"]);
    assert_eq!((w.status("/readyz"), w.status("/healthz")), (503, 200));
    let m = w.metrics();
    assert_eq!(sample(&m, "civo_egress_refresh_success"), Some(0.0), "{m}");
    assert!(!m.contains("civo_egress_ip_info{"), "{m}");
    let recovered = loop {
        let batch = w.batch();
        if batch[0]["kind"] != "refresh-failed" {
            break batch;
        }
    };
    assert_eq!(kinds(&recovered)[..2], ["refresh-recovered", "cluster-added"], "{recovered:?}");
    assert_eq!(w.status("/readyz"), 200);
    assert_eq!(w.stop("INT").code(), Some(0), "{}", w.log());
}

#[test]
fn a_cluster_left_out_then_deleted() {
    // One page for every list: an edit lands between two refreshes' reads
    // of the clusters, never inside one.
    let api = api(Account::fixture(), 100);
    let partner = tmp("watch-left-out.txt", "74.220.24.10\n74.220.24.77\n74.220.26.44\n");
    let partner = format!("p={}", partner.display());
    let mut w = watch(&["--interval", "1", "--api-url", &api.url, "--allowlist", &partner]);
    let first = w.batch();
    assert_eq!(
        kinds(&first),
        ["cluster-added", "allowlist-covered", "cluster-added", "allowlist-covered"],
        "{first:?}"
    );
    assert_eq!((&first[2]["cluster"], &first[2]["status"]), (&json!(STAGING), &json!("expected")));

    // Staging's master_ip, its egress IP, gone: left out, its last known IP kept.
    api.civo.edit_account(|a| set_cluster(a, "staging", "master_ip", json!("")));
    let left = w.batch();
    assert_eq!(kinds(&left), ["cluster-left-out", "allowlist-uncovered"], "{left:?}");
    assert_eq!((&left[0]["cluster"], &left[0]["reason_kind"]), (&json!(STAGING), &json!("no-egress-ip")), "{left:?}");
    assert_eq!(
        (&left[1]["cluster"], &left[1]["missing"], &left[1]["incomplete"]),
        (&json!(STAGING), &json!([]), &json!(true))
    );
    let m = w.metrics();
    assert_eq!(sample(&m, r#"civo_egress_left_out{cluster="LON1/staging",kind="no-egress-ip"}"#), Some(1.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_allowlist_covered{allowlist="p",cluster="LON1/staging"}"#), Some(0.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_allowlist_covered{allowlist="p",cluster="LON1/prod"}"#), Some(1.0), "{m}");
    let staging_ip = r#"civo_egress_ip_info{cluster="LON1/staging",cluster_id="9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d",region="LON1",ip="74.220.26.44",family="v4"}"#;
    assert_eq!(sample(&m, staging_ip), Some(1.0), "the last known IP is kept: {m}");
    assert!(!m.contains(r#"civo_egress_left_out{cluster="LON1/prod""#), "{m}");
    // --once on it: a finding.
    let out = once(&api, KEY, &["--allowlist", &partner]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let events = lines(&out);
    let want = ["cluster-added", "allowlist-covered", "cluster-left-out", "allowlist-uncovered", "state"];
    assert_eq!(kinds(&events), want, "{}", stdout(&out));
    assert_eq!(events[4]["clear"], false);

    // Deleted: the API reads the region and no longer lists it.
    api.civo.edit_account(|a| a.clusters.retain(|c| c["name"] != "staging"));
    let gone = w.batch();
    assert_eq!(kinds(&gone), ["cluster-left-out"], "{gone:?}");
    assert_eq!((&gone[0]["cluster"], &gone[0]["reason_kind"]), (&json!(STAGING), &json!("cluster-gone")), "{gone:?}");
    assert!(gone[0]["reason"].as_str().unwrap().contains("deleted"), "{gone:?}");
    let m = w.metrics();
    assert!(!m.contains(r#"cluster="LON1/staging""#), "{m}");
    assert!(m.contains(r#"cluster="LON1/prod""#), "{m}");
    assert_eq!(w.stop("TERM").code(), Some(0), "{}", w.log());
}

#[test]
fn a_failing_stdout_is_said_once_and_exits_3_at_the_stop() {
    let path = tmp("watch-full-stdout.json", "");
    super::snapshot(&path, "74.220.24.10");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let listen = super::free_addr();
    let mut child = std::process::Command::new(super::binary())
        .args(["watch", "--interval", "1", "--listen", &listen, "--topology", path.to_str().unwrap()])
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Three refreshes' worth of events, each lost.
    std::thread::sleep(std::time::Duration::from_secs(3));
    super::snapshot(&path, "74.220.24.11");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = std::process::Command::new("kill").args(["-s", "TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{log}");
    let said = log.lines().filter(|l| l.contains("the events are lost until the stop")).count();
    assert_eq!(said, 1, "said once: {log}");
    assert!(log.lines().last().is_some_and(|l| l.starts_with("error: cannot write standard output")), "{log}");
}
