//! Rule 3 of issue 19, for real: the binary runs "in a pod" (the kubelet's
//! variables, and a service-account directory mounted over `/run` in a
//! mount namespace of its own), once in a pod of the cluster asked about
//! and once in a CI runner's pod of another cluster. Only the first may
//! report a mismatch; the second is a host's vantage, with a warning.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::server::echo;

const EXPECTED: &str = "74.220.24.10";
const OBSERVED: &str = "74.220.24.99";

fn ca(name: &str) -> String {
    rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("a CA").cert.pem()
}

/// Runs `resolve` with the service-account CA `sa_ca` mounted where the
/// kubelet mounts it, in a mount namespace that dies with the command.
fn resolve_in_a_pod(dir: &Path, sa_ca: &str, snapshot: &Path, echo: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    std::fs::write(dir.join("ca.crt"), sa_ca).unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_civo-egress"));
    let sa = "/run/secrets/kubernetes.io/serviceaccount";
    let script = format!(
        "mount -t tmpfs none /run && mkdir -p {sa} && cp {ca} {sa}/ca.crt && echo default > {sa}/namespace && exec \"$@\"",
        ca = dir.join("ca.crt").display()
    );
    let mut args = vec!["resolve", "--topology", snapshot.to_str().unwrap(), "--echo-url", echo, "--echo-url", echo];
    args.extend_from_slice(extra);
    args.extend(["--format", "json"]);
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "sh", "-c", &script, "sh"])
        .arg(&binary)
        .args(&args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", "/nonexistent")
        .env("KUBERNETES_SERVICE_HOST", "10.43.0.1")
        .env("KUBERNETES_SERVICE_PORT", "443")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), report)
}

fn kinds(report: &serde_json::Value) -> Vec<&str> {
    report["warnings"].as_array().unwrap().iter().filter_map(|w| w["kind"].as_str()).collect()
}

pub(crate) fn a_pod_counts_only_when_its_service_account_ca_is_the_clusters() {
    let dir = std::env::temp_dir().join(format!("civo-egress-vantage-lab-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (prod_ca, staging_ca) = (ca("prod"), ca("staging"));
    let fingerprint = civo_egress::CaFingerprint::from_pem(&prod_ca).unwrap()[0];
    let snapshot = |name: &str, fingerprint: Option<civo_egress::CaFingerprint>| {
        let field = fingerprint.map(|f| format!(r#", "ca_fingerprint": "{f}""#)).unwrap_or_default();
        let text = format!(
            r#"{{"clusters": [{{"name": "prod", "region": "LON1", "egress_ip": "{EXPECTED}", "network_cidr": "192.168.1.0/24"{field},
                "nodes": [{{"name": "n1", "private_ip": "192.168.1.3"}}]}}]}}"#
        );
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let known = snapshot("known.json", Some(fingerprint));
    let unknown = snapshot("unknown.json", None);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let echo = runtime.block_on(echo(OBSERVED));

    // A pod of prod: its observation is prod's egress, and it moved.
    let (code, report) = resolve_in_a_pod(&dir, &prod_ca, &known, &echo, &[]);
    assert_eq!(
        (code, report["vantage"].as_str(), report["status"].as_str()),
        (1, Some("pod"), Some("mismatch")),
        "{report}"
    );
    assert!(!kinds(&report).contains(&"vantage-unproven"), "{report}");

    // A CI runner's pod in staging: never a mismatch about prod.
    let (code, report) = resolve_in_a_pod(&dir, &staging_ca, &known, &echo, &[]);
    assert_eq!(
        (code, report["vantage"].as_str(), report["status"].as_str()),
        (0, Some("host"), Some("expected")),
        "{report}"
    );
    let unproven = report["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "vantage-unproven").unwrap();
    assert!(unproven["message"].as_str().unwrap().contains("another cluster"), "{unproven}");
    assert!(unproven["message"].as_str().unwrap().contains("--vantage pod"), "how to state it: {unproven}");
    assert_eq!(report["host_observed"], OBSERVED);
    assert_eq!(report["egress_ips"], serde_json::json!([EXPECTED]));

    // A snapshot that records no CA proves no pod.
    let (code, report) = resolve_in_a_pod(&dir, &prod_ca, &unknown, &echo, &[]);
    assert_eq!((code, report["vantage"].as_str()), (0, Some("host")), "{report}");
    assert!(kinds(&report).contains(&"vantage-unproven"), "{report}");

    // `--vantage pod` is the user's own assertion, and wins.
    let (code, report) = resolve_in_a_pod(&dir, &staging_ca, &known, &echo, &["--vantage", "pod"]);
    assert_eq!((code, report["status"].as_str()), (1, Some("mismatch")), "{report}");

    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
}
