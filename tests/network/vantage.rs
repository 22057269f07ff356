//! Where the observations were made: from a pod of the cluster they are the
//! cluster's egress, held against the expected set; from a host outside it
//! they are that host's IP, and say nothing about the cluster.

#![cfg(feature = "http-probe")]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use civo_egress::resolve::{
    EgressCheckError, EgressReport, EgressResolver, EgressResolverBuilder, EgressStatus, EvidenceKind, Vantage,
};
use civo_egress::{Allowlist, WarningKind};
use serde_json::json;

use crate::resolve::{EGRESS, OTHER, expected, http, ip};

fn from(vantage: Vantage) -> EgressResolverBuilder {
    EgressResolver::builder()
        .cluster("prod")
        .vantage(vantage)
        .source_timeout(Duration::from_secs(2))
        .deadline(Duration::from_secs(4))
}

fn kinds(report: &EgressReport) -> Vec<WarningKind> {
    report.warnings().iter().map(|w| w.kind()).collect()
}

fn warning(report: &EgressReport, kind: WarningKind) -> Option<&str> {
    report.warnings().iter().find(|w| w.kind() == kind).map(|w| w.message())
}

async fn another_ip_observed_from(vantage: Vantage) -> EgressReport {
    from(vantage).source(expected(&[EGRESS])).sources(http(&[OTHER, OTHER]).await).build().unwrap().resolve().await
}

#[tokio::test]
async fn from_a_pod_another_ip_is_a_mismatch() {
    let report = another_ip_observed_from(Vantage::Pod).await;
    assert_eq!(report.vantage(), Vantage::Pod);
    assert_eq!(report.status(), EgressStatus::Mismatch, "{report:?}");
    assert_eq!(report.egress_ips(), [ip(EGRESS), ip(OTHER)], "rule 1: the whitelist grows");
    assert!(report.stale_ips().is_empty(), "rule 1: one pod proves nothing stale");
    assert_eq!((report.observed(), report.host_observed()), (Some(ip(OTHER)), None));
    assert!(kinds(&report).contains(&WarningKind::Mismatch), "{:?}", report.warnings());
    assert!(!kinds(&report).contains(&WarningKind::HostVantage), "{:?}", report.warnings());
    assert!(matches!(
        report.verify_allowlisted(&format!("{EGRESS}/32").parse().unwrap()),
        Err(EgressCheckError::NotAllowlisted { replaced: true, .. })
    ));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["vantage"], "pod");
    assert_eq!((&json["status"], &json["egress_ips"]), (&json!("mismatch"), &json!([EGRESS, OTHER])));
    let rows = json["evidence"].as_array().unwrap();
    assert!(rows[0]["vantage"].is_null(), "{}", rows[0]);
    assert!(rows[1..].iter().all(|row| row["vantage"] == "pod"), "{rows:?}");
}

#[tokio::test]
async fn from_a_host_another_ip_is_only_expected_with_the_warning() {
    let report = another_ip_observed_from(Vantage::Host).await;
    assert_eq!(report.vantage(), Vantage::Host);
    assert_eq!(report.status(), EgressStatus::Expected, "{report:?}");
    assert!(report.status().is_ok(), "exit 0 in the CLI");
    assert_eq!(report.egress_ips(), [ip(EGRESS)], "the laptop's IP is never an egress IP");
    assert!(report.stale_ips().is_empty());
    assert_eq!(report.observed(), None, "nothing observed of the cluster");
    assert_eq!(report.host_observed(), Some(ip(OTHER)), "this host's IP, apart");
    assert_eq!(kinds(&report)[0], WarningKind::HostVantage, "said first: {:?}", report.warnings());
    assert!(!kinds(&report).contains(&WarningKind::Mismatch), "{:?}", report.warnings());
    assert!(!kinds(&report).contains(&WarningKind::HostMatchesExpected), "{:?}", report.warnings());
    let message = warning(&report, WarningKind::HostVantage).unwrap();
    assert!(message.contains(OTHER) && message.contains("probe"), "names the IP and the way in: {message}");

    // The evidence rows still say what each echo service saw, and from where.
    let observed: Vec<_> = report.evidence().iter().filter(|row| row.kind() == EvidenceKind::Observed).collect();
    assert_eq!(observed.len(), 2);
    assert!(observed.iter().all(|row| row.vantage() == Some(Vantage::Host) && row.ip() == Some(ip(OTHER))));
    assert_eq!(report.evidence()[0].vantage(), None, "the expected row");

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["vantage"], "host");
    assert_eq!((&json["status"], &json["egress_ips"]), (&json!("expected"), &json!([EGRESS])));
    assert_eq!((&json["observed"], &json["host_observed"]), (&json!(null), &json!(OTHER)));
    assert_eq!(json["stale_ips"], json!([]));
    let warning = &json["warnings"][0];
    assert_eq!((&warning["kind"], &warning["cluster"]), (&json!("host-vantage"), &json!("prod")), "{warning}");
    assert!(warning["message"].as_str().is_some_and(|m| m.contains(OTHER)), "{warning}");
    let rows = json["evidence"].as_array().unwrap();
    assert!(rows[0]["vantage"].is_null() && rows[0]["kind"] == "expected", "{}", rows[0]);
    assert!(rows[1..].iter().all(|row| row["vantage"] == "host" && row["ip"] == OTHER), "{rows:?}");

    // The startup check refuses to judge from here, whatever the allowlist.
    let allows_the_host: Allowlist = format!("{OTHER}/32").parse().unwrap();
    match report.verify_allowlisted(&allows_the_host) {
        Err(EgressCheckError::HostVantage { host_observed, status, .. }) => {
            assert_eq!((host_observed, status), (Some(ip(OTHER)), EgressStatus::Expected));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_host_that_leaves_from_an_expected_ip_is_said_but_not_confirmed() {
    let report = from(Vantage::Host)
        .source(expected(&[EGRESS]))
        .sources(http(&[EGRESS, EGRESS]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Expected, "not confirmed from outside: {report:?}");
    assert_eq!(report.egress_ips(), [ip(EGRESS)]);
    assert_eq!((report.observed(), report.host_observed()), (None, Some(ip(EGRESS))));
    assert_eq!(kinds(&report), [WarningKind::HostVantage, WarningKind::HostMatchesExpected], "{:?}", report.warnings());
    assert!(warning(&report, WarningKind::HostMatchesExpected).unwrap().contains(EGRESS));

    // The same observations from a pod confirm.
    let report = from(Vantage::Pod)
        .source(expected(&[EGRESS]))
        .sources(http(&[EGRESS, EGRESS]).await)
        .build()
        .unwrap()
        .resolve()
        .await;
    assert_eq!(report.status(), EgressStatus::Confirmed);
    assert!(report.warnings().is_empty(), "{:?}", report.warnings());
}

#[tokio::test]
async fn without_expectations_a_host_knows_nothing_of_the_cluster() {
    let report = from(Vantage::Host).sources(http(&[OTHER, OTHER]).await).build().unwrap().resolve().await;
    assert_eq!(report.status(), EgressStatus::Unknown, "{report:?}");
    assert!(report.egress_ips().is_empty());
    assert_eq!((report.observed(), report.host_observed()), (None, Some(ip(OTHER))));
    assert_eq!(kinds(&report), [WarningKind::HostVantage], "{:?}", report.warnings());
    assert_eq!(serde_json::to_value(&report).unwrap()["status"], "unknown");

    // From a pod the same answers are the cluster's egress.
    let report = from(Vantage::Pod).sources(http(&[OTHER, OTHER]).await).build().unwrap().resolve().await;
    assert_eq!((report.status(), report.egress_ips()), (EgressStatus::Observed, vec![ip(OTHER)]));
    assert_eq!(report.host_observed(), None);
}

#[tokio::test]
async fn a_host_whose_observers_disagree_still_never_mismatches() {
    let report =
        from(Vantage::Host).source(expected(&[EGRESS])).sources(http(&[OTHER, "74.220.24.98"]).await).build().unwrap();
    let report = report.resolve().await;
    assert_eq!(report.status(), EgressStatus::Expected);
    assert_eq!(report.host_observed(), None);
    let kinds = kinds(&report);
    assert!(kinds.contains(&WarningKind::HostVantage) && kinds.contains(&WarningKind::Disagreement));
    assert!(!kinds.contains(&WarningKind::Mismatch), "{kinds:?}");
}

#[tokio::test]
async fn without_observers_the_vantage_changes_nothing() {
    for vantage in [Vantage::Pod, Vantage::Host] {
        let report = from(vantage).source(expected(&[EGRESS])).build().unwrap().resolve().await;
        assert_eq!((report.status(), report.vantage()), (EgressStatus::Expected, vantage));
        assert!(report.warnings().is_empty(), "{vantage}: {:?}", report.warnings());
    }
}

/// A directory of the test's own, holding a service-account namespace file.
struct ServiceAccount(PathBuf);

impl ServiceAccount {
    fn new(name: &str, namespace: Option<&str>) -> Self {
        let dir = std::env::temp_dir().join(format!("civo-egress-sa-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(namespace) = namespace {
            std::fs::write(dir.join("namespace"), namespace).unwrap();
        }
        Self(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("namespace")
    }
}

impl Drop for ServiceAccount {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn detection_reads_the_kubelets_variables_and_file() {
    let kubelet = [("KUBERNETES_SERVICE_HOST", "10.43.0.1"), ("KUBERNETES_SERVICE_PORT", "443")];
    let pod = ServiceAccount::new("pod", Some("default"));
    assert_eq!(Vantage::detect_from(env(&kubelet), &pod.file()), Vantage::Pod);
    // automountServiceAccountToken: false, or variables exported by hand.
    let no_token = ServiceAccount::new("no-token", None);
    assert_eq!(Vantage::detect_from(env(&kubelet), &no_token.file()), Vantage::Host);
    // A laptop, even with a stray namespace file.
    assert_eq!(Vantage::detect_from(env(&[]), &pod.file()), Vantage::Host);
    assert_eq!(Vantage::detect_from(env(&kubelet[..1]), &pod.file()), Vantage::Host);
    assert_eq!(Vantage::SERVICE_ACCOUNT_NAMESPACE_FILE, "/var/run/secrets/kubernetes.io/serviceaccount/namespace");
}

#[test]
fn the_resolver_detects_at_build_unless_told() {
    let detected = EgressResolver::builder().source(expected(&[EGRESS])).build().unwrap();
    assert_eq!(detected.vantage(), Vantage::detect(), "this machine, whatever it is");
    for vantage in [Vantage::Pod, Vantage::Host] {
        let stated = EgressResolver::builder().source(expected(&[EGRESS])).vantage(vantage).build().unwrap();
        assert_eq!(stated.vantage(), vantage);
        assert_eq!(stated.clone().vantage(), vantage, "clones share it");
    }
}
