//! The verdict rules of issue 19, through the binary: what `resolve` says
//! and the exit code it gives.

use super::*;
use common::server::{Reply, echo, echo_reply};

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// A snapshot whose cluster `prod` leaves from `egress`.
fn snapshot(name: &str, egress: &str) -> String {
    let text = format!(
        r#"{{"clusters": [{{"name": "prod", "region": "LON1", "egress_ip": "{egress}", "network_cidr": "192.168.1.0/24",
            "nodes": [{{"name": "n1", "private_ip": "192.168.1.3"}}]}}]}}"#
    );
    tmp(name, &text).to_string_lossy().into_owned()
}

/// A kubeconfig whose server is `server` (`https://IP:6443`).
fn kubeconfig(name: &str, server: &str) -> String {
    let text = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    server: {server}\n  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: prod\n  name: prod\ncurrent-context: prod\nkind: Config\nusers:\n- name: prod\n  user:\n    token: redacted\n"
    );
    tmp(name, &text).to_string_lossy().into_owned()
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["warnings"].as_array().unwrap().iter().map(|w| w["kind"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn rule_2_a_stale_snapshot_next_to_a_fresh_kubeconfig_is_a_conflict() {
    let (snap, kube) = (snapshot("stale.json", "74.220.24.10"), kubeconfig("fresh.yaml", "https://74.220.24.77:6443"));
    let echo = echo("74.220.24.77").await;
    let args = [
        "resolve",
        "--topology",
        &snap,
        "--kubeconfig",
        &kube,
        "--vantage",
        "pod",
        "--echo-url",
        &echo,
        "--echo-url",
        &echo,
        "--format",
        "json",
    ];
    let out = run_async(&args, &[]).await;
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("conflict"), Some(1)), "{report}");
    let conflict = report["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "conflict").unwrap();
    let message = conflict["message"].as_str().unwrap();
    assert!(
        message.contains("said 74.220.24.10") && message.contains("said 74.220.24.77"),
        "which source said what: {message}"
    );
    assert_eq!(
        report["egress_ips"],
        serde_json::json!(["74.220.24.10", "74.220.24.77"]),
        "never drop what may be used"
    );
}

#[tokio::test]
async fn rule_6_a_pod_that_observed_nothing_fails_unless_told() {
    let snap = snapshot("six.json", "74.220.24.10");
    let broken = echo_reply(Reply::text(500, "text/plain", "x")).await;
    let base = ["resolve", "--topology", &snap, "--vantage", "pod", "--echo-url", &broken, "--quorum", "1"];
    let with = |extra: &'static [&'static str]| base.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>();
    let out = run_async(&with(&["--format", "json"]), &[]).await;
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("unverified"), Some(1)), "{report}");
    let nothing = report["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "nothing-observed").unwrap();
    assert!(nothing["message"].as_str().unwrap().contains("server failure"), "the cause per source: {nothing}");
    let out = run_async(&with(&["--accept-expected", "--format", "json"]), &[]).await;
    assert_eq!((json(&out)["status"].as_str(), out.status.code()), (Some("expected"), Some(0)));
    let out =
        run_async(&["resolve", "--topology", &snap, "--vantage", "pod", "--no-observe", "--format", "json"], &[]).await;
    assert_eq!((json(&out)["status"].as_str(), out.status.code()), (Some("expected"), Some(0)));
    // The text names the flag, not a library call.
    let out = run_async(&base, &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("--accept-expected"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Builder") && !stdout(&out).contains("::"), "{}", stdout(&out));
}

#[tokio::test]
async fn rule_7_a_kubeconfig_on_a_tunnel_is_not_an_egress_ip() {
    let kube = kubeconfig("tunnel.yaml", "https://127.0.0.1:16443");
    let out = run_async(&["resolve", "--kubeconfig", &kube, "--no-observe", "--format", "json"], &[]).await;
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("unknown"), Some(1)), "{report}");
    assert_eq!(report["egress_ips"], serde_json::json!([]));
    let unusable = report["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "source-unusable").unwrap();
    assert_eq!(unusable["source"], "kubeconfig:prod");
    assert!(unusable["message"].as_str().unwrap().contains("127.0.0.1"), "{unusable}");
}

#[tokio::test]
async fn rule_1_an_unexpected_ip_grows_the_whitelist_and_drops_nothing() {
    let snap = snapshot("one.json", "74.220.24.10");
    let other = echo("74.220.24.99").await;
    let args = ["resolve", "--topology", &snap, "--vantage", "pod", "--echo-url", &other, "--echo-url", &other];
    let out = run_async(&args, &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("prod: mismatch 74.220.24.10, 74.220.24.99"), "{text}");
    assert!(!text.contains("no longer used"), "{text}");
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let report = json(&run_async(&json_args, &[]).await);
    assert_eq!(report["stale_ips"], serde_json::json!([]));
    assert!(kinds(&report).contains(&"mismatch".to_owned()));
}

#[test]
fn a_zero_timeout_is_refused() {
    for command in ["resolve", "probe", "discover"] {
        let out = run(&[command, "--timeout", "0"]);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("--timeout"), "{command}: {}", stderr(&out));
    }
}

#[test]
fn resolve_and_probe_share_the_expected_source_flags() {
    // The same conflict, the same words.
    for command in ["resolve", "probe"] {
        let out = run(&[command, "--topology", "x.json", "--region", "LON1"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(
            stderr(&out).contains("--topology") && stderr(&out).contains("--region"),
            "{command}: {}",
            stderr(&out)
        );
        if command == "probe" && !cfg!(feature = "probe") {
            continue;
        }
        let out = run(&[command, "--api-url", "http://127.0.0.1:9"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(stderr(&out).contains("name the cluster with --cluster"), "{command}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn rule_4_an_ipv6_egress_nothing_expected_fails_and_is_listed() {
    let snap = snapshot("four.json", "74.220.24.10");
    let (v4, v6) = (echo("74.220.24.10").await, echo("2a00:1098:2b::1").await);
    let args = [
        "resolve",
        "--topology",
        &snap,
        "--vantage",
        "pod",
        "--echo-url",
        &v4,
        "--echo-url",
        &v4,
        "--echo-url",
        &v6,
        "--echo-url",
        &v6,
        "--format",
        "json",
    ];
    let out = run_async(&args, &[]).await;
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("mismatch"), Some(1)), "{report}");
    assert_eq!(report["egress_ips"], serde_json::json!(["74.220.24.10", "2a00:1098:2b::1"]));
    let families: Vec<(&str, &str)> = report["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["family"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(families, [("v4", "confirmed"), ("v6", "mismatch")], "decided separately");
}

#[tokio::test]
async fn rule_5_the_advice_names_the_observer_that_disagreed() {
    let snap = snapshot("five.json", "74.220.24.10");
    let (moved, liar) = (echo("74.220.24.99").await, echo("74.220.24.50").await);
    let args = [
        "resolve",
        "--topology",
        &snap,
        "--vantage",
        "pod",
        "--echo-url",
        &moved,
        "--echo-url",
        &moved,
        "--echo-url",
        &liar,
    ];
    let out = run_async(&args, &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let advice = text.lines().find(|l| l.starts_with("warning:") && l.contains("allow it")).unwrap_or_default();
    assert!(advice.contains("not unanimous") && advice.contains("said 74.220.24.50"), "{text}");
    assert!(advice.contains(liar.trim_end_matches('/')), "which observer: {text}");
}

#[tokio::test]
async fn rule_7_a_kubeconfig_that_resolves_nowhere_leaves_the_observation_unchecked() {
    let kube = kubeconfig("nowhere.yaml", "https://nonexistent-host.invalid:6443");
    let echo = echo("74.220.24.99").await;
    let args = [
        "resolve",
        "--kubeconfig",
        &kube,
        "--vantage",
        "pod",
        "--echo-url",
        &echo,
        "--echo-url",
        &echo,
        "--format",
        "json",
    ];
    let out = run_async(&args, &[]).await;
    let report = json(&out);
    assert_eq!((report["status"].as_str(), out.status.code()), (Some("unknown"), Some(1)), "never a pass: {report}");
    assert!(kinds(&report).contains(&"source-unusable".to_owned()), "{report}");
}
