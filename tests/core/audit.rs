//! Whitelist, allowlist parsing, audit and diff through the public API.

use civo_egress::{
    Allowlist, Audit, AuditReport, Change, ChangeKind, FindingKind, IpClass, Severity, Topology, TopologyError,
    Whitelist, diff,
};
use serde_json::json;

const TOPOLOGY: &str = include_str!("../fixtures/architecture-snapshot.json");

fn topology() -> Topology {
    Topology::from_json(TOPOLOGY).unwrap()
}

/// The audit of `list` for every cluster, for a partner on the internet.
fn audit(t: &Topology, list: &Allowlist) -> Result<AuditReport, TopologyError> {
    Ok(Audit::builder(t).build()?.run(list))
}

fn kinds(report: &AuditReport) -> Vec<(String, String, Severity)> {
    report.findings().iter().map(|f| (f.entry().to_owned(), f.kind().to_string(), f.severity())).collect()
}

#[test]
fn whitelist_lists_every_egress_ip_once_sorted() {
    let t = topology();
    let w = Whitelist::of(&t).unwrap();
    assert_eq!(w.to_string(), "74.220.24.10/32\n74.220.24.77/32\n");
    assert!(w.contains("74.220.24.77".parse().unwrap()));
    assert!(!w.contains("74.220.25.1".parse().unwrap()));
    assert!(w.entries()[1].reason().contains("edge-1"));
    let json = serde_json::to_value(&w).unwrap();
    assert_eq!(json[0]["cidr"], "74.220.24.10/32");
    assert_eq!(json[0]["clusters"], serde_json::json!(["prod"]));
    assert!(json[0]["reason"].is_string());
    assert_eq!(Whitelist::of_clusters(&t, &["prod"]).unwrap(), w);
    assert!(
        matches!(Whitelist::of_clusters(&t, &["nope"]), Err(TopologyError::UnknownCluster { name, .. }) if name == "nope")
    );
    assert_eq!(Whitelist::of_clusters(&t, &[] as &[&str]), Err(TopologyError::NoClusters));
    assert_eq!(w.v4(), w.entries());
    assert!(w.v6().is_empty());
    assert_eq!(w.iter().count(), 2);
    assert_eq!(w.clone().into_iter().collect::<Vec<_>>(), w.entries());
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
    let report = audit(&t, &"74.220.24.10\n74.220.24.77/32\n".parse().unwrap()).unwrap();
    assert!(report.is_ok(), "{:?}", report.findings());
    assert!(report.findings().is_empty());
}

#[test]
fn every_wrong_entry_is_flagged() {
    let t = topology();
    let list = "74.220.24.10\n74.220.25.1\n74.220.27.5\n192.168.10.4\n192.168.10.99\n10.42.3.4\n10.43.0.10\n127.0.0.1\n172.16.5.5\n8.8.8.8\n";
    let report = audit(&t, &list.parse().unwrap()).unwrap();
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
        let report = audit(&t, &entry.parse().unwrap()).unwrap();
        assert_eq!(report.findings()[0].kind(), FindingKind::TooBroad, "{entry}");
    }
    let report = audit(&t, &"10.0.0.0/8\n".parse().unwrap()).unwrap();
    let covered: Vec<FindingKind> = report.findings().iter().map(|f| f.kind()).collect();
    assert_eq!(covered, [FindingKind::TooBroad, FindingKind::MissingEgress, FindingKind::MissingEgress]);
    assert_eq!(
        report.findings()[0].reason(),
        "10.0.0.0/8 is too broad to restrict anything: it lets in pod, service and private addresses; allow the egress IPs alone, as /32 or /128"
    );
    let narrow = audit(&t, &"74.220.24.0/24\n".parse().unwrap()).unwrap();
    assert!(narrow.is_ok(), "a /24 around the egress IPs is not too broad: {:?}", narrow.findings());
    assert_eq!(kinds(&narrow), [("74.220.24.0/24".into(), "broader-than-needed".into(), Severity::Warning)]);
}

#[test]
fn audit_report_serializes_to_the_binding_shape_and_back() {
    let t = topology();
    let report = audit(&t, &"74.220.25.1\n".parse().unwrap()).unwrap();
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
    let changes: Vec<serde_json::Value> = d.changes().iter().map(|c| serde_json::to_value(c).unwrap()).collect();
    assert_eq!(
        changes,
        [
            json!({"change": "egress-changed", "cluster": "prod", "old": "74.220.24.10", "new": "74.220.24.11"}),
            json!({"change": "egress-removed", "cluster": "prod", "ip": "74.220.24.77"}),
            json!({"change": "egress-added", "cluster": "prod", "ip": "74.220.24.78"}),
            json!({"change": "load-balancer-removed", "cluster": "prod", "name": "prod-ingress", "ip": "74.220.25.1"}),
            json!({"change": "load-balancer-added", "cluster": "prod", "name": "prod-ingress", "ip": "74.220.25.2"}),
            json!({"change": "reserved-ip-removed", "name": "spare", "ip": "74.220.27.5"}),
            json!({"change": "reserved-ip-added", "name": "spare", "ip": "74.220.27.8"}),
        ]
    );
    assert!(matches!(&d.changes()[0], Change::EgressChanged { cluster, .. } if cluster == "prod"));
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
    // Same id, new name: the same cluster, renamed, and only that.
    let old =
        Topology::from_json(r#"{"clusters": [{"name": "prod", "id": "x", "egress_ip": "74.220.24.10"}]}"#).unwrap();
    let new = Topology::from_json(r#"{"clusters": [{"name": "production", "id": "x", "egress_ip": "74.220.24.10"}]}"#)
        .unwrap();
    let d = diff(&old, &new);
    assert_eq!(d.changes().len(), 1, "{:?}", d.changes());
    assert!(matches!(&d.changes()[0], Change::ClusterRenamed { old, new, .. } if old == "prod" && new == "production"));
    assert!(!d.has_egress_drift());
}

#[test]
fn a_renamed_cluster_keeps_its_load_balancers() {
    let snapshot = |name: &str| {
        Topology::from_json(&format!(
            r#"{{"clusters": [{{"name": "{name}", "id": "5e0c", "egress_ip": "74.220.24.10",
                 "load_balancers": [{{"name": "ingress", "public_ip": "74.220.25.1"}}]}},
                {{"name": "other", "egress_ip": "74.220.26.1",
                 "load_balancers": [{{"name": "ingress", "public_ip": "74.220.25.1"}}]}}]}}"#
        ))
        .unwrap()
    };
    let d = diff(&snapshot("prod"), &snapshot("production"));
    let kinds: Vec<ChangeKind> = d.changes().iter().map(Change::kind).collect();
    assert_eq!(kinds, [ChangeKind::ClusterRenamed], "{:?}", d.changes());
    // Without ids, a rename is a removal and an addition, LoadBalancers too.
    let no_id = |name: &str| snapshot(name).to_json().replace(r#""id": "5e0c","#, "");
    let d = diff(&Topology::from_json(&no_id("prod")).unwrap(), &Topology::from_json(&no_id("production")).unwrap());
    let kinds: Vec<ChangeKind> = d.changes().iter().map(Change::kind).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::ClusterRemoved,
            ChangeKind::ClusterAdded,
            ChangeKind::LoadBalancerRemoved,
            ChangeKind::LoadBalancerAdded
        ]
    );
    // A LoadBalancer under a new name is churn.
    let moved = snapshot("prod").to_json().replacen(r#""name": "ingress""#, r#""name": "gone""#, 1);
    let d = diff(&snapshot("prod"), &Topology::from_json(&moved).unwrap());
    assert_eq!(
        d.changes().iter().map(Change::kind).collect::<Vec<_>>(),
        [ChangeKind::LoadBalancerRemoved, ChangeKind::LoadBalancerAdded]
    );
}

#[test]
fn dual_stack_egress_changes_per_family() {
    let t = |egress: &str| {
        Topology::from_json(&format!(r#"{{"clusters": [{{"name": "prod", "egress_ip": {egress}}}]}}"#)).unwrap()
    };
    let v4 = t(r#""74.220.24.10""#);
    let dual = t(r#"["74.220.24.10", "2a00:1450::10"]"#);
    let moved = t(r#"["74.220.24.10", "2a00:1450::11"]"#);
    let kinds = |a: &Topology, b: &Topology| diff(a, b).changes().iter().map(Change::kind).collect::<Vec<_>>();
    assert_eq!(kinds(&v4, &dual), [ChangeKind::EgressAdded]);
    assert_eq!(kinds(&dual, &v4), [ChangeKind::EgressRemoved]);
    assert!(diff(&dual, &v4).has_egress_drift());
    assert_eq!(kinds(&dual, &moved), [ChangeKind::EgressChanged]);
    assert!(diff(&dual, &dual).is_empty());
}

#[test]
fn change_kinds_have_stable_names() {
    for &kind in ChangeKind::ALL {
        assert_eq!(kind.to_string().parse::<ChangeKind>().unwrap(), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
    }
    assert_eq!("egress-moved".parse::<ChangeKind>().unwrap_err().value(), "egress-moved");
    for &severity in Severity::ALL {
        assert_eq!(severity.to_string().parse::<Severity>().unwrap(), severity);
        assert_eq!(serde_json::to_string(&severity).unwrap(), format!("\"{severity}\""));
    }
    for kind in [
        FindingKind::TooBroad,
        FindingKind::BroaderThanNeeded,
        FindingKind::Ipv4Mapped,
        FindingKind::MissingEgress,
        FindingKind::Covers(IpClass::Pod),
    ] {
        assert_eq!(kind.to_string().parse::<FindingKind>().unwrap(), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
    }
    assert_eq!(Severity::ALL, [Severity::Error, Severity::Warning, Severity::Info]);
    assert!("gateway".parse::<FindingKind>().is_err());
    for &kind in civo_egress::AssignmentKind::ALL {
        assert_eq!(kind.to_string().parse::<civo_egress::AssignmentKind>().unwrap(), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
    }
}

#[test]
fn an_empty_topology_needs_the_explicit_opt_in() {
    let empty = Topology::from_json(r#"{"clusters": []}"#).unwrap();
    let list: Allowlist = "74.220.24.10\n10.0.0.0/8\n".parse().unwrap();
    assert_eq!(Whitelist::of(&empty), Err(TopologyError::NoClusters));
    assert_eq!(audit(&empty, &list), Err(TopologyError::NoClusters));
    assert!(Whitelist::of_allowing_empty(&empty).is_empty());
    let report = Audit::builder(&empty).allow_empty(true).build().unwrap().run(&list);
    assert!(report.clusters().is_empty());
    assert!(!report.is_ok(), "10.0.0.0/8 is still too broad");
    assert!(report.findings().iter().all(|f| f.kind() != FindingKind::MissingEgress));
    // A typo that loses every cluster, read leniently, still cannot pass an audit.
    let typo = Topology::from_json_with(
        r#"{"cluster": [{"name": "prod", "egress_ip": "74.220.24.10"}]}"#,
        civo_egress::Validation::strict().allow_unknown_fields(true),
    )
    .unwrap();
    assert_eq!(audit(&typo, &list), Err(TopologyError::NoClusters));
    assert!(TopologyError::NoClusters.to_string().contains("no cluster"));
}

#[test]
fn mapped_allowlist_cidrs_cover_the_ipv4_addresses_they_map() {
    let t = topology();
    let list: Allowlist = "::ffff:10.42.0.0/112\n::ffff:74.220.24.10\n::ffff:74.220.24.77/128\n".parse().unwrap();
    assert_eq!(list.entries()[0].net().to_string(), "10.42.0.0/16");
    assert_eq!(list.entries()[0].text(), "::ffff:10.42.0.0/112");
    assert!(list.allows("10.42.1.2".parse().unwrap()));
    let report = audit(&t, &list).unwrap();
    let want = [
        ("::ffff:10.42.0.0/112", "pod", Severity::Error),
        ("::ffff:10.42.0.0/112", "ipv4-mapped", Severity::Warning),
        ("::ffff:74.220.24.10", "ipv4-mapped", Severity::Warning),
        ("::ffff:74.220.24.77/128", "ipv4-mapped", Severity::Warning),
    ];
    let want: Vec<_> = want.iter().map(|(e, k, s)| (e.to_string(), k.to_string(), *s)).collect();
    assert_eq!(kinds(&report), want, "the egress IPs are covered in mapped form, with a warning each");
    let broad: Allowlist = "::ffff:10.0.0.0/104\n".parse().unwrap();
    assert_eq!(audit(&t, &broad).unwrap().findings()[0].kind(), FindingKind::TooBroad);
}

#[test]
fn allowlists_iterate_extend_collect_and_round_trip_through_serde() {
    let t = topology();
    let whitelist = Whitelist::of(&t).unwrap();
    let from_whitelist = Allowlist::from(&whitelist);
    assert!(audit(&t, &from_whitelist).unwrap().is_ok());
    let from_ips: Allowlist = whitelist.iter().map(|e| e.ip()).collect();
    assert_eq!(from_ips, from_whitelist);
    let mut grown = Allowlist::default();
    grown.extend(whitelist.cidrs());
    assert_eq!(grown, from_whitelist);
    assert_eq!((&grown).into_iter().count(), 2);
    assert_eq!(grown.iter().map(|e| e.net()).collect::<Vec<_>>(), whitelist.cidrs().collect::<Vec<_>>());
    assert_eq!(grown.clone().into_iter().count(), 2);

    let parsed: Allowlist = "# partner\n74.220.24.10 # prod\n\n::ffff:10.0.0.0/104\n".parse().unwrap();
    let json = serde_json::to_value(&parsed).unwrap();
    assert_eq!(json, json!(["74.220.24.10", "::ffff:10.0.0.0/104"]));
    let back: Allowlist = serde_json::from_value(json).unwrap();
    assert_eq!(back, parsed);
    assert_eq!(back.entries()[1].net(), parsed.entries()[1].net());
    // The same rules as the text parser.
    assert!(serde_json::from_str::<Allowlist>(r#"["10.0.0.1/8"]"#).is_err());
    assert!(serde_json::from_str::<Allowlist>(r#"["your.cluster.ip.address"]"#).is_err());
    let entry: civo_egress::AllowlistEntry = serde_json::from_str(r#""74.220.24.10""#).unwrap();
    assert_eq!(entry.to_string().parse::<civo_egress::AllowlistEntry>().unwrap(), entry);
    assert!(serde_json::from_str::<civo_egress::AllowlistEntry>(r#""10.0.0.1/8""#).is_err());
}

#[test]
fn whitelists_check_their_invariants_when_deserialized() {
    let t = topology();
    let w = Whitelist::of(&t).unwrap();
    let json = serde_json::to_string(&w).unwrap();
    assert_eq!(serde_json::from_str::<Whitelist>(&json).unwrap(), w);
    let entry = |cidr: &str| json!({"cidr": cidr, "clusters": ["prod"], "reason": "r"});
    let bad = [
        json!([entry("10.0.0.0/8")]),
        json!([entry("74.220.24.10/32"), entry("74.220.24.10/32")]),
        json!([{"cidr": "74.220.24.10/32", "clusters": [], "reason": "r"}]),
        json!([{"cidr": "74.220.24.10/32", "clusters": ["prod"], "reason": ""}]),
        json!([{"cidr": "74.220.24.10/32", "clusters": ["prod"]}]),
        json!([{"cidr": "74.220.24.10/32", "clusters": ["prod"], "reason": "r", "extra": 1}]),
    ];
    for value in bad {
        assert!(serde_json::from_value::<Whitelist>(value.clone()).is_err(), "{value}");
    }
    assert!(
        serde_json::from_value::<civo_egress::WhitelistEntry>(entry("10.0.0.0/8")).is_err(),
        "a /8 is not an entry"
    );
    let unsorted: Whitelist =
        serde_json::from_value(json!([entry("2a00:1450::10/128"), entry("74.220.24.10/32")])).unwrap();
    assert_eq!(unsorted.v4().len(), 1);
    assert_eq!(unsorted.entries()[0].cidr().to_string(), "74.220.24.10/32", "sorted on the way in");
}

/// Three clusters: prod in two regions (one name, two ids) and a staging
/// cluster whose egress was never measured (Cilium); plus one left out.
const ACCOUNT: &str = r#"{"clusters": [
  {"name": "prod", "id": "5e0c", "region": "LON1", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24",
   "network": {"id": "n-lon"}, "nodes": [{"name": "a", "private_ip": "192.168.1.4"}, {"name": "b", "private_ip": "192.168.1.5"}],
   "load_balancers": [{"name": "ingress", "public_ip": "74.220.24.20"}]},
  {"name": "prod", "id": "9b1d", "region": "FRA1", "egress_ip": "74.220.26.44", "network_cidr": "192.168.2.0/24",
   "network": {"id": "n-fra"}, "nodes": [{"name": "c", "private_ip": "192.168.2.4"}]},
  {"name": "staging", "id": "77aa", "region": "LON1", "egress_ip": "74.220.28.5",
   "caveats": [{"kind": "egress-unmeasured", "message": "k3s/cilium: verify it by observing"}]}],
  "left_out": [{"name": "new", "id": "c0de", "region": "LON1", "kind": "not-active", "reason": "BUILDING, no master_ip"}]}"#;

fn account() -> Topology {
    Topology::from_json(ACCOUNT).unwrap()
}

fn entries(report: &AuditReport) -> Vec<(String, FindingKind)> {
    report.findings().iter().map(|f| (f.entry().to_owned(), f.kind())).collect()
}

#[test]
fn a_partner_of_one_cluster_is_audited_for_that_cluster_alone() {
    let t = account();
    let partner: Allowlist = "74.220.24.10  # LON1/prod calls this partner\n".parse().unwrap();
    // For every cluster: the other egress IPs are missing, and staging's
    // doubt and the left-out cluster fail the audit.
    let every = audit(&t, &partner).unwrap();
    assert_eq!(
        entries(&every),
        [
            ("74.220.26.44/32".into(), FindingKind::MissingEgress),
            ("74.220.28.5/32".into(), FindingKind::MissingEgress),
            ("LON1/staging".into(), FindingKind::UnverifiedEgress),
            ("LON1/new".into(), FindingKind::UnverifiedEgress),
        ]
    );
    assert_eq!(every.clusters(), ["LON1/prod", "FRA1/prod", "LON1/staging"]);
    // Each way of naming the one cluster it serves: its id, REGION/NAME in any case.
    for name in ["5e0c", "LON1/prod", "lon1/prod"] {
        let report = Audit::builder(&t).cluster(name).build().unwrap().run(&partner);
        assert!(report.is_ok() && report.findings().is_empty(), "{name}: {:?}", report.findings());
        assert_eq!(report.clusters(), ["LON1/prod"], "{name}");
    }
    // Two clusters, named twice: each once, in the order given.
    let two = Audit::builder(&t).clusters(["FRA1/prod", "5e0c", "9b1d"]).build().unwrap();
    assert_eq!(two.clusters(), ["FRA1/prod", "LON1/prod"]);
    assert_eq!(entries(&two.run(&partner)), [("74.220.26.44/32".into(), FindingKind::MissingEgress)]);
    // A name unique in the account selects; staging's doubt is its own.
    let staging = Audit::builder(&t).cluster("staging").build().unwrap().run(&"74.220.28.5\n".parse().unwrap());
    assert_eq!(entries(&staging), [("LON1/staging".into(), FindingKind::UnverifiedEgress)]);
    assert!(!staging.is_ok(), "never ok when the snapshot does not know");
}

#[test]
fn a_selection_still_flags_what_lets_in_any_cluster_s_own_addresses() {
    let t = account();
    let list: Allowlist = "74.220.24.10\n74.220.26.44\n10.42.0.0/16\n192.168.2.4\n".parse().unwrap();
    let report = Audit::builder(&t).cluster("LON1/prod").build().unwrap().run(&list);
    let got: Vec<(String, FindingKind, Vec<String>)> =
        report.findings().iter().map(|f| (f.entry().to_owned(), f.kind(), f.clusters().to_vec())).collect();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            ("10.42.0.0/16".into(), FindingKind::Covers(IpClass::Pod), names(&["prod", "prod", "staging"])),
            ("192.168.2.4".into(), FindingKind::Covers(IpClass::Node), names(&["prod"])),
        ],
        "another cluster's egress IP is let in without a finding; its pods and nodes are not"
    );
}

#[test]
fn a_name_that_selects_no_one_cluster_is_an_error() {
    let t = account();
    let build = |name: &str| Audit::builder(&t).cluster(name).build().map(|a| a.clusters().to_vec());
    assert!(matches!(build("nope"), Err(TopologyError::UnknownCluster { name, .. }) if name == "nope"));
    assert!(matches!(
        build("prod"),
        Err(TopologyError::AmbiguousCluster { candidates, .. }) if candidates == ["LON1/prod (5e0c)", "FRA1/prod (9b1d)"]
    ));
    assert!(matches!(build("new"), Err(TopologyError::ClusterLeftOut { .. })));
    assert_eq!(Audit::builder(&t).clusters([] as [&str; 0]).build().map(|_| ()), Err(TopologyError::NoClusters));
    let none = Audit::builder(&t).clusters([] as [&str; 0]).allow_empty(true).build().unwrap();
    assert!(none.clusters().is_empty() && none.whitelist().is_empty());
    let report = none.run(&"10.42.0.0/16\n".parse().unwrap());
    assert_eq!(entries(&report), [("10.42.0.0/16".into(), FindingKind::Covers(IpClass::Pod))]);
}

#[test]
fn clusters_and_destination_combine() {
    let t = account();
    let database = "192.168.1.50".parse::<std::net::IpAddr>().unwrap();
    // Both prods are inside no one network with the database... LON1/prod's is.
    let lon = Audit::builder(&t).cluster("5e0c").destination(database).build().unwrap();
    assert_eq!(lon.whitelist().to_string(), "192.168.1.4/32\n192.168.1.5/32\n");
    let report = lon.run(&"192.168.1.4\n".parse().unwrap());
    assert_eq!(entries(&report), [("192.168.1.5/32".into(), FindingKind::MissingNode)]);
    assert!(lon.run(&"192.168.1.4\n192.168.1.5\n".parse().unwrap()).is_ok());
    // FRA1/prod cannot reach it privately: its egress IP, with the same clusters selected.
    let fra = Audit::builder(&t).cluster("9b1d").destination(database).build().unwrap();
    assert_eq!(fra.whitelist().to_string(), "74.220.26.44/32\n");
    // A pod address of a selected cluster is no destination.
    let pod = Audit::builder(&t).cluster("5e0c").destination("10.42.0.9".parse::<std::net::IpAddr>().unwrap()).build();
    assert!(matches!(pod, Err(TopologyError::DestinationInsideCluster { .. })));
}

#[test]
fn a_too_broad_entry_is_one_finding() {
    let t = topology();
    for entry in ["0.0.0.0/0", "::/0", "::ffff:0:0/96", "74.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "fc00::/7"] {
        let report = audit(&t, &entry.parse().unwrap()).unwrap();
        let about: Vec<FindingKind> =
            report.findings().iter().filter(|f| f.entry() == entry).map(|f| f.kind()).collect();
        assert_eq!(about, [FindingKind::TooBroad], "{entry}: {:?}", report.findings());
        assert_eq!(report.findings()[0].severity(), Severity::Error);
    }
    let all = audit(&t, &"0.0.0.0/0\n".parse().unwrap()).unwrap();
    assert_eq!(all.findings().len(), 1, "it lets in the egress IPs too: nothing is missing");
    let reason = all.findings()[0].reason();
    for class in ["load-balancer", "reserved", "node", "pod", "service", "special", "private", "public"] {
        assert!(reason.contains(class), "{class}: {reason}");
    }
}

#[test]
fn an_entry_around_the_egress_ip_is_broader_than_needed() {
    let t = account();
    let prod = Audit::builder(&t).cluster("LON1/prod").build().unwrap();
    let report = prod.run(&"74.220.24.0/28\n".parse().unwrap());
    let [finding] = report.findings() else { panic!("{:?}", report.findings()) };
    assert_eq!((finding.kind(), finding.severity()), (FindingKind::BroaderThanNeeded, Severity::Warning));
    assert_eq!(finding.clusters(), ["prod"]);
    assert_eq!(finding.line(), Some(1));
    assert_eq!(
        finding.reason(),
        "74.220.24.0/28 lets in 15 other addresses beside egress IP 74.220.24.10 (likely other tenants'): allow it alone, as 74.220.24.10/32"
    );
    assert!(report.is_ok(), "a warning does not fail the audit");
    // A /24 also holds the ingress: an error beside the warning, no public info.
    let wide = prod.run(&"74.220.24.0/24\n".parse().unwrap());
    assert_eq!(
        entries(&wide),
        [
            ("74.220.24.0/24".into(), FindingKind::Covers(IpClass::LoadBalancer)),
            ("74.220.24.0/24".into(), FindingKind::BroaderThanNeeded),
        ]
    );
    // The exact address, or a network around no egress IP of the selection, is not.
    let table = [
        ("74.220.24.10/32", vec![]),
        ("74.220.26.0/24", vec![FindingKind::Covers(IpClass::Public)]),
        ("8.8.8.0/24", vec![FindingKind::Covers(IpClass::Public)]),
    ];
    for (entry, want) in table {
        let report = prod.run(&format!("74.220.24.10\n{entry}\n").parse().unwrap());
        let got: Vec<FindingKind> =
            report.findings().iter().filter(|f| f.line() == Some(2)).map(|f| f.kind()).collect();
        assert_eq!(got, want, "{entry}");
    }
    // For a destination inside the network, the node IPs are what it is there for.
    let database = Audit::builder(&t).cluster("5e0c").destination("192.168.1.50".parse::<std::net::IpAddr>().unwrap());
    let report = database.build().unwrap().run(&"192.168.1.0/29\n".parse().unwrap());
    let broader = report.findings().iter().find(|f| f.kind() == FindingKind::BroaderThanNeeded).unwrap();
    assert!(broader.reason().contains("beside node IPs 192.168.1.4, 192.168.1.5"), "{}", broader.reason());
}

#[test]
fn an_ipv4_mapped_entry_is_a_warning_that_names_the_ipv4_form() {
    let t = account();
    let prod = Audit::builder(&t).cluster("LON1/prod").build().unwrap();
    let report = prod.run(&"# partner\n::ffff:74.220.24.10/128\n".parse().unwrap());
    let [finding] = report.findings() else { panic!("{:?}", report.findings()) };
    assert_eq!(
        (finding.entry(), finding.line(), finding.kind(), finding.severity()),
        ("::ffff:74.220.24.10/128", Some(2), FindingKind::Ipv4Mapped, Severity::Warning)
    );
    assert_eq!(finding.clusters(), ["prod"]);
    assert!(finding.reason().ends_with("write 74.220.24.10/32"), "{}", finding.reason());
    assert!(finding.reason().contains("nftables `ip6 saddr`"), "{}", finding.reason());
    assert!(report.is_ok(), "an application allowlist matches it: counted, and warned");
    // Mapped and around the egress IP: both warnings, in kind order.
    let both = prod.run(&"::ffff:74.220.24.0/124\n".parse().unwrap());
    let kinds: Vec<FindingKind> = both.findings().iter().map(|f| f.kind()).collect();
    assert_eq!(kinds, [FindingKind::BroaderThanNeeded, FindingKind::Ipv4Mapped]);
    // Plain IPv6 is no mapped form.
    let v6 = prod.run(&"74.220.24.10\n2a00:1450::10\n".parse().unwrap());
    assert!(v6.findings().iter().all(|f| f.kind() != FindingKind::Ipv4Mapped), "{:?}", v6.findings());
}

#[test]
fn the_report_json_names_the_audited_clusters() {
    let t = account();
    let report = Audit::builder(&t)
        .cluster("LON1/prod")
        .build()
        .unwrap()
        .run(&"74.220.24.0/28\n74.220.24.10\n".parse().unwrap());
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["ok"], true);
    assert_eq!(value["clusters"], json!(["LON1/prod"]));
    assert_eq!(value["findings"][0]["kind"], "broader-than-needed");
    assert_eq!(value["findings"][0]["severity"], "warning");
    assert_eq!(value["findings"][0]["clusters"], json!(["prod"]));
    assert_eq!(serde_json::from_value::<AuditReport>(value).unwrap(), report);
    let old: AuditReport = serde_json::from_str(r#"{"ok": true, "findings": []}"#).unwrap();
    assert!(old.clusters().is_empty(), "a report written before clusters reads with none");
    assert_eq!(report.count(Severity::Warning), 1);
    assert_eq!(report.count(Severity::Error), 0);
}

#[test]
fn an_audit_is_built_once_and_shared() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Audit<'static>>();
    assert_send_sync::<civo_egress::AuditBuilder<'static>>();
    let t = topology();
    let audit = Audit::builder(&t).build().unwrap();
    let debug = format!("{audit:?}");
    assert!(debug.starts_with("Audit { clusters: [\"LON1/prod\"]"), "{debug}");
    let lists = ["74.220.24.10\n74.220.24.77\n", "74.220.24.10\n"];
    let oks: Vec<bool> = lists.iter().map(|l| audit.clone().run(&l.parse().unwrap()).is_ok()).collect();
    assert_eq!(oks, [true, false]);
}
