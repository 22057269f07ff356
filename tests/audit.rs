//! Whitelist, allowlist parsing, audit and diff through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use civo_egress::{Allowlist, AuditReport, Change, FindingKind, IpClass, Severity, Topology, audit, diff};

const TOPOLOGY: &str = include_str!("fixtures/architecture-snapshot.json");

fn topology() -> Topology {
    Topology::from_json(TOPOLOGY).unwrap()
}

fn kinds(report: &AuditReport) -> Vec<(String, String, Severity)> {
    report.findings().iter().map(|f| (f.entry().to_owned(), f.kind().to_string(), f.severity())).collect()
}

#[test]
fn whitelist_lists_every_egress_ip_once_sorted() {
    let t = topology();
    let w = t.whitelist();
    assert_eq!(w.to_string(), "74.220.24.10/32\n74.220.24.77/32\n");
    assert!(w.contains("74.220.24.77".parse().unwrap()));
    assert!(!w.contains("74.220.25.1".parse().unwrap()));
    assert!(w.entries()[1].reason().contains("edge-1"));
    let json = serde_json::to_value(&w).unwrap();
    assert_eq!(json[0]["cidr"], "74.220.24.10/32");
    assert_eq!(json[0]["clusters"], serde_json::json!(["prod"]));
    assert!(json[0]["reason"].is_string());
    assert_eq!(t.whitelist_for(&["prod"]).unwrap(), w);
    assert!(t.whitelist_for(&["nope"]).is_err());
}

#[test]
fn allowlist_parser_handles_comments_blanks_and_errors() {
    let list =
        Allowlist::parse("  # header\n74.220.24.10 # prod egress\n\n\t74.220.24.77/32\n::ffff:8.8.8.8\n").unwrap();
    assert_eq!(list.entries().iter().map(|e| e.line()).collect::<Vec<_>>(), [2, 4, 5]);
    assert_eq!(list.entries()[0].text(), "74.220.24.10");
    assert_eq!(list.entries()[2].net().to_string(), "8.8.8.8/32");
    assert!(list.allows("74.220.24.77".parse().unwrap()));
    assert_eq!(list.to_string().parse::<Allowlist>().unwrap().len(), 3);

    let e = Allowlist::parse("1.2.3.4\n\n10.0.0.1/8\n").unwrap_err();
    assert_eq!(e.line(), 3);
    assert_eq!(e.to_string(), "line 3: CIDR 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)");
    let e = Allowlist::parse("your.cluster.ip.address").unwrap_err();
    assert_eq!(e.to_string(), r#"line 1: "your.cluster.ip.address" is not an IP address or CIDR"#);
    assert!(Allowlist::parse("1.2.3.4/33").is_err());
    assert!(Allowlist::parse("").unwrap().is_empty());
}

#[test]
fn a_correct_allowlist_is_clean() {
    let t = topology();
    let report = audit(&t, &"74.220.24.10\n74.220.24.77/32\n".parse().unwrap());
    assert!(report.is_ok(), "{:?}", report.findings());
    assert!(report.findings().is_empty());
}

#[test]
fn every_wrong_entry_is_flagged() {
    let t = topology();
    let list = "74.220.24.10\n74.220.25.1\n74.220.27.5\n192.168.10.4\n192.168.10.99\n10.42.3.4\n10.43.0.10\n127.0.0.1\n172.16.5.5\n8.8.8.8\n";
    let report = audit(&t, &list.parse().unwrap());
    assert!(!report.is_ok());
    let got = kinds(&report);
    let want = [
        ("74.220.25.1", "load-balancer", Severity::Error),
        ("74.220.27.5", "reserved", Severity::Error),
        ("192.168.10.4", "node", Severity::Error),
        ("192.168.10.99", "node-network", Severity::Error),
        ("10.42.3.4", "pod", Severity::Error),
        ("10.43.0.10", "service", Severity::Error),
        ("127.0.0.1", "special", Severity::Error),
        ("172.16.5.5", "private", Severity::Error),
        ("8.8.8.8", "public", Severity::Info),
        ("74.220.24.77/32", "missing-egress", Severity::Error),
    ];
    let want: Vec<_> = want.iter().map(|(e, k, s)| (e.to_string(), k.to_string(), *s)).collect();
    assert_eq!(got, want);
    let pod = &report.findings()[4];
    assert_eq!(pod.clusters(), ["prod"]);
    assert!(pod.reason().contains("10.42.3.4") || pod.reason().contains("pod CIDR"), "{}", pod.reason());
}

#[test]
fn broad_entries_are_too_broad_and_say_what_they_cover() {
    let t = topology();
    for entry in
        ["0.0.0.0/0", "::/0", "10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "74.0.0.0/8", "fc00::/7", "2000::/3"]
    {
        let report = audit(&t, &entry.parse().unwrap());
        assert_eq!(report.findings()[0].kind(), FindingKind::TooBroad, "{entry}");
    }
    let report = audit(&t, &"10.0.0.0/8\n".parse().unwrap());
    let covered: Vec<FindingKind> = report.findings().iter().map(|f| f.kind()).collect();
    assert_eq!(
        covered,
        [
            FindingKind::TooBroad,
            FindingKind::Covers(IpClass::Pod),
            FindingKind::Covers(IpClass::Service),
            FindingKind::Covers(IpClass::Private),
            FindingKind::MissingEgress,
            FindingKind::MissingEgress,
        ]
    );
    let narrow = audit(&t, &"74.220.24.0/24\n".parse().unwrap());
    assert!(narrow.is_ok(), "a /24 around the egress IPs is not too broad: {:?}", narrow.findings());
    assert_eq!(kinds(&narrow), [("74.220.24.0/24".into(), "public".into(), Severity::Info)]);
}

#[test]
fn audit_report_serializes_to_the_binding_shape_and_back() {
    let t = topology();
    let report = audit(&t, &"74.220.25.1\n".parse().unwrap());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], false);
    let f = &json["findings"][0];
    assert_eq!(
        (f["entry"].as_str(), f["kind"].as_str(), f["severity"].as_str()),
        (Some("74.220.25.1"), Some("load-balancer"), Some("error"))
    );
    assert_eq!(f["clusters"], serde_json::json!(["prod"]));
    assert!(f["reason"].is_string());
    let back: AuditReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
    let forged: AuditReport = serde_json::from_str(r#"{"ok": true, "findings": [{"entry": "x", "kind": "pod", "severity": "error", "clusters": [], "reason": "r"}]}"#).unwrap();
    assert!(!forged.is_ok(), "ok is derived from the findings, not read");
}

#[test]
fn diff_reports_a_replaced_gateway_as_drift() {
    let old = topology();
    let new_json = TOPOLOGY
        .replace("\"egress_ip\": \"74.220.24.10\"", "\"egress_ip\": \"74.220.24.11\"")
        .replace("\"public_ip\": \"74.220.24.77\"", "\"public_ip\": \"74.220.24.78\"")
        .replace("\"ip\": \"74.220.27.5\"", "\"ip\": \"74.220.27.8\"")
        .replace("74.220.25.1", "74.220.25.2");
    let new = Topology::from_json(&new_json).unwrap();
    let d = diff(&old, &new);
    assert!(d.has_egress_drift());
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert_eq!(
        d.changes(),
        [
            Change::EgressChanged { cluster: "prod".into(), old: ip("74.220.24.10"), new: ip("74.220.24.11") },
            Change::EgressRemoved { cluster: "prod".into(), ip: ip("74.220.24.77") },
            Change::EgressAdded { cluster: "prod".into(), ip: ip("74.220.24.78") },
            Change::LoadBalancerRemoved {
                cluster: Some("prod".into()),
                name: "prod-ingress".into(),
                ip: ip("74.220.25.1")
            },
            Change::LoadBalancerAdded {
                cluster: Some("prod".into()),
                name: "prod-ingress".into(),
                ip: ip("74.220.25.2")
            },
            Change::ReservedIpRemoved { name: "spare".into(), ip: ip("74.220.27.5") },
            Change::ReservedIpAdded { name: "spare".into(), ip: ip("74.220.27.8") },
        ]
    );
    assert!(d.changes()[0].to_string().contains("gateway node may have been replaced"));
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["drift"], true);
    assert_eq!(json["changes"][0]["change"], "egress-changed");
    assert_eq!(serde_json::from_value::<civo_egress::TopologyDiff>(json).unwrap(), d);
    assert!(diff(&old, &old).is_empty());
}

#[test]
fn diff_of_added_and_removed_clusters() {
    let a = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "74.220.24.10"}]}"#).unwrap();
    let b = Topology::from_json(r#"{"clusters": [{"name": "dev", "egress_ip": "74.220.30.1"}]}"#).unwrap();
    let d = diff(&a, &b);
    assert!(d.has_egress_drift(), "the prod egress IP disappeared");
    assert!(matches!(&d.changes()[0], Change::ClusterRemoved { cluster, .. } if cluster == "prod"));
    assert!(matches!(&d.changes()[1], Change::ClusterAdded { cluster, .. } if cluster == "dev"));
    assert!(
        !diff(&Topology::new(vec![], vec![], vec![]).unwrap(), &b).has_egress_drift(),
        "a new cluster is not drift"
    );
    // Same id, new name: the same cluster, renamed.
    let old =
        Topology::from_json(r#"{"clusters": [{"name": "prod", "id": "x", "egress_ip": "74.220.24.10"}]}"#).unwrap();
    let new = Topology::from_json(r#"{"clusters": [{"name": "production", "id": "x", "egress_ip": "74.220.24.10"}]}"#)
        .unwrap();
    assert!(diff(&old, &new).is_empty());
}
