//! What the snapshot knows beside its resources, and what every output
//! built on it must then say: caveats, identities, left-out clusters, the
//! format version, and the topology's own contradictions.

use std::net::IpAddr;

use civo_egress::{
    Allowlist, Audit, FindingKind, IpClass, Severity, Topology, TopologyError, Validation, WarningKind, Whitelist,
    WhitelistFormat,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn kinds(t: &Topology) -> Vec<WarningKind> {
    t.warnings().iter().map(|w| w.kind()).collect()
}

/// One cluster with `extra` spliced into it.
fn one(extra: &str) -> Topology {
    Topology::from_json(&format!(
        r#"{{"clusters": [{{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
            "nodes": [{{"name": "w-1", "private_ip": "192.168.1.4"}}]{extra}}}]}}"#
    ))
    .unwrap()
}

#[test]
fn contradictions_are_warnings_not_errors() {
    let cases: &[(&str, &[WarningKind])] = &[
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151", "network_cidr": "10.42.0.0/24"}]}"#,
            &[WarningKind::NetworkOverlap],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151", "network_cidr": "10.0.0.0/8"}]}"#,
            &[WarningKind::NetworkOverlap, WarningKind::NetworkOverlap],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
             "nodes": [{"name": "w", "private_ip": "192.168.2.4"}]}]}"#,
            &[WarningKind::NodeOutsideNetwork],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151",
             "nodes": [{"name": "w", "private_ip": "212.2.250.4"}]}]}"#,
            &[WarningKind::PublicPrivateIp],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151",
             "nodes": [{"name": "w", "private_ip": "192.168.1.4"}, {"name": "w", "private_ip": "192.168.1.5"}]}]}"#,
            &[WarningKind::DuplicateNode],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151",
             "load_balancers": [{"name": "lb", "public_ip": "212.2.253.151"}]}]}"#,
            &[WarningKind::EgressCollision],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151"}],
             "reserved_ips": [{"name": "r", "ip": "212.2.253.151"}]}"#,
            &[WarningKind::EgressCollision],
        ),
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151", "nodes": [{"name": "w", "private_ip": "192.168.1.4"}]}],
             "reserved_ips": [{"name": "r", "ip": "212.2.253.9", "assigned_to": {"type": "instance", "name": "w"}}]}"#,
            &[WarningKind::ReservedOnNode],
        ),
        // Consistent: no warning at all.
        (
            r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
             "nodes": [{"name": "w", "private_ip": "192.168.1.4"}],
             "load_balancers": [{"name": "lb", "public_ip": "212.2.251.1", "private_ip": "192.168.1.2"}]}],
             "reserved_ips": [{"name": "r", "ip": "212.2.253.9", "assigned_to": {"type": "instance", "name": "bastion"}}]}"#,
            &[],
        ),
    ];
    for (json, want) in cases {
        let t = Topology::from_json(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(kinds(&t), *want, "{json}");
        assert!(t.warnings().iter().all(|w| w.cluster() == Some("a")), "{json}");
    }
}

#[test]
fn a_large_consistent_topology_names_few_examples() {
    let nodes: Vec<String> =
        (0..500).map(|i| format!(r#"{{"name": "n", "private_ip": "192.168.{}.{}"}}"#, i / 200, i % 200 + 1)).collect();
    let t = Topology::from_json(&format!(
        r#"{{"clusters": [{{"name": "a", "egress_ip": "212.2.253.151", "nodes": [{}]}}]}}"#,
        nodes.join(",")
    ))
    .unwrap();
    assert_eq!(kinds(&t), [WarningKind::DuplicateNode]);
    assert!(t.warnings()[0].message().contains("n, n, n and 496 more"), "{}", t.warnings()[0].message());
}

#[test]
fn same_names_in_two_regions_are_both_kept_and_chosen_by_region_or_id() {
    let t = Topology::from_json(
        r#"{"clusters": [
          {"name": "prod", "id": "5e0c", "region": "LON1", "egress_ip": "74.220.24.10"},
          {"name": "prod", "id": "9b1d", "region": "FRA1", "egress_ip": "74.220.26.44"}]}"#,
    )
    .unwrap();
    assert_eq!(t.clusters().len(), 2);
    let Err(TopologyError::AmbiguousCluster { candidates, .. }) = t.select("prod") else { panic!("ambiguous") };
    assert_eq!(candidates, ["LON1/prod (5e0c)", "FRA1/prod (9b1d)"]);
    let Err(e) = Whitelist::builder(&t).cluster("prod").build() else { panic!("ambiguous") };
    assert!(e.to_string().contains("REGION/NAME or by its id"), "{e}");
    assert_eq!(Whitelist::builder(&t).cluster("LON1/prod").build().unwrap().to_string(), "74.220.24.10/32\n");
    assert_eq!(Whitelist::builder(&t).cluster("9b1d").build().unwrap().to_string(), "74.220.26.44/32\n");
    assert_eq!(Whitelist::of(&t).unwrap().len(), 2, "both are in the account's whitelist");
    // The same name in the same region, or the same id, is one cluster twice.
    for twice in [
        r#"{"clusters": [{"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10"}, {"name": "prod", "region": "lon1", "egress_ip": "74.220.24.11"}]}"#,
        r#"{"clusters": [{"name": "a", "id": "x", "egress_ip": "74.220.24.10"}, {"name": "b", "id": "x", "egress_ip": "74.220.24.11"}]}"#,
    ] {
        assert!(matches!(Topology::from_json(twice), Err(TopologyError::DuplicateCluster { .. })), "{twice}");
    }
}

#[test]
fn a_destination_in_two_clusters_networks_is_ambiguous_unless_one_network() {
    let two_regions = Topology::from_json(
        r#"{"clusters": [
          {"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24",
           "network": {"id": "n-lon", "name": "default"}, "nodes": [{"name": "a", "private_ip": "192.168.1.4"}]},
          {"name": "prod", "region": "FRA1", "egress_ip": "74.220.26.44", "network_cidr": "192.168.1.0/24",
           "network": {"id": "n-fra", "name": "default"}, "nodes": [{"name": "b", "private_ip": "192.168.1.5"}]}]}"#,
    )
    .unwrap();
    let db = ip("192.168.1.50");
    let Err(TopologyError::AmbiguousDestination { candidates, .. }) =
        Whitelist::builder(&two_regions).destination(db).build()
    else {
        panic!("never the union of both clusters' nodes")
    };
    assert_eq!(candidates.len(), 2);
    assert!(candidates[0].starts_with("LON1/prod (network default (n-lon)"), "{candidates:?}");
    let chosen = Whitelist::builder(&two_regions).cluster("FRA1/prod").destination(db).build().unwrap();
    assert_eq!(chosen.to_string(), "192.168.1.5/32\n");
    let Err(TopologyError::AmbiguousDestination { .. }) =
        Audit::builder(&two_regions).destination(db).build().map(|a| a.run(&Allowlist::default()))
    else {
        panic!("audit refuses as the whitelist does")
    };
    // Two clusters on one network: both clusters' nodes, as before.
    let shared = Topology::from_json(
        r#"{"clusters": [
          {"name": "a", "region": "LON1", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24",
           "network": {"id": "n1"}, "nodes": [{"name": "a", "private_ip": "192.168.1.4"}]},
          {"name": "b", "region": "LON1", "egress_ip": "74.220.24.11", "network_cidr": "192.168.1.0/24",
           "network": {"id": "n1"}, "nodes": [{"name": "b", "private_ip": "192.168.1.5"}]}]}"#,
    )
    .unwrap();
    assert_eq!(Whitelist::builder(&shared).destination(db).build().unwrap().len(), 2);
}

#[test]
fn an_unknown_network_is_no_answer_for_a_private_destination() {
    // A CIDR of the family that discovery could read is known; an IPv6
    // CIDR it could not parse (`network`) leaves IPv6 unknown.
    let t =
        one(r#", "caveats": [{"kind": "network", "message": "network prod-net: cidr_v6: invalid CIDR; left out"}]"#);
    assert!(!t.clusters()[0].network_known());
    assert!(t.clusters()[0].network_known_for(ip("192.168.1.50")));
    assert!(!t.clusters()[0].network_known_for(ip("fd12::50")));
    assert_eq!(Whitelist::builder(&t).destination(ip("192.168.1.50")).build().unwrap().to_string(), "192.168.1.4/32\n");
    assert!(matches!(
        Whitelist::builder(&t).destination(ip("fd12::50")).build(),
        Err(TopologyError::NetworkUnknown { .. })
    ));
    let unknown = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
            "caveats": [{"kind": "networks-unknown", "message": "the API key may not list networks"}]}]}"#,
    )
    .unwrap();
    assert!(!unknown.clusters()[0].network_known());
    let Err(TopologyError::NetworkUnknown { cluster, .. }) =
        Whitelist::builder(&unknown).destination(ip("192.168.1.50")).build()
    else {
        panic!("never the egress IPs for a destination that may be inside")
    };
    assert_eq!(cluster, "prod");
    // A public destination is outside any private network: the egress IPs.
    let partner = Whitelist::builder(&unknown).destination(ip("8.8.8.8")).build().unwrap();
    assert_eq!(partner.to_string(), "212.2.253.151/32\n");
}

#[test]
fn an_ipv6_destination_inside_a_network_without_ipv6_nodes_is_refused() {
    let t = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": ["192.168.1.0/24", "fd12:3456::/64"],
            "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}]}]}"#,
    )
    .unwrap();
    let Err(TopologyError::NetworkUnknown { why, .. }) =
        Whitelist::builder(&t).destination(ip("fd12:3456::50")).build()
    else {
        panic!("never an empty whitelist")
    };
    assert!(why.contains("IPv6"), "{why}");
}

#[test]
fn caveats_reach_the_whitelist_every_rendering_and_the_audit() {
    let t = one(
        r#", "caveats": [{"kind": "egress-unmeasured", "message": "cilium: a single egress IP was measured on flannel only"},
                          {"kind": "load-balancers-unknown", "message": "the key may not list LoadBalancers"}]"#,
    );
    let w = Whitelist::of(&t).unwrap();
    let kinds: Vec<WarningKind> = w.warnings().iter().map(|w| w.kind()).collect();
    assert_eq!(kinds, [WarningKind::EgressUnmeasured, WarningKind::LoadBalancersUnknown]);
    assert!(w.is_complete(), "unmeasured is not incomplete");
    assert_eq!(w.doubts().count(), 1);
    for format in
        [WhitelistFormat::Text, WhitelistFormat::Nftables, WhitelistFormat::Iptables, WhitelistFormat::Terraform]
    {
        let out = w.render(format).to_string();
        assert!(out.contains("# NOT VERIFIED: "), "{format}: {out}");
        assert!(out.contains("# warning: egress-unmeasured: cluster prod: cilium"), "{format}: {out}");
        assert!(!out.contains("load-balancers-unknown"), "{format}: only what doubts the list");
    }
    let json = w.render(WhitelistFormat::Json).to_string();
    assert!(!json.contains("warning"), "the JSON stays the binding array");
    // The text form is an allowlist the audit reads: the same story.
    let allowlist: Allowlist = w.render(WhitelistFormat::Text).to_string().parse().unwrap();
    let report = Audit::builder(&t).build().unwrap().run(&allowlist);
    assert!(!report.is_ok(), "an unmeasured egress is never all clear");
    let found: Vec<(FindingKind, Severity)> = report.findings().iter().map(|f| (f.kind(), f.severity())).collect();
    assert_eq!(found, [(FindingKind::UnverifiedEgress, Severity::Error), (FindingKind::Caveat, Severity::Info)]);
    // And classify says it where it changes the answer.
    let egress = t.classify_ip(ip("212.2.253.151"));
    assert_eq!(egress.class(), IpClass::Egress);
    assert!(egress.reason().to_string().contains("but not verified: egress-unmeasured"), "{}", egress.reason());
    let other = t.classify_ip(ip("212.2.253.160")).reason().to_string();
    assert!(other.contains("cannot be ruled out"), "{other}");
}

#[test]
fn a_clean_whitelist_renders_as_before() {
    let t = one("");
    let w = Whitelist::of(&t).unwrap();
    assert_eq!(w.render(WhitelistFormat::Text).to_string(), "212.2.253.151/32\n");
    assert!(!w.render(WhitelistFormat::Nftables).to_string().contains("warning"));
}

#[test]
fn left_out_clusters_travel_and_make_the_whitelist_incomplete() {
    let t = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}],
            "left_out": [{"name": "new", "region": "LON1", "kind": "not-active", "reason": "BUILDING, no master_ip"}]}"#,
    )
    .unwrap();
    assert_eq!(kinds(&t), [WarningKind::LeftOut]);
    assert_eq!(t.warnings()[0].cluster(), Some("LON1/new"));
    let w = Whitelist::of(&t).unwrap();
    assert!(!w.is_complete());
    assert!(w.render(WhitelistFormat::Iptables).to_string().contains("# INCOMPLETE: "));
    // A selection that names its clusters says nothing of the others.
    assert!(Whitelist::builder(&t).cluster("prod").build().unwrap().is_complete());
    // Naming the left-out cluster says why it has no answer.
    let Err(TopologyError::ClusterLeftOut { name, reason, .. }) = Whitelist::builder(&t).cluster("lon1/new").build()
    else {
        panic!("left out, not unknown")
    };
    assert_eq!(name, "LON1/new");
    assert!(reason.contains("BUILDING"), "{reason}");
    assert_eq!(Topology::from_json(&t.to_json()).unwrap(), t);
    let report = Audit::builder(&t).build().unwrap().run(&"212.2.253.151\n".parse().unwrap());
    assert!(report.findings().iter().any(|f| f.kind() == FindingKind::UnverifiedEgress && f.entry() == "LON1/new"));
}

#[test]
fn a_newer_format_is_read_with_a_warning_and_a_typo_is_still_an_error() {
    let newer = r#"{"format_version": 7, "colour": "red", "clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
        "shape": "round", "network": {"id": "n1", "vlan": 3},
        "caveats": [{"kind": "quantum-egress", "message": "m", "severity": "high"}]}],
        "left_out": [{"name": "x", "kind": "teleported", "reason": "r", "when": "now"}]}"#;
    let t = Topology::from_json(newer).unwrap();
    assert_eq!(kinds(&t), [WarningKind::NewerFormat, WarningKind::LeftOut]);
    let caveat = &t.clusters()[0].caveats()[0];
    assert_eq!((caveat.kind(), caveat.message()), (WarningKind::Unrecognized, "quantum-egress: m"));
    assert_eq!(t.left_out()[0].kind(), WarningKind::Unrecognized);
    // This version: a typo is an error with its suggestion...
    let typo = r#"{"format_version": 1, "clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "caveat": []}]}"#;
    let Err(TopologyError::UnknownField { suggestion, .. }) = Topology::from_json(typo) else { panic!("typo") };
    assert_eq!(suggestion.as_deref(), Some("caveats"));
    let Err(e) = Topology::from_json(
        r#"{"clusters": [{"name": "p", "egress_ip": "212.2.253.151", "caveats": [{"kind": "nope", "message": "m"}]}]}"#,
    ) else {
        panic!("unknown kind")
    };
    assert!(e.to_string().starts_with("clusters[0].caveats[0]: "), "{e}");
    // ...unless the caller allows unknown fields.
    assert!(Topology::from_json_with(typo, Validation::strict().allow_unknown_fields(true)).is_ok());
    assert!(Topology::from_json(r#"{"format_version": 0, "clusters": []}"#).is_err());
}

#[test]
fn diff_matches_same_named_clusters_by_region() {
    let snapshot = |fra: &str| {
        Topology::from_json(&format!(
            r#"{{"clusters": [{{"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10"}},
                {{"name": "prod", "region": "FRA1", "egress_ip": "{fra}"}}]}}"#
        ))
        .unwrap()
    };
    let changes = civo_egress::diff(&snapshot("74.220.26.44"), &snapshot("74.220.26.45"));
    assert_eq!(changes.changes().len(), 1, "{changes:?}");
    assert!(
        matches!(&changes.changes()[0], civo_egress::Change::EgressChanged { new, .. } if new.to_string() == "74.220.26.45")
    );
}

#[test]
fn a_left_out_twin_makes_a_name_ambiguous() {
    let t = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10"}],
            "left_out": [{"name": "prod", "region": "FRA1", "kind": "cluster-gone", "reason": "deleted meanwhile"}]}"#,
    )
    .unwrap();
    let Err(TopologyError::AmbiguousCluster { candidates, .. }) = t.select("prod") else {
        panic!("never the present one silently")
    };
    assert_eq!(candidates, ["LON1/prod", "FRA1/prod (left out)"]);
    assert_eq!(t.select("LON1/prod").unwrap().region(), Some("LON1"));
    assert!(matches!(t.select("fra1/prod"), Err(TopologyError::ClusterLeftOut { .. })));
}

#[test]
fn clusters_without_network_ids_or_regions_are_not_one_network() {
    let t = Topology::from_json(
        r#"{"clusters": [
          {"name": "a", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24", "nodes": [{"name": "a", "private_ip": "192.168.1.4"}]},
          {"name": "b", "egress_ip": "74.220.24.11", "network_cidr": "192.168.1.0/24", "nodes": [{"name": "b", "private_ip": "192.168.1.5"}]}]}"#,
    )
    .unwrap();
    assert!(matches!(
        Whitelist::builder(&t).destination(ip("192.168.1.50")).build(),
        Err(TopologyError::AmbiguousDestination { .. })
    ));
}

#[test]
fn a_node_without_a_private_ip_makes_a_destination_whitelist_incomplete() {
    for extra in [
        // A pool node BUILDING with its public IP: in the egress set, not in the network's list.
        r#", "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}, {"name": "edge-3", "public_ip": "212.2.253.160"}]"#,
        // A node discovery left out for want of a private IP.
        r#", "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}],
           "caveats": [{"kind": "node-pending", "node": "w-2", "message": "node w-2 (BUILDING) left out"}]"#,
    ] {
        let t = Topology::from_json(&format!(
            r#"{{"clusters": [{{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24"{extra}}}]}}"#
        ))
        .unwrap();
        let db = Whitelist::builder(&t).destination(ip("192.168.1.50")).build().unwrap();
        assert_eq!(db.to_string(), "192.168.1.4/32\n");
        assert!(!db.is_complete(), "{extra}: {:?}", db.warnings());
        assert!(db.render(WhitelistFormat::Text).to_string().contains("# INCOMPLETE: "));
    }
    let building = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
            "nodes": [{"name": "edge-3", "public_ip": "212.2.253.160"}]}]}"#,
    )
    .unwrap();
    assert_eq!(Whitelist::of(&building).unwrap().to_string(), "212.2.253.151/32\n212.2.253.160/32\n");
    assert_eq!(Topology::from_json(&building.to_json()).unwrap(), building);
    assert!(
        Topology::from_json(r#"{"clusters": [{"name": "p", "egress_ip": "212.2.253.151", "nodes": [{"name": "x"}]}]}"#)
            .is_err()
    );
}

#[test]
fn a_newer_snapshot_written_again_still_says_it_is_newer() {
    let t = Topology::from_json(
        r#"{"format_version": 3, "clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "x": 1}]}"#,
    )
    .unwrap();
    let again = Topology::from_json(&t.to_json()).unwrap();
    assert_eq!(again.warnings()[0].kind(), WarningKind::NewerFormat);
}

#[test]
fn allowing_unknown_fields_reaches_caveats_and_left_out() {
    let json = r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
        "caveats": [{"kind": "legacy", "message": "m", "severity": "low"}]}],
        "left_out": [{"name": "x", "kind": "cluster-gone", "reason": "r", "when": "now"}]}"#;
    assert!(Topology::from_json(json).is_err());
    let t = Topology::from_json_with(json, Validation::strict().allow_unknown_fields(true)).unwrap();
    assert_eq!((t.clusters()[0].caveats().len(), t.left_out().len()), (1, 1));
}
