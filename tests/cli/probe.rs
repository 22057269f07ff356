//! `probe` through the binary (feature `probe`), against the fake
//! Kubernetes API of tests/common/kube_api.rs, whose kubelet answers each
//! pod's curl command through a curl emulator: what the user sees and the
//! exit code, when the probe cannot run (rule 8: one line, exit 3, whatever
//! `--format`), when one node could not be probed (`partial`, exit 1) and
//! when every node is confirmed (exit 0).

use std::time::Duration;

use super::*;
use common::kube_api::{Behaviour, EchoKubelet, FakeKube, kubelet, lab_nodes};

const ECHO_A: &str = "https://echo-a.test/ip";
const ECHO_B: &str = "https://echo-b.test/ip";
const EGRESS: &str = "212.2.253.151";
const PUBLIC: &str = "212.2.246.9";
const LABEL: &str = "app.kubernetes.io/managed-by=civo-egress-probe";

/// A snapshot whose cluster's nodes are the fake's (private IPs = InternalIPs).
fn snapshot(name: &str) -> String {
    let text = format!(
        r#"{{"clusters": [{{"name": "lab", "egress_ip": "{EGRESS}", "network_cidr": "192.168.1.0/24",
        "nodes": [{{"name": "k3s-gw", "private_ip": "192.168.1.2", "public_ip": "{EGRESS}"}},
                  {{"name": "k3s-worker-a", "private_ip": "192.168.1.3"}},
                  {{"name": "k3s-public", "private_ip": "192.168.1.4", "public_ip": "{PUBLIC}"}}]}}]}}"#
    );
    tmp(name, &text).to_string_lossy().into_owned()
}

/// Every node leaves from what the snapshot expects of it.
fn faithful() -> EchoKubelet {
    kubelet(&[("k3s-gw", EGRESS), ("k3s-worker-a", EGRESS), ("k3s-public", PUBLIC)])
}

/// A fake cluster, its kubeconfig and a matching snapshot, named `name`.
async fn cluster(name: &str, kubelet: EchoKubelet) -> (FakeKube, String, String) {
    let fake = FakeKube::builder().nodes(lab_nodes(PUBLIC)).kubelet(kubelet).start().await;
    let kubeconfig = tmp(&format!("probe-{name}.kubeconfig"), &fake.kubeconfig()).to_string_lossy().into_owned();
    (fake, kubeconfig, snapshot(&format!("probe-{name}.json")))
}

/// `civo-egress probe` against the fake, in `format`, with `extra` flags.
async fn probe(kubeconfig: &str, snapshot: &str, format: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "probe",
        "--kubeconfig",
        kubeconfig,
        "--topology",
        snapshot,
        "--echo-url",
        ECHO_A,
        "--echo-url",
        ECHO_B,
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    run_async(&args, &[]).await
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// No probe pod left, and the token in no output.
async fn assert_clean(fake: &FakeKube, out: &Output) {
    let left = fake.wait_no_pods_matching(LABEL, Duration::from_secs(6)).await;
    assert!(left.is_empty(), "pods left behind: {left:#?}");
    if let Some(token) = fake.token() {
        assert!(!stdout(out).contains(token) && !stderr(out).contains(token), "the token leaked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_forbidden_everywhere_is_one_line_naming_the_rbac_and_exit_3() {
    let (fake, kubeconfig, snap) = cluster("forbidden", faithful()).await;
    fake.forbid_pod_create();
    for format in ["json", "text"] {
        let out = probe(&kubeconfig, &snap, format, &[]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "--format {format}: {err}");
        assert_eq!(stdout(&out), "", "--format {format}: nothing on stdout");
        assert_eq!(err.lines().count(), 1, "--format {format}: one line: {err}");
        for needle in ["forbidden", "pods (create, get, list, delete)", "nodes (list)"] {
            assert!(err.contains(needle), "--format {format}: {needle:?} in {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert_clean(&fake, &out).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_pod_never_starts_leaves_the_report_partial_and_exit_1() {
    let (fake, kubeconfig, snap) = cluster("partial", faithful().node("k3s-public", Behaviour::NeverStarts)).await;
    let started = std::time::Instant::now();
    let out = probe(&kubeconfig, &snap, "json", &["--timeout", "3"]).await;
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("partial"), Some(1)), "{report}");
    // Rule 8: the node not probed keeps its expected IP among the egress
    // IPs, unverified; nothing is proven stale.
    assert_eq!(report["unverified_ips"], serde_json::json!([PUBLIC]), "{report}");
    let egress: Vec<&str> = report["egress_ips"].as_array().unwrap().iter().map(|ip| ip.as_str().unwrap()).collect();
    assert!(egress.contains(&PUBLIC) && egress.contains(&EGRESS), "{report}");
    assert_eq!(report["stale_ips"], serde_json::json!([]), "{report}");
    let row = report["nodes"].as_array().unwrap().iter().find(|n| n["node"] == "k3s-public").unwrap();
    assert_eq!((row["status"].as_str(), &row["observed"]), (Some("unknown"), &serde_json::Value::Null), "{row}");
    assert!(row["error"].is_string(), "{row}");
    let not_probed = report["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "not-probed");
    assert!(
        not_probed.is_some_and(|w| w["node"] == "k3s-public" && w["message"].as_str().unwrap().contains(PUBLIC)),
        "a not-probed warning naming the node and its expected IP: {report}"
    );
    assert_clean(&fake, &out).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_confirmed_is_exit_0() {
    let (fake, kubeconfig, snap) = cluster("confirmed", faithful()).await;
    let out = probe(&kubeconfig, &snap, "json", &[]).await;
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("confirmed"), Some(0)), "{report}");
    assert_eq!(report["egress_ips"], serde_json::json!([PUBLIC, EGRESS]), "{report}");
    assert_eq!((&report["stale_ips"], &report["unverified_ips"]), (&serde_json::json!([]), &serde_json::json!([])));
    assert!(report["nodes"].as_array().unwrap().iter().all(|n| n["status"] == "confirmed"), "{report}");
    assert_clean(&fake, &out).await;
    // The text says the same, with the same exit code.
    let out = probe(&kubeconfig, &snap, "text", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(&format!("lab: confirmed {PUBLIC}, {EGRESS}")), "{}", stdout(&out));
    assert_clean(&fake, &out).await;
}
