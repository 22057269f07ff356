//! The snapshot format and its validation, through the public API.

use std::net::IpAddr;

use civo_egress::ipnet::IpNet;
use civo_egress::{Cluster, K3S_POD_CIDR, K3S_SERVICE_CIDR, Node, Topology, TopologyError, Validation};

fn err(json: &str) -> TopologyError {
    Topology::from_json(json).unwrap_err()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn cluster(fields: &str) -> String {
    format!(r#"{{"clusters": [{{"name": "prod", {fields}}}]}}"#)
}

#[test]
fn the_binding_example_parses_with_its_defaults() {
    let json = include_str!("../fixtures/architecture-snapshot.json");
    let topology = Topology::from_json(json).unwrap();
    let prod = topology.cluster("prod").unwrap();
    assert_eq!(prod.id(), Some("5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11"));
    assert_eq!(prod.region(), Some("LON1"));
    assert_eq!(
        prod.egress_ips(),
        ["74.220.24.10".parse::<std::net::IpAddr>().unwrap(), "74.220.24.77".parse().unwrap()]
    );
    assert_eq!(prod.nodes().len(), 3);
    assert_eq!(prod.public_ip_nodes().map(Node::name).collect::<Vec<_>>(), ["edge-1"]);
    assert_eq!(topology.reserved_ips().len(), 2);
    assert_eq!(topology.reserved_ips()[0].assigned_to().unwrap().name(), "prod-api");
    let minimal = Topology::from_json(&cluster(r#""egress_ip": "74.220.24.10""#)).unwrap();
    assert_eq!(minimal.clusters()[0].pod_cidrs(), [K3S_POD_CIDR]);
    assert_eq!(minimal.clusters()[0].service_cidrs(), [K3S_SERVICE_CIDR]);
}

#[test]
fn snapshots_round_trip_through_json() {
    let json = include_str!("../fixtures/architecture-snapshot.json");
    let topology = Topology::from_json(json).unwrap();
    let again = Topology::from_json(&topology.to_json()).unwrap();
    assert_eq!(again, topology);
    let via_serde: Topology = serde_json::from_str(&serde_json::to_string(&topology).unwrap()).unwrap();
    assert_eq!(via_serde, topology);
    assert_eq!(json.parse::<Topology>().unwrap(), topology);
}

#[test]
fn cidr_fields_take_one_or_a_list() {
    let t = Topology::from_json(&cluster(
        r#""egress_ip": "74.220.24.10", "pod_cidr": ["10.42.0.0/16", "fd00:42::/56"], "service_cidr": null"#,
    ))
    .unwrap();
    assert_eq!(t.clusters()[0].pod_cidrs().len(), 2);
    assert_eq!(t.clusters()[0].service_cidrs(), [K3S_SERVICE_CIDR]);
    let out = t.to_json();
    assert!(out.contains(r#""fd00:42::/56""#), "{out}");
}

#[test]
fn nulls_are_tolerated_and_unknown_fields_need_an_opt_in() {
    let json = r#"{"version": 3, "clusters": [{"name": "prod", "egress_ip": "74.220.24.10", "colour": "blue",
             "nodes": null, "load_balancers": null, "id": null}], "reserved_ips": null}"#;
    let e = err(json);
    assert!(matches!(&e, TopologyError::UnknownField { field, suggestion: None, .. } if field == "version"), "{e}");
    let t = Topology::from_json_with(json, Validation::strict().allow_unknown_fields(true)).unwrap();
    assert!(t.clusters()[0].nodes().is_empty());
    assert_eq!(t.clusters()[0].id(), None);
    let nulls = r#"{"clusters": [{"name": "prod", "egress_ip": "74.220.24.10",
             "nodes": null, "load_balancers": null, "id": null}], "reserved_ips": null}"#;
    assert_eq!(Topology::from_json(nulls).unwrap(), t);
}

#[test]
fn typos_are_errors_at_every_level_with_a_suggestion() {
    let table: &[(&str, &str, Option<&str>)] = &[
        (r#"{"cluster": []}"#, "cluster", Some("clusters")),
        (
            &cluster(r#""egress_ip": "74.220.24.10", "networkCidr": "192.168.1.0/24""#),
            "clusters[0].networkCidr",
            Some("network_cidr"),
        ),
        (&cluster(r#""egress_ips": "74.220.24.10""#), "clusters[0].egress_ips", Some("egress_ip")),
        (
            &cluster(
                r#""egress_ip": "74.220.24.10", "nodes": [{"name": "n", "private_ip": "192.168.1.4", "PublicIp": "74.220.24.11"}]"#,
            ),
            "clusters[0].nodes[0].PublicIp",
            Some("public_ip"),
        ),
        (
            &cluster(
                r#""egress_ip": "74.220.24.10", "load_balancers": [{"name": "lb", "public_ip": "74.220.25.1", "private": "192.168.1.2"}]"#,
            ),
            "clusters[0].load_balancers[0].private",
            Some("private_ip"),
        ),
        (
            r#"{"load_balancers": [{"name": "lb", "publicip": "74.220.25.1"}]}"#,
            "load_balancers[0].publicip",
            Some("public_ip"),
        ),
        (
            r#"{"reserved_ips": [{"name": "r", "ip": "74.220.27.5", "assigned": null}]}"#,
            "reserved_ips[0].assigned",
            Some("assigned_to"),
        ),
        (&cluster(r#""egress_ip": "74.220.24.10", "colour": "blue""#), "clusters[0].colour", None),
        (
            r#"{"reserved_ips": [{"name": "r", "ip": "74.220.27.5", "assigned_to": {"typ": "instance", "name": "x"}}]}"#,
            "reserved_ips[0].assigned_to.typ",
            Some("type"),
        ),
    ];
    for &(json, path, hint) in table {
        let e = err(json);
        match &e {
            TopologyError::UnknownField { field, suggestion, .. } => {
                assert_eq!((field.as_str(), suggestion.as_deref()), (path, hint), "{json}");
            }
            other => panic!("{json}: {other}"),
        }
        assert_eq!(e.field(), Some(path));
        let same: Result<Topology, _> = serde_json::from_str(json);
        assert!(same.is_err(), "serde agrees: {json}");
        let lenient = Topology::from_json_with(json, Validation::strict().allow_unknown_fields(true));
        assert!(!matches!(lenient, Err(TopologyError::UnknownField { .. })), "{json}: {lenient:?}");
    }
    assert_eq!(
        err(&cluster(r#""egress_ip": "74.220.24.10", "networkCidr": "192.168.1.0/24""#)).to_string(),
        "clusters[0].networkCidr: unknown field (did you mean network_cidr?)"
    );
}

#[test]
fn serde_and_from_json_accept_and_reject_the_same_inputs() {
    let minimal = cluster(r#""egress_ip": "74.220.24.10""#);
    let inputs = [
        "[]",
        "null",
        "{}",
        "",
        "7",
        r#""clusters""#,
        r#"{"clusters": []}"#,
        r#"{"clusters": null}"#,
        r#"{"clusters": [null]}"#,
        r#"{"clusters": [[]]}"#,
        r#"{"clusters": {}}"#,
        r#"{"clusters": [{"name": "prod", "egress_ip": "74.220.24.10", "nodes": [[]]}]}"#,
        r#"{"clusters": [{"name": "prod", "egress_ip": "74.220.24.10", "nodes": [{"name": "n", "private_ip": "192.168.1.4", "x": 1}]}]}"#,
        r#"{"clusters": [{"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"]}]}"#,
        r#"{"clusters": [{"name": "prod", "egress_ip": []}]}"#,
        minimal.as_str(),
        include_str!("../fixtures/architecture-snapshot.json"),
        "{} trailing",
    ];
    for json in inputs {
        let ours = Topology::from_json(json);
        let serde: Result<Topology, _> = serde_json::from_str(json);
        assert_eq!(ours.is_ok(), serde.is_ok(), "{json:?}: {ours:?} / {serde:?}");
        if let (Ok(a), Ok(b)) = (&ours, &serde) {
            assert_eq!(a, b, "{json:?}");
        }
    }
    assert!(matches!(err("[]"), TopologyError::Json { .. }));
    assert!(matches!(err("null"), TopologyError::Json { .. }));
    assert!(Topology::from_json("{}").unwrap().is_empty());
    assert_eq!(Topology::from_json("{}").unwrap(), Topology::default());
}

#[test]
fn placeholders_and_typos_name_the_field_and_value() {
    let e = err(&cluster(r#""egress_ip": "your.cluster.ip.address""#));
    assert!(
        matches!(&e, TopologyError::InvalidIp { field, value, .. }
            if field == "clusters[0].egress_ip" && value == "your.cluster.ip.address"),
        "{e}"
    );
    assert_eq!(e.to_string(), r#"clusters[0].egress_ip: invalid IP address "your.cluster.ip.address""#);

    let e = err(&cluster(r#""egress_ip": "74.220.24.10", "nodes": [{"name": "n", "private_ip": "192.168.1.300"}]"#));
    assert!(matches!(&e, TopologyError::InvalidIp { field, .. } if field == "clusters[0].nodes[0].private_ip"), "{e}");

    let e = err(&cluster(r#""egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/33""#));
    assert!(
        matches!(&e, TopologyError::InvalidCidr { field, value, .. } if field == "clusters[0].network_cidr[0]" && value == "192.168.1.0/33"),
        "{e}"
    );

    let e = err(&cluster(r#""egress_ip": "74.220.24.10", "pod_cidr": ["10.42.0.0/16", "bogus"]"#));
    assert!(matches!(&e, TopologyError::InvalidCidr { field, .. } if field == "clusters[0].pod_cidr[1]"), "{e}");
}

#[test]
fn host_bits_are_rejected_with_the_fix() {
    let e = err(&cluster(r#""egress_ip": "74.220.24.10", "network_cidr": "192.168.1.7/24""#));
    assert_eq!(
        e.to_string(),
        "clusters[0].network_cidr[0]: CIDR 192.168.1.7/24 has host bits set (did you mean 192.168.1.0/24?)"
    );
}

#[test]
fn catch_all_networks_are_rejected() {
    for cidr in ["0.0.0.0/0", "::/0"] {
        let e = err(&cluster(&format!(r#""egress_ip": "74.220.24.10", "network_cidr": "{cidr}""#)));
        assert!(matches!(e, TopologyError::CatchAll { .. }), "{e}");
        assert!(e.to_string().contains("covers every address"));
    }
}

#[test]
fn non_global_egress_needs_an_opt_in() {
    for ip in
        ["10.0.0.1", "100.64.1.1", "127.0.0.1", "169.254.1.1", "192.0.2.1", "::1", "fd00::1", "2001:db8::1", "0.0.0.0"]
    {
        let json = cluster(&format!(r#""egress_ip": "{ip}""#));
        let e = err(&json);
        assert!(matches!(&e, TopologyError::NonGlobalEgress { value, .. } if value == ip), "{ip}: {e}");
        assert!(e.to_string().contains("RFC"), "{e}");
        let lab = Topology::from_json_with(&json, Validation::strict().allow_non_global(true)).unwrap();
        assert_eq!(lab.clusters()[0].egress_ip(), ip.parse::<std::net::IpAddr>().unwrap());
    }
    let e = err(&cluster(
        r#""egress_ip": "74.220.24.10", "nodes": [{"name": "n", "private_ip": "192.168.1.4", "public_ip": "10.0.0.9"}]"#,
    ));
    assert!(
        matches!(&e, TopologyError::NonGlobalEgress { field, .. } if field == "clusters[0].nodes[0].public_ip"),
        "{e}"
    );
}

#[test]
fn missing_and_duplicate_fields_are_errors() {
    let e = err(r#"{"clusters": [{"name": "prod"}]}"#);
    assert!(matches!(&e, TopologyError::Missing { field, .. } if field == "clusters[0].egress_ip"), "{e}");
    let e = err(r#"{"clusters": [{"egress_ip": "74.220.24.10"}]}"#);
    assert!(matches!(&e, TopologyError::Missing { field, .. } if field == "clusters[0].name"), "{e}");
    let dup =
        r#"{"clusters": [{"name": "a", "egress_ip": "74.220.24.10"}, {"name": "a", "egress_ip": "74.220.24.11"}]}"#;
    assert!(matches!(err(dup), TopologyError::DuplicateCluster { name, .. } if name == "a"));
    let e = err(r#"{"clusters": [{"name": "a", "egress_ip": ["74.220.24.10", "74.220.24.11"]}]}"#);
    assert!(
        matches!(&e, TopologyError::DuplicateEgressFamily { field, value, .. }
            if field == "clusters[0].egress_ip[1]" && value == "74.220.24.11"),
        "{e}"
    );
    let e = err(r#"{"reserved_ips": [{"name": "r", "ip": "74.220.27.5", "assigned_to": {"name": "x"}}]}"#);
    assert!(matches!(&e, TopologyError::Missing { field, .. } if field == "reserved_ips[0].assigned_to.type"), "{e}");
    let e = err(
        r#"{"reserved_ips": [{"name": "r", "ip": "74.220.27.5", "assigned_to": {"type": "firewall", "name": "x"}}]}"#,
    );
    assert!(
        matches!(&e, TopologyError::InvalidAssignment { field, .. } if field == "reserved_ips[0].assigned_to.type"),
        "{e}"
    );
}

#[test]
fn malformed_json_reports_where() {
    let e = err("{\"clusters\": [\n  {\"name\": \"prod\",,}\n]}");
    assert!(matches!(e, TopologyError::Json { line: 2, .. }), "{e}");
    assert!(matches!(err(r#"{"clusters": {"name": "prod"}}"#), TopologyError::Json { .. }));
    assert!(matches!(err(r#"{"clusters": [{"name": "p", "egress_ip": 7}]}"#), TopologyError::Json { .. }));
    assert!(matches!(err(""), TopologyError::Json { .. }));
    assert!(matches!(err("[]"), TopologyError::Json { .. }));
    // serde_json's own error is kept, reached through source() only.
    let cause = std::error::Error::source(&e).expect("the JSON error is kept");
    let json = cause.downcast_ref::<serde_json::Error>().expect("source() is serde_json's error itself");
    assert_eq!((json.line(), json.is_syntax()), (2, true));
}

#[test]
fn the_builder_reports_its_first_error_at_build() {
    let e = Cluster::builder("prod")
        .egress_ip(ip("74.220.24.10"))
        .network_cidr(net("192.168.1.7/24"))
        .pod_cidr(net("0.0.0.0/0"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, TopologyError::HostBits { field, value, network, .. }
            if field == "network_cidr[0]" && value == "192.168.1.7/24" && network == "192.168.1.0/24"),
        "{e}"
    );
    let e = Cluster::builder("prod").egress_ip(ip("74.220.24.10")).service_cidr(net("::/0")).build().unwrap_err();
    assert!(matches!(&e, TopologyError::CatchAll { field, .. } if field == "service_cidr[0]"), "{e}");
    let e = Cluster::builder("").egress_ip(ip("74.220.24.10")).build().unwrap_err();
    assert!(matches!(&e, TopologyError::Missing { field, .. } if field == "name"), "{e}");
    let e = Cluster::builder("prod").build().unwrap_err();
    assert!(matches!(&e, TopologyError::Missing { field, .. } if field == "egress_ip"), "{e}");
    let e = Cluster::builder("prod").egress_ip(ip("74.220.24.10")).egress_ip(ip("74.220.24.11")).build().unwrap_err();
    assert!(matches!(&e, TopologyError::DuplicateEgressFamily { value, .. } if value == "74.220.24.11"), "{e}");
    let ok = Cluster::builder("prod")
        .id("5e0c")
        .region("LON1")
        .egress_ip(ip("::ffff:74.220.24.10"))
        .pod_cidr(net("10.42.0.0/16"))
        .pod_cidr(net("fd00:42::/56"))
        .build()
        .unwrap();
    assert_eq!(ok.egress_ip(), ip("74.220.24.10"), "mapped addresses fold to IPv4");
    assert_eq!(ok.pod_cidrs().len(), 2);
    let debug = format!("{ok:?}");
    assert!(debug.contains("74.220.24.10") && debug.len() < 200, "{debug}");
}

#[test]
fn a_dual_stack_cluster_has_one_egress_ip_per_family() {
    let dual = Cluster::builder("dual")
        .egress_ip(ip("2a00:1450::10"))
        .egress_ip(std::net::Ipv4Addr::new(74, 220, 24, 10))
        .node(Node::new("edge", ip("192.168.1.6")).unwrap().with_public_ip(ip("74.220.24.77")))
        .build()
        .unwrap();
    assert_eq!(dual.egress_ip(), ip("74.220.24.10"), "the IPv4 one first");
    assert_eq!(dual.cluster_egress_ips(), [ip("74.220.24.10"), ip("2a00:1450::10")]);
    assert_eq!(dual.egress_ips(), [ip("74.220.24.10"), ip("2a00:1450::10"), ip("74.220.24.77")]);
    let t = Topology::new(vec![dual], vec![], vec![]).unwrap();
    let json = t.to_json();
    assert!(
        json.contains(
            r#""egress_ip": [
        "74.220.24.10",
        "2a00:1450::10"
      ]"#
        ),
        "{json}"
    );
    assert_eq!(Topology::from_json(&json).unwrap(), t);
    let v6 = t.classify_ip(ip("2a00:1450::10"));
    assert!(v6.is_whitelistable());
    assert!(v6.reason().to_string().contains("IPv6 egress IP"), "{v6}");
    assert!(!v6.reason().to_string().contains("node pool"), "{v6}");
    let single = Topology::from_json(&cluster(r#""egress_ip": ["74.220.24.10"]"#)).unwrap();
    assert!(single.to_json().contains(r#""egress_ip": "74.220.24.10""#), "one address is written as a string");
}

#[test]
fn constructors_refuse_what_the_reader_refuses() {
    for name in ["", " ", "\t"] {
        assert!(matches!(Node::new(name, ip("192.168.1.4")), Err(TopologyError::Missing { .. })), "{name:?}");
        assert!(civo_egress::LoadBalancer::new(name, ip("74.220.25.1")).is_err(), "{name:?}");
        assert!(civo_egress::ReservedIp::new(name, ip("74.220.27.5")).is_err(), "{name:?}");
        assert!(civo_egress::Assignment::new(civo_egress::AssignmentKind::Instance, name).is_err(), "{name:?}");
    }
}

#[test]
fn standalone_values_read_through_the_same_checks() {
    let node: civo_egress::Node =
        serde_json::from_str(r#"{"name": "n", "private_ip": "::ffff:10.0.0.1", "public_ip": ""}"#).unwrap();
    assert_eq!(node.private_ip(), Some("10.0.0.1".parse::<std::net::IpAddr>().unwrap()), "mapped addresses fold");
    assert_eq!(node.public_ip(), None, "\"\" is no public IP");
    let error =
        serde_json::from_str::<civo_egress::Node>(r#"{"name": "n", "private_ip": "your.node.ip"}"#).unwrap_err();
    assert!(error.to_string().contains("private_ip: invalid IP address \"your.node.ip\""), "{error}");
    let lb: civo_egress::LoadBalancer = serde_json::from_str(r#"{"name": "lb", "public_ip": "74.220.25.1"}"#).unwrap();
    assert_eq!(lb.private_ip(), None);
    assert!(serde_json::from_str::<civo_egress::ReservedIp>(r#"{"name": "r"}"#).is_err());
    assert!(serde_json::from_str::<civo_egress::Node>(r#"{"name": "n", "private_ip": "10.0.0.1", "x": 1}"#).is_err());
    assert!(serde_json::from_str::<civo_egress::Node>(r#"{"name": "", "private_ip": "10.0.0.1"}"#).is_err());
}

#[test]
fn a_lab_topology_reads_back_with_its_own_validation() {
    let lab = Validation::strict().allow_non_global(true);
    let cluster = Cluster::builder("lab").validation(lab).egress_ip(ip("203.0.113.10")).build().unwrap();
    let t = Topology::new(vec![cluster], vec![], vec![]).unwrap();
    let json = t.to_json();
    assert!(
        matches!(Topology::from_json(&json), Err(TopologyError::NonGlobalEgress { .. })),
        "strict still refuses it"
    );
    assert_eq!(Topology::from_json_with(&json, lab).unwrap(), t);
}
