//! Issue 11 in the core: public-IP pools (said, not hidden), answers that
//! depend on the destination, and the IANA rows that are globally
//! reachable.

use std::net::IpAddr;

use civo_egress::{
    Allowlist, Audit, Cluster, FindingKind, IpClass, PublicIpPool, Severity, TALOS_POD_CIDR, TALOS_SERVICE_CIDR,
    Topology, TopologyError, Validation, Warning, WarningKind, Whitelist,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The article's cluster, with a public-IP pool that has one node up and
/// one still BUILDING, and a second cluster in another network.
fn topology() -> Topology {
    Topology::from_json(
        r#"{"clusters": [
          {"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
           "nodes": [{"name": "gw", "private_ip": "192.168.1.3", "public_ip": "212.2.253.151"},
                     {"name": "w-1", "private_ip": "192.168.1.4"},
                     {"name": "edge-1", "private_ip": "192.168.1.6", "public_ip": "212.2.253.177"}],
           "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1", "private_ip": "192.168.1.2"}],
           "public_ip_pools": [{"id": "edge", "pending": 1}]},
          {"name": "staging", "egress_ip": "74.220.26.44", "network_cidr": "192.168.20.0/24",
           "nodes": [{"name": "s-1", "private_ip": "192.168.20.3"}]}
        ]}"#,
    )
    .unwrap()
}

fn kinds(w: &Whitelist) -> Vec<(WarningKind, &str)> {
    w.warnings().iter().map(|w| (w.kind(), w.cluster().unwrap_or_default())).collect()
}

#[test]
fn pools_round_trip_through_the_snapshot_and_are_checked() {
    let t = topology();
    let prod = t.cluster("prod").unwrap();
    assert_eq!(prod.public_ip_pools(), [PublicIpPool::new("edge", 1).unwrap()]);
    assert_eq!(prod.pending_public_nodes(), 1);
    assert_eq!(t.cluster("staging").unwrap().public_ip_pools(), []);
    assert_eq!(Topology::from_json(&t.to_json()).unwrap(), t);
    assert!(!t.to_json().contains("\"public_ip_pools\": []"), "omitted when empty");

    let pool = |pools: &str| {
        Topology::from_json(&format!(
            r#"{{"clusters": [{{"name": "p", "egress_ip": "212.2.253.151", "public_ip_pools": {pools}}}]}}"#
        ))
    };
    assert_eq!(pool(r#"[{"id": "a"}]"#).unwrap().clusters()[0].pending_public_nodes(), 0, "pending defaults to 0");
    assert!(matches!(
        pool(r#"[{"id": "a", "pendng": 1}]"#),
        Err(TopologyError::UnknownField { field, suggestion: Some(s), .. }) if field == "clusters[0].public_ip_pools[0].pendng" && s == "pending"
    ));
    assert!(matches!(
        pool(r#"[{"id": " "}]"#),
        Err(TopologyError::Missing { field, .. }) if field == "clusters[0].public_ip_pools[0].id"
    ));
    assert!(matches!(
        pool(r#"[{"id": "a"}, {"id": "a", "pending": 2}]"#),
        Err(TopologyError::DuplicatePublicIpPool { field, id, .. }) if field == "clusters[0].public_ip_pools[1].id" && id == "a"
    ));
    let duplicate = Cluster::builder("p")
        .egress_ip(ip("212.2.253.151"))
        .public_ip_pool(PublicIpPool::new("a", 0).unwrap())
        .public_ip_pool(PublicIpPool::new("a", 0).unwrap())
        .build();
    assert!(matches!(duplicate, Err(TopologyError::DuplicatePublicIpPool { .. })));
    // The value type on its own.
    let p = PublicIpPool::new("edge", 2).unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"id":"edge","pending":2}"#);
    assert_eq!(serde_json::from_str::<PublicIpPool>(r#"{"id":"edge","pending":2}"#).unwrap(), p);
    assert!(serde_json::from_str::<PublicIpPool>(r#"{"id":""}"#).is_err());
    assert!(serde_json::from_str::<PublicIpPool>(r#"{"id":"a","colour":1}"#).is_err());
}

#[test]
fn the_whitelist_says_it_grows_and_is_incomplete() {
    let t = topology();
    let w = Whitelist::of(&t).unwrap();
    assert_eq!(w.to_string(), "74.220.26.44/32\n212.2.253.151/32\n212.2.253.177/32\n");
    assert_eq!(kinds(&w), [(WarningKind::GrowsWithPool, "prod"), (WarningKind::Incomplete, "prod")]);
    assert!(!w.is_complete());
    assert!(w.warnings()[1].message().contains("edge"), "{}", w.warnings()[1]);
    // The JSON is the binding array of entries: no warnings in it.
    let json = serde_json::to_value(&w).unwrap();
    assert!(json.is_array());
    assert_eq!(json.as_array().unwrap().len(), 3);
    let read: Whitelist = serde_json::from_value(json).unwrap();
    assert_eq!(read.entries(), w.entries());
    assert!(read.warnings().is_empty());
    // Without pending nodes it grows, but is complete now.
    let staging = Whitelist::of_clusters(&t, &["staging"]).unwrap();
    assert!(staging.warnings().is_empty() && staging.is_complete());
    let warning: &Warning = &w.warnings()[0];
    let back: Warning = serde_json::from_str(&serde_json::to_string(warning).unwrap()).unwrap();
    assert_eq!(&back, warning);
}

#[test]
fn classify_says_where_the_egress_set_is_incomplete() {
    let t = topology();
    let egress = t.classify_ip(ip("212.2.253.151"));
    assert_eq!(egress.class(), IpClass::Egress);
    assert!(egress.reason().to_string().contains("grows with each node of its public-IP pool edge"), "{egress}");
    assert!(egress.reason().to_string().contains("incomplete now: 1 node has no public IP yet"), "{egress}");
    let staging = t.classify_ip(ip("74.220.26.44"));
    assert!(!staging.reason().to_string().contains("pool"), "{staging}");
    // An unknown public address may be a new node's IP: never "certainly not".
    let unknown = t.classify_ip(ip("8.8.8.8"));
    assert_eq!(unknown.class(), IpClass::Public);
    assert!(unknown.reason().to_string().contains("cannot be ruled out as an egress IP"), "{unknown}");
    assert!(!unknown.reason().to_string().contains("no cluster's pods leave from it"), "{unknown}");
    let complete = Topology::from_json(r#"{"clusters": [{"name": "a", "egress_ip": "212.2.253.151"}]}"#).unwrap();
    assert!(complete.classify_ip(ip("8.8.8.8")).reason().to_string().contains("no cluster's pods leave from it"));
}

#[test]
fn node_reasons_say_where_they_are_seen() {
    let t = topology();
    for address in ["192.168.1.4", "192.168.1.77"] {
        let answer = t.classify_ip(ip(address));
        assert!(matches!(answer.class(), IpClass::Node | IpClass::NodeNetwork));
        assert!(
            answer.reason().to_string().contains("not seen by destinations outside the cluster's network"),
            "{answer}"
        );
        assert!(answer.reason().to_string().contains("a destination inside the network sees"), "{answer}");
        assert!(!answer.reason().to_string().contains("never seen"), "{answer}");
    }
}

#[test]
fn audit_reports_an_incomplete_egress_set() {
    let t = topology();
    let list = Allowlist::from(&Whitelist::of(&t).unwrap());
    let report = Audit::builder(&t).build().unwrap().run(&list);
    assert!(!report.is_ok());
    let [finding] = report.findings() else { panic!("{:?}", report.findings()) };
    assert_eq!(finding.kind(), FindingKind::IncompleteEgress);
    assert_eq!(finding.kind().to_string(), "incomplete-egress");
    assert_eq!(finding.severity(), Severity::Error);
    assert_eq!(finding.entry(), "prod");
    assert_eq!(finding.clusters(), ["prod"]);
    assert!(
        finding.reason().to_string().contains("edge") && finding.reason().to_string().contains("1 node has"),
        "{finding}"
    );
}

#[test]
fn a_destination_inside_the_network_sees_the_node_ips() {
    let t = topology();
    let database = ip("192.168.1.50");
    let w = Whitelist::builder(&t).destination(database).build().unwrap();
    assert_eq!(w.destination(), Some(database));
    assert_eq!(w.to_string(), "192.168.1.3/32\n192.168.1.4/32\n192.168.1.6/32\n");
    for entry in &w {
        assert_eq!(entry.clusters(), ["prod"]);
        assert!(entry.reason().to_string().contains("inside network 192.168.1.0/24"), "{}", entry.reason());
        assert!(entry.reason().to_string().contains("changes as nodes come and go"), "{}", entry.reason());
    }
    assert!(
        w.entries()[1].reason().to_string().starts_with("private IP of node w-1 of cluster prod"),
        "{}",
        w.entries()[1].reason()
    );
    assert_eq!(
        kinds(&w),
        [
            (WarningKind::FollowsNodes, "prod"),
            (WarningKind::Incomplete, "prod"),
            (WarningKind::NoPrivateRoute, "staging"),
        ]
    );
    // The same through the IPv4-mapped form, and for the chosen cluster only.
    let mapped = Whitelist::builder(&t).cluster("prod").destination(ip("::ffff:192.168.1.50")).build().unwrap();
    assert_eq!(mapped.entries(), w.entries());
    assert_eq!(mapped.warnings().len(), 2);
    // A node's or the LoadBalancer's private IP is inside the network too.
    let lb = Whitelist::builder(&t).cluster("prod").destination(ip("192.168.1.2")).build().unwrap();
    assert_eq!(lb.cidrs().collect::<Vec<_>>(), w.cidrs().collect::<Vec<_>>());
}

#[test]
fn a_destination_outside_every_network_sees_the_egress_set() {
    let t = topology();
    for outside in ["8.8.8.8", "212.2.251.1", "74.220.26.44"] {
        let w = Whitelist::builder(&t).destination(ip(outside)).build().unwrap();
        assert_eq!(w.entries(), Whitelist::of(&t).unwrap().entries(), "{outside}");
        assert!(w.warnings().iter().all(|w| w.kind() != WarningKind::NoPrivateRoute), "{outside}");
    }
    // A documentation address is no public address: reached from the
    // egress set, and said.
    let doc = Whitelist::builder(&t).destination(ip("203.0.113.9")).build().unwrap();
    assert_eq!(doc.entries(), Whitelist::of(&t).unwrap().entries());
    assert!(doc.warnings().iter().any(|w| w.kind() == WarningKind::NoPrivateRoute));
    // A private address in no selected network: the egress set, and said.
    let w = Whitelist::builder(&t).cluster("staging").destination(ip("192.168.1.50")).build().unwrap();
    assert_eq!(w.to_string(), "74.220.26.44/32\n");
    assert_eq!(kinds(&w), [(WarningKind::NoPrivateRoute, "staging")]);
}

#[test]
fn a_destination_inside_the_cluster_is_refused() {
    let t = topology();
    for (inside, class) in [("10.42.0.7", "pod"), ("10.43.0.10", "service")] {
        let err = Whitelist::builder(&t).destination(ip(inside)).build().unwrap_err();
        assert!(
            matches!(&err, TopologyError::DestinationInsideCluster { destination, class: c, cluster, .. }
                if destination == inside && *c == class && cluster == "prod"),
            "{err}"
        );
        assert_eq!(err.field(), None);
        assert!(matches!(
            Audit::builder(&t).destination(ip(inside)).build().map(|a| a.run(&Allowlist::default())),
            Err(TopologyError::DestinationInsideCluster { .. })
        ));
    }
}

#[test]
fn the_builder_keeps_the_shortcuts_rules() {
    let t = topology();
    assert_eq!(Whitelist::builder(&t).build().unwrap(), Whitelist::of(&t).unwrap());
    assert_eq!(
        Whitelist::builder(&t).clusters(["staging"]).build().unwrap(),
        Whitelist::of_clusters(&t, &["staging"]).unwrap()
    );
    assert_eq!(Whitelist::builder(&t).clusters(Vec::<String>::new()).build(), Err(TopologyError::NoClusters));
    assert!(Whitelist::builder(&t).clusters(Vec::<String>::new()).allow_empty(true).build().unwrap().is_empty());
    assert!(matches!(
        Whitelist::builder(&t).cluster("nope").build(),
        Err(TopologyError::UnknownCluster { name, .. }) if name == "nope"
    ));
    let empty = Topology::empty();
    assert_eq!(Whitelist::builder(&empty).build(), Err(TopologyError::NoClusters));
    assert_eq!(Whitelist::builder(&empty).allow_empty(true).build().unwrap(), Whitelist::of_allowing_empty(&empty));
}

#[test]
fn audit_for_an_inside_destination_wants_the_node_ips() {
    let t = topology();
    let database = ip("192.168.1.50");
    // The egress IPs are not what a destination on the network sees.
    let egress_only = Allowlist::from(&Whitelist::of(&t).unwrap());
    let report = Audit::builder(&t).destination(database).build().unwrap().run(&egress_only);
    let missing: Vec<(FindingKind, &str)> = report.findings().iter().map(|f| (f.kind(), f.entry())).collect();
    assert_eq!(
        missing,
        [
            (FindingKind::MissingNode, "192.168.1.3/32"),
            (FindingKind::MissingNode, "192.168.1.4/32"),
            (FindingKind::MissingNode, "192.168.1.6/32"),
            (FindingKind::IncompleteEgress, "prod"),
        ]
    );
    assert_eq!(FindingKind::MissingNode.to_string(), "missing-node");
    // The node IPs are then no error; staging's node still is.
    let nodes: Allowlist = "192.168.1.3\n192.168.1.4\n192.168.1.6\n192.168.20.3\n".parse().unwrap();
    let report = Audit::builder(&t).destination(database).build().unwrap().run(&nodes);
    let kinds: Vec<(FindingKind, &str)> = report.findings().iter().map(|f| (f.kind(), f.entry())).collect();
    assert_eq!(kinds, [(FindingKind::Covers(IpClass::Node), "192.168.20.3"), (FindingKind::IncompleteEgress, "prod")]);
    // Outside destinations audit as no destination does.
    assert_eq!(
        Audit::builder(&t).destination(ip("8.8.8.8")).build().unwrap().run(&nodes),
        Audit::builder(&t).build().unwrap().run(&nodes)
    );
}

#[test]
fn globally_reachable_iana_rows_are_public_and_valid_egress() {
    let empty = Topology::empty();
    for global in [
        "192.0.0.9",
        "192.0.0.10",
        "192.31.196.1",
        "192.52.193.1",
        "192.175.48.1",
        "64:ff9b::808:808",
        "2001:1::1",
        "2001:1::2",
        "2001:1::3",
        "2001:3::1",
        "2001:4:112::1",
        "2001:20::1",
        "2001:30::1",
        "2620:4f:8000::1",
        "::ffff:192.0.0.9",
    ] {
        assert_eq!(empty.classify_ip(ip(global)).class(), IpClass::Public, "{global}");
        let json = format!(r#"{{"clusters": [{{"name": "a", "egress_ip": "{global}"}}]}}"#);
        assert!(Topology::from_json(&json).is_ok(), "{global} is a valid egress IP");
    }
    for special in ["192.0.0.8", "192.0.0.11", "192.88.99.1", "192.88.99.2", "2001:1::4", "2001:2::1", "64:ff9b:1::1"] {
        assert_eq!(empty.classify_ip(ip(special)).class(), IpClass::Special, "{special}");
        let json = format!(r#"{{"clusters": [{{"name": "a", "egress_ip": "{special}"}}]}}"#);
        assert!(matches!(Topology::from_json(&json), Err(TopologyError::NonGlobalEgress { .. })), "{special}");
    }
}

#[test]
fn special_reasons_name_the_right_source() {
    let empty = Topology::empty();
    let reason = |s: &str| empty.classify_ip(ip(s)).reason().to_string();
    assert!(reason("169.254.169.254").contains("used by cloud metadata services"), "{}", reason("169.254.169.254"));
    assert!(reason("169.254.169.254").contains("RFC 3927"));
    assert!(reason("fec0::1").contains("deprecated site-local address fec0::/10 (RFC 3879)"), "{}", reason("fec0::1"));
    assert!(reason("::8.8.8.8").contains("deprecated IPv4-compatible address"), "{}", reason("::8.8.8.8"));
    assert!(reason("::8.8.8.8").contains("RFC 4291"));
    assert!(
        reason("4000::1")
            .starts_with("address outside the global unicast space 2000::/3, from which IANA allocates nothing"),
        "{}",
        reason("4000::1")
    );
    assert!(
        reason("192.88.99.2").contains("6a44 relay anycast address 192.88.99.2/32 (RFC 6751)"),
        "{}",
        reason("192.88.99.2")
    );
}

#[test]
fn talos_defaults_are_upstreams() {
    assert_eq!(TALOS_POD_CIDR.to_string(), "10.244.0.0/16");
    assert_eq!(TALOS_SERVICE_CIDR.to_string(), "10.96.0.0/12");
    let talos = Cluster::builder("talos")
        .validation(Validation::strict())
        .egress_ip(ip("212.2.253.151"))
        .pod_cidr(TALOS_POD_CIDR)
        .service_cidr(TALOS_SERVICE_CIDR)
        .build()
        .unwrap();
    assert_eq!(talos.pod_cidrs(), [TALOS_POD_CIDR]);
}
