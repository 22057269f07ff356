//! The exact snapshot JSON `to_json()` writes, pinned in
//! `tests/fixtures/golden-snapshot.json`: every optional field set, a
//! dual-stack cluster, LoadBalancers outside any cluster, reserved IPs with
//! and without an assignment, a public-IP pool with a pending node. A change to this file is a change of the
//! binding format: additions only.

use std::net::IpAddr;

use civo_egress::ipnet::IpNet;
use civo_egress::{
    Assignment, AssignmentKind, Cluster, Coverage, LeftOut, LoadBalancer, NetworkId, Node, PublicIpPool, ReservedIp,
    Subject, Topology, Validation, Warning, WarningKind,
};

const GOLDEN: &str = include_str!("../fixtures/golden-snapshot.json");
/// The same account as written before `format_version`, network identities,
/// caveats and left-out clusters existed: it must read unchanged.
const BEFORE: &str = include_str!("../fixtures/golden-snapshot-before-format-version.json");

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn full() -> Topology {
    build(true).with_left_out(vec![
        LeftOut::new("new", WarningKind::NoEgressIp, "status BUILDING and no master_ip yet")
            .unwrap()
            .identified(Some("0d1e2f30-aaaa-4bbb-8ccc-0123456789ab".into()), Some("LON1".into())),
    ])
}

/// `full()` without what the format added in version 1's second edition.
fn before() -> Topology {
    build(false)
}

fn build(v1: bool) -> Topology {
    let mut prod = Cluster::builder("prod")
        .id("5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11")
        .region("LON1")
        .egress_ip(ip("74.220.24.10"))
        .network_cidr(net("192.168.10.0/24"))
        .pod_cidr(net("10.42.0.0/16"))
        .service_cidr(net("10.43.0.0/16"))
        .node(Node::new("gw", ip("192.168.10.3")).unwrap().with_public_ip(ip("74.220.24.10")))
        .node(Node::new("edge-1", ip("192.168.10.6")).unwrap().with_public_ip(ip("74.220.24.77")))
        .node(Node::new("w-1", ip("192.168.10.4")).unwrap())
        .load_balancer(
            LoadBalancer::new("prod-ingress", ip("74.220.25.1")).unwrap().with_private_ip(ip("192.168.10.2")),
        )
        .load_balancer(LoadBalancer::new("prod-api", ip("74.220.25.9")).unwrap())
        .public_ip_pool(PublicIpPool::new("e7b2c1d0-4f3a-4b8e-9c1d-2a3b4c5d6e7f", 1).unwrap());
    if v1 {
        prod = prod
            .network(NetworkId::new("28244c7d-b1b9-48cf-9727-aebb3493aaac", Some("default".into())).unwrap())
            .caveat(
                Warning::new(WarningKind::PublicIpPending, "1 node without a public IP yet")
                    .about(Subject::Pool("e7b2c1d0-4f3a-4b8e-9c1d-2a3b4c5d6e7f".into())),
            )
            .caveat(Warning::new(WarningKind::ReservedIpsUnknown, "the API key may not list reserved IPs (HTTP 403)"));
    }
    let prod = prod.build().unwrap();
    let dual = Cluster::builder("dual")
        .id("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d")
        .region("FRA1")
        .egress_ip(ip("74.220.26.44"))
        .egress_ip(ip("2a00:1450::10"))
        .network_cidr(net("192.168.20.0/24"))
        .network_cidr(net("fd12:3456::/64"))
        .pod_cidr(net("10.42.0.0/16"))
        .pod_cidr(net("fd00:42::/56"))
        .service_cidr(net("10.43.0.0/16"))
        .service_cidr(net("fd00:43::/112"))
        .node(Node::new("d-1", ip("192.168.20.3")).unwrap())
        .node(Node::new("d-6", ip("fd12:3456::6")).unwrap().with_public_ip(ip("2a00:1450::77")))
        .build()
        .unwrap();
    let standalone = vec![
        LoadBalancer::new("legacy-app-lb", ip("74.220.28.1")).unwrap().with_private_ip(ip("192.168.30.2")),
        LoadBalancer::new("v6-lb", ip("2a00:1450::200")).unwrap(),
    ];
    let reserved = vec![
        ReservedIp::new("prod-api-ip", ip("74.220.25.9"))
            .unwrap()
            .with_assignment(Assignment::new(AssignmentKind::LoadBalancer, "prod-api").unwrap()),
        ReservedIp::new("bastion-ip", ip("74.220.27.6"))
            .unwrap()
            .with_assignment(Assignment::new(AssignmentKind::Instance, "bastion").unwrap()),
        ReservedIp::new("spare", ip("74.220.27.5")).unwrap(),
    ];
    Topology::new(vec![prod, dual], standalone, reserved).unwrap()
}

#[test]
fn to_json_writes_exactly_the_golden_snapshot() {
    let written = full().to_json();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden-snapshot.json"), &written).unwrap();
    }
    assert_eq!(written, GOLDEN.trim_end_matches('\n'), "run with UPDATE_GOLDEN=1 only for an intended format change");
}

#[test]
fn the_golden_snapshot_reads_back_to_the_same_topology() {
    let read = Topology::from_json(GOLDEN).unwrap();
    assert_eq!(read, full());
    assert_eq!(serde_json::from_str::<Topology>(GOLDEN).unwrap(), full());
}

#[test]
fn a_snapshot_written_before_the_additions_reads_unchanged() {
    assert!(!BEFORE.contains("format_version"), "the old golden file is the old format");
    let read = Topology::from_json(BEFORE).unwrap();
    assert_eq!(read, before());
    assert!(
        read.left_out().is_empty() && read.clusters().iter().all(|c| c.caveats().is_empty() && c.network().is_none())
    );
    assert!(read.warnings().is_empty(), "{:?}", read.warnings());
}

#[test]
fn the_additions_are_optional_fields_written_only_when_set() {
    let written: serde_json::Value = serde_json::from_str(&full().to_json()).unwrap();
    assert_eq!(written["format_version"], civo_egress::FORMAT_VERSION);
    assert_eq!(written["left_out"][0]["kind"], "no-egress-ip");
    assert_eq!(written["clusters"][0]["network"]["name"], "default");
    assert_eq!(written["clusters"][0]["caveats"][0]["pool"], "e7b2c1d0-4f3a-4b8e-9c1d-2a3b4c5d6e7f");
    assert!(written["clusters"][0]["caveats"][0].get("cluster").is_none(), "a caveat's cluster is its enclosing one");
    assert!(written["clusters"][1].get("caveats").is_none() && written["clusters"][1].get("network").is_none());
    let full = full();
    assert_eq!(full.clusters()[0].caveats()[0].cluster(), Some("LON1/prod"), "named REGION/NAME");
}

/// A snapshot with the cluster CA fingerprints discovery records: the
/// field is written only when set, so the files above stay unchanged.
const WITH_CA: &str = include_str!("../fixtures/golden-snapshot-ca-fingerprint.json");

fn with_ca() -> Topology {
    let ca = "sha256:7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429";
    let prod = Cluster::builder("prod")
        .id("5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11")
        .region("LON1")
        .egress_ip(ip("74.220.24.10"))
        .network_cidr(net("192.168.10.0/24"))
        .node(Node::new("gw", ip("192.168.10.3")).unwrap().with_public_ip(ip("74.220.24.10")))
        .network(NetworkId::new("28244c7d-b1b9-48cf-9727-aebb3493aaac", Some("default".into())).unwrap())
        .ca_fingerprint(ca.parse().unwrap())
        .build()
        .unwrap();
    let old = Cluster::builder("old").region("LON1").egress_ip(ip("74.220.26.44")).build().unwrap();
    Topology::new(vec![prod, old], vec![], vec![]).unwrap()
}

#[test]
fn a_cluster_ca_fingerprint_is_written_when_known_and_reads_back() {
    let written = with_ca().to_json();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden-snapshot-ca-fingerprint.json"),
            &written,
        )
        .unwrap();
    }
    assert_eq!(written, WITH_CA.trim_end_matches('\n'), "run with UPDATE_GOLDEN=1 only for an intended format change");
    let read = Topology::from_json(WITH_CA).unwrap();
    assert_eq!(read, with_ca());
    assert_eq!(
        read.clusters()[0].ca_fingerprint().map(|f| f.to_string()).as_deref(),
        Some("sha256:7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429")
    );
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert!(value["clusters"][1].get("ca_fingerprint").is_none(), "absent when unknown, never null");
    assert!(!GOLDEN.contains("ca_fingerprint") && !BEFORE.contains("ca_fingerprint"));
    assert!(full().clusters().iter().all(|c| c.ca_fingerprint().is_none()));
}

#[test]
fn a_bad_ca_fingerprint_names_its_field_and_what_is_wrong() {
    let snapshot = |value: &str| {
        format!(r#"{{"clusters": [{{"name": "prod", "egress_ip": "74.220.24.10", "ca_fingerprint": {value}}}]}}"#)
    };
    assert_eq!(Topology::from_json(&snapshot("null")).unwrap().clusters()[0].ca_fingerprint(), None);
    let hex = "7E8ED5C64B37EB24E09A77B7A71470297B8E4F2C9EAA290834DAD87A4AC6D429";
    for (value, why) in [
        (format!("\"sha256:{hex}\""), "an uppercase hex digit (write them in lowercase)"),
        (format!("\"{}\"", hex.to_lowercase()), "no sha256: prefix"),
        ("\"sha256:7e8e\"".to_owned(), "4 hex digits, not 64"),
    ] {
        let error = Topology::from_json(&snapshot(&value)).unwrap_err();
        assert_eq!(error.field(), Some("clusters[0].ca_fingerprint"), "{error}");
        assert_eq!(
            error.to_string(),
            format!("clusters[0].ca_fingerprint: {value}: {why} (expected \"sha256:\" and 64 lowercase hex digits)")
        );
    }
    let number = Topology::from_json(&snapshot("42")).unwrap_err();
    assert!(number.to_string().contains("line 1"), "{number}");
    let typo = Topology::from_json(&snapshot("null").replace("ca_fingerprint", "ca_fingerprints")).unwrap_err();
    assert_eq!(typo.to_string(), "clusters[0].ca_fingerprints: unknown field (did you mean ca_fingerprint?)");
}

/// A snapshot that records the selection discovery was made with
/// (`discover --cluster prod --region LON1 --region FRA1`): the field is
/// written only when known, so the files above stay unchanged.
const WITH_SELECTION: &str = include_str!("../fixtures/golden-snapshot-selection.json");

fn with_selection() -> Topology {
    let prod = Cluster::builder("prod")
        .id("5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11")
        .region("LON1")
        .egress_ip(ip("74.220.24.10"))
        .build()
        .unwrap();
    let fra = Cluster::builder("prod")
        .id("9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d")
        .region("FRA1")
        .egress_ip(ip("74.220.26.44"));
    let coverage = Coverage::new(["LON1", "FRA1"]).unwrap().with_clusters(["prod"]).unwrap();
    Topology::new(vec![prod, fra.build().unwrap()], vec![], vec![]).unwrap().with_coverage(coverage)
}

#[test]
fn the_selection_is_written_when_known_and_reads_back() {
    let written = with_selection().to_json();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden-snapshot-selection.json"), &written)
            .unwrap();
    }
    assert_eq!(
        written,
        WITH_SELECTION.trim_end_matches('\n'),
        "run with UPDATE_GOLDEN=1 only for an intended format change"
    );
    let read = Topology::from_json(WITH_SELECTION).unwrap();
    assert_eq!(read, with_selection());
    assert_eq!(serde_json::from_str::<Topology>(WITH_SELECTION).unwrap(), with_selection());
    let coverage = read.coverage().unwrap();
    assert_eq!(
        (coverage.clusters(), coverage.regions()),
        (&["prod".to_owned()][..], &["LON1".to_owned(), "FRA1".to_owned()][..])
    );
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["selection"], serde_json::json!({"clusters": ["prod"], "regions": ["LON1", "FRA1"]}));
    // Absent when unknown, never null; `clusters` absent when every cluster.
    assert!(!GOLDEN.contains("selection") && !BEFORE.contains("selection") && !WITH_CA.contains("selection"));
    assert_eq!((full().coverage(), before().coverage()), (None, None));
    let every = full().with_coverage(Coverage::new(["LON1", "FRA1"]).unwrap());
    let value: serde_json::Value = serde_json::from_str(&every.to_json()).unwrap();
    assert_eq!(value["selection"], serde_json::json!({"regions": ["LON1", "FRA1"]}));
    assert_eq!(Topology::from_json(&every.to_json()).unwrap(), every);
    assert_ne!(every, full(), "what a snapshot covers is part of it");
    // Kept when the left-out clusters are recorded after it, and the other way round.
    let coverage = with_selection().coverage().cloned().unwrap();
    assert_eq!(with_selection().with_left_out(vec![]).coverage(), Some(&coverage));
    assert_eq!(full().with_coverage(coverage.clone()).left_out(), full().left_out());
}

#[test]
fn a_bad_selection_names_its_field_and_what_is_wrong() {
    let snapshot = |selection: &str| format!(r#"{{"selection": {selection}, "clusters": []}}"#);
    assert_eq!(Topology::from_json(&snapshot("null")).unwrap().coverage(), None, "null is absent");
    let empty = Topology::from_json(&snapshot(r#"{"regions": [], "clusters": null}"#)).unwrap();
    assert_eq!(empty.coverage(), Some(&Coverage::new(Vec::<String>::new()).unwrap()), "no region read: covers nothing");
    for (selection, error) in [
        (r#"{"cluster": ["prod"], "regions": ["LON1"]}"#, "selection.cluster: unknown field (did you mean clusters?)"),
        (r#"{"clusters": ["prod"], "region": ["LON1"]}"#, "selection.region: unknown field (did you mean regions?)"),
        (r#"{"clusters": ["prod"]}"#, "selection.regions: missing or empty"),
        (r#"{"regions": ["LON1", " "]}"#, "selection.regions[1]: missing or empty"),
        (r#"{"regions": ["LON1"], "clusters": [""]}"#, "selection.clusters[0]: missing or empty"),
    ] {
        let e = Topology::from_json(&snapshot(selection)).unwrap_err();
        assert_eq!(e.to_string(), error, "{selection}");
    }
    let typo = Topology::from_json(r#"{"selections": {"regions": ["LON1"]}, "clusters": []}"#).unwrap_err();
    assert_eq!(typo.to_string(), "selections: unknown field (did you mean selection?)");
    let wrong = Topology::from_json(&snapshot(r#"{"regions": "LON1"}"#)).unwrap_err();
    assert_eq!(wrong.field(), Some("selection"), "{wrong}");
    // Unknown fields inside it are accepted as elsewhere: when asked, and from a newer format.
    let more = snapshot(r#"{"regions": ["LON1"], "tags": ["x"]}"#);
    let lenient = Topology::from_json_with(&more, Validation::strict().allow_unknown_fields(true)).unwrap();
    assert_eq!(lenient.coverage(), Some(&Coverage::new(["LON1"]).unwrap()));
    let newer = more.replacen('{', r#"{"format_version": 99, "#, 1);
    assert_eq!(Topology::from_json(&newer).unwrap().coverage(), Some(&Coverage::new(["LON1"]).unwrap()));
    // A Coverage on its own reads through the same checks.
    let alone: Coverage = serde_json::from_str(r#"{"clusters": ["prod"], "regions": ["LON1"]}"#).unwrap();
    assert_eq!(alone, Coverage::new(["LON1"]).unwrap().with_clusters(["prod"]).unwrap());
    assert!(serde_json::from_str::<Coverage>(r#"{"regions": ["LON1"], "cluster": []}"#).is_err());
    assert!(Coverage::new([""]).is_err() && Coverage::new(["LON1"]).unwrap().with_clusters([" "]).is_err());
}
