//! Compile-time facts about the public core types: `Send`, `Sync`, and the
//! std traits a value type is expected to have.

use civo_egress::{
    AllowlistEntry, AllowlistError, Assignment, AssignmentKind, AuditReport, Change, ChangeKind, Classification,
    Cluster, ClusterBuilder, Finding, FindingKind, IpClass, LoadBalancer, Node, OwnedClassification, ParseNameError,
    ReservedIp, Severity, Topology, TopologyDiff, TopologyError, Validation, Whitelist, WhitelistEntry,
};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_value<T: Clone + std::fmt::Debug + PartialEq + Eq + std::hash::Hash + Send + Sync + 'static>() {}
fn assert_error<T: std::error::Error + Clone + PartialEq + Send + Sync + 'static>() {}
fn assert_name<T: Copy + Ord + std::fmt::Display + std::str::FromStr<Err = ParseNameError>>() {}

const _: () = {
    let _ = assert_send_sync::<Topology>;
    let _ = assert_send_sync::<Classification<'static>>;
    let _ = assert_send_sync::<ClusterBuilder>;
    let _ = assert_send_sync::<civo_egress::Allowlist>;
};

#[test]
fn public_core_types_are_send_sync_values() {
    assert_send_sync::<Topology>();
    assert_send_sync::<Classification<'static>>();
    assert_send_sync::<ClusterBuilder>();
    assert_value::<Cluster>();
    assert_value::<Node>();
    assert_value::<LoadBalancer>();
    assert_value::<ReservedIp>();
    assert_value::<Assignment>();
    assert_value::<OwnedClassification>();
    assert_value::<Whitelist>();
    assert_value::<WhitelistEntry>();
    assert_value::<civo_egress::Allowlist>();
    assert_value::<AllowlistEntry>();
    assert_value::<AuditReport>();
    assert_value::<Finding>();
    assert_value::<TopologyDiff>();
    assert_value::<Change>();
    assert_value::<Validation>();
    assert_value::<Topology>();
    assert_error::<TopologyError>();
    assert_error::<AllowlistError>();
    assert_error::<ParseNameError>();
    assert_name::<IpClass>();
    assert_name::<Severity>();
    assert_name::<FindingKind>();
    assert_name::<AssignmentKind>();
    assert_name::<ChangeKind>();
}

#[test]
fn ipnet_is_re_exported_for_the_signatures() {
    let net: civo_egress::ipnet::IpNet = "10.42.0.0/16".parse().unwrap();
    assert_eq!(civo_egress::K3S_POD_CIDR, net);
}

#[test]
fn debug_is_compact() {
    let topology = Topology::from_json(include_str!("../fixtures/architecture-snapshot.json")).unwrap();
    let whitelist = Whitelist::of(&topology).unwrap();
    assert_eq!(format!("{whitelist:?}"), "[74.220.24.10/32, 74.220.24.77/32]");
    assert_eq!(format!("{:?}", whitelist.entries()[0]), r#"WhitelistEntry(74.220.24.10/32 ["prod"])"#);
    let entry: AllowlistEntry = "10.0.0.0/8".parse().unwrap();
    assert_eq!(format!("{entry:?}"), "AllowlistEntry(line 0: 10.0.0.0/8)");
    let node = &topology.clusters()[0].nodes()[0];
    assert_eq!(format!("{node:?}"), "Node(gw 192.168.10.3 public 74.220.24.10)");
    assert!(format!("{topology:?}").len() < 400);
}
