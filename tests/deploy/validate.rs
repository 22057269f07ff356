//! `kubernetes_validate_strict`: every core object passes kubernetes-validate
//! `--strict`, and a broken copy does not; the Prometheus Operator's kinds
//! are checked here instead, the PrometheusRule's `spec` by `promtool check
//! rules`.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::render::{
    ALERTS, BASE_OBJECTS, PROBE_OBJECTS, base, kind, name, object, run, scratch, selects, text, with_probe, write_rules,
};

/// The Kubernetes versions the objects are validated against: one Civo's
/// K3s ships, and the newest kubernetes-validate knows.
pub(crate) const KUBERNETES_VERSIONS: &[&str] = &["1.33.0", "1.37.0"];

fn is_prometheus_operator(doc: &Value) -> bool {
    doc["apiVersion"].as_str().is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
}

/// `python3 -m kubernetes_validate --strict -k VERSION FILES`.
fn kubernetes_validate(version: &str, files: &[PathBuf]) -> Output {
    run(Command::new("python3").args(["-m", "kubernetes_validate", "--strict", "-k", version]).args(files))
}

pub(crate) fn kubernetes_validate_strict() {
    let dir = scratch("kubernetes-validate");
    let mut files = Vec::new();
    for (i, doc) in with_probe().iter().filter(|d| !is_prometheus_operator(d)).enumerate() {
        let path = dir.join(format!("{i:02}-{}-{}.json", kind(doc), name(doc)));
        std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        files.push(path);
    }
    assert_eq!(files.len(), BASE_OBJECTS.len() + PROBE_OBJECTS.len() - 2, "every core object");
    for version in KUBERNETES_VERSIONS {
        let out = kubernetes_validate(version, &files);
        let said = text(&out);
        assert!(out.status.success(), "kubernetes-validate -k {version}:\n{said}");
        assert_eq!(said.lines().filter(|l| l.contains(" passed for resource ")).count(), files.len(), "{said}");
        assert!(!said.contains("WARN") && !said.contains("ERROR"), "{said}");
    }
    // --strict bites: an unknown field, and a wrong type, are refused.
    let mut broken = object(base(), "Deployment", "civo-egress").clone();
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystm"] = json!(true);
    let mut wrong_type = object(base(), "Service", "civo-egress").clone();
    wrong_type["spec"]["ports"][0]["port"] = json!("9464");
    for (what, doc) in [("an unknown field", broken), ("a string port", wrong_type)] {
        let path = dir.join("broken.json");
        std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
        let out = kubernetes_validate(KUBERNETES_VERSIONS[0], &[path]);
        assert!(!out.status.success(), "kubernetes-validate accepted {what}: {}", text(&out));
    }

    // The Prometheus Operator's kinds, which it has no schema for.
    let base = base();
    let service = object(base, "Service", "civo-egress");
    let monitor = object(base, "ServiceMonitor", "civo-egress");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["metadata"]["namespace"], service["metadata"]["namespace"], "no namespaceSelector needed");
    assert!(monitor["spec"]["namespaceSelector"].is_null());
    assert!(selects(&monitor["spec"]["selector"]["matchLabels"], &service["metadata"]["labels"]));
    let port_names: Vec<&Value> = service["spec"]["ports"].as_array().unwrap().iter().map(|p| &p["name"]).collect();
    let endpoints = monitor["spec"]["endpoints"].as_array().unwrap();
    assert!(!endpoints.is_empty());
    for endpoint in endpoints {
        assert!(port_names.contains(&&endpoint["port"]), "{endpoint}: not a port of the Service");
        assert_eq!(endpoint["path"], "/metrics");
        let seconds = |v: &Value| v.as_str().unwrap().strip_suffix('s').unwrap().parse::<u32>().unwrap();
        assert!(seconds(&endpoint["scrapeTimeout"]) < seconds(&endpoint["interval"]));
    }
    let rule = object(base, "PrometheusRule", "civo-egress");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    let rules: Vec<&Value> =
        rule["spec"]["groups"].as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap()).collect();
    let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    assert_eq!(names, ALERTS);
    for r in &rules {
        assert!(matches!(r["labels"]["severity"].as_str(), Some("critical" | "warning")), "{r}");
        for key in ["summary", "description"] {
            assert!(r["annotations"][key].as_str().is_some_and(|s| !s.is_empty()), "{r}: {key}");
        }
    }
    let rules_dir = scratch("prometheusrule-spec");
    let path = write_rules(&rules_dir, &rule["spec"]);
    let out = run(Command::new("promtool").arg("check").arg("rules").arg(&path));
    assert!(out.status.success(), "promtool check rules:\n{}", text(&out));
    assert!(text(&out).contains(&format!("SUCCESS: {} rules found", ALERTS.len())), "{}", text(&out));
}
