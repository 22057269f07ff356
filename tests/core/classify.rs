//! Table-driven classification through the public API: every class, every
//! precedence pair, overlapping clusters, IPv6 and IPv4-mapped addresses.

use std::net::IpAddr;

use civo_egress::{Cluster, IpClass, LoadBalancer, Node, ReservedIp, Topology, Validation, Whitelist, classify_ip};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The article's cluster plus a staging cluster sharing the K3s defaults,
/// public-IP pool nodes, top-level LBs, reserved IPs and a dual-stack cluster.
const ACCOUNT: &str = r#"{
  "clusters": [
    {"name": "prod", "egress_ip": "74.220.24.10", "network_cidr": "192.168.10.0/24",
     "nodes": [{"name": "gw", "private_ip": "192.168.10.3", "public_ip": "74.220.24.10"},
               {"name": "edge", "private_ip": "192.168.10.6", "public_ip": "74.220.24.77"},
               {"name": "w-1", "private_ip": "192.168.10.4"}],
     "load_balancers": [{"name": "prod-ingress", "public_ip": "74.220.25.1", "private_ip": "192.168.10.2"},
                        {"name": "prod-api", "public_ip": "74.220.25.9", "private_ip": "192.168.10.7"}]},
    {"name": "staging", "egress_ip": "74.220.26.44", "network_cidr": "192.168.1.0/24",
     "nodes": [{"name": "s-1", "private_ip": "192.168.1.3"}],
     "load_balancers": [{"name": "staging-lb", "public_ip": "74.220.26.200", "private_ip": "192.168.1.2"}]},
    {"name": "v6", "egress_ip": "2a00:1450::10", "network_cidr": ["192.168.20.0/24", "fd12:3456::/64"],
     "pod_cidr": ["10.42.0.0/16", "fd00:42::/56"], "service_cidr": ["10.43.0.0/16", "fd00:43::/112"],
     "nodes": [{"name": "v6-1", "private_ip": "fd12:3456::4", "public_ip": "2a00:1450::77"}]}
  ],
  "load_balancers": [{"name": "legacy-app-lb", "public_ip": "74.220.28.1"}],
  "reserved_ips": [
    {"name": "prod-api-ip", "ip": "74.220.25.9", "assigned_to": {"type": "loadbalancer", "name": "prod-api"}},
    {"name": "spare", "ip": "74.220.27.5"},
    {"name": "bastion-ip", "ip": "74.220.27.6", "assigned_to": {"type": "instance", "name": "bastion"}}
  ]
}"#;

#[test]
fn every_class_in_a_realistic_account() {
    let topology = Topology::from_json(ACCOUNT).unwrap();
    let all = ["prod", "staging", "v6"];
    let table: &[(&str, IpClass, &[&str])] = &[
        ("74.220.24.10", IpClass::Egress, &["prod"]),
        ("74.220.24.77", IpClass::Egress, &["prod"]),
        ("74.220.26.44", IpClass::Egress, &["staging"]),
        ("2a00:1450::10", IpClass::Egress, &["v6"]),
        ("2a00:1450::77", IpClass::Egress, &["v6"]),
        ("::ffff:74.220.24.10", IpClass::Egress, &["prod"]),
        ("74.220.25.1", IpClass::LoadBalancer, &["prod"]),
        ("192.168.10.2", IpClass::LoadBalancer, &["prod"]),
        ("74.220.25.9", IpClass::LoadBalancer, &["prod"]),
        ("74.220.28.1", IpClass::LoadBalancer, &[]),
        ("74.220.27.5", IpClass::Reserved, &[]),
        ("74.220.27.6", IpClass::Reserved, &[]),
        ("192.168.10.3", IpClass::Node, &["prod"]),
        ("192.168.10.4", IpClass::Node, &["prod"]),
        ("192.168.1.3", IpClass::Node, &["staging"]),
        ("fd12:3456::4", IpClass::Node, &["v6"]),
        ("::ffff:192.168.1.3", IpClass::Node, &["staging"]),
        ("192.168.10.0", IpClass::NodeNetwork, &["prod"]),
        ("192.168.10.255", IpClass::NodeNetwork, &["prod"]),
        ("192.168.1.99", IpClass::NodeNetwork, &["staging"]),
        ("fd12:3456::ffff", IpClass::NodeNetwork, &["v6"]),
        ("10.42.0.0", IpClass::Pod, &all),
        ("10.42.0.7", IpClass::Pod, &all),
        ("10.42.255.255", IpClass::Pod, &all),
        ("fd00:42::1", IpClass::Pod, &["v6"]),
        ("10.43.0.10", IpClass::Service, &all),
        ("10.43.255.255", IpClass::Service, &all),
        ("fd00:43::a", IpClass::Service, &["v6"]),
        ("127.0.0.1", IpClass::Special, &[]),
        ("169.254.169.254", IpClass::Special, &[]),
        ("100.64.0.1", IpClass::Special, &[]),
        ("224.0.0.1", IpClass::Special, &[]),
        ("255.255.255.255", IpClass::Special, &[]),
        ("0.0.0.0", IpClass::Special, &[]),
        ("240.0.0.1", IpClass::Special, &[]),
        ("198.18.0.1", IpClass::Special, &[]),
        ("192.0.2.1", IpClass::Special, &[]),
        ("::1", IpClass::Special, &[]),
        ("::", IpClass::Special, &[]),
        ("fe80::1", IpClass::Special, &[]),
        ("ff02::1", IpClass::Special, &[]),
        ("2001:db8::1", IpClass::Special, &[]),
        ("100::1", IpClass::Special, &[]),
        ("10.41.255.255", IpClass::Private, &[]),
        ("10.44.0.0", IpClass::Private, &[]),
        ("172.16.0.1", IpClass::Private, &[]),
        ("192.168.2.1", IpClass::Private, &[]),
        ("fd00:44::1", IpClass::Private, &[]),
        ("::ffff:10.0.0.1", IpClass::Private, &[]),
        ("8.8.8.8", IpClass::Public, &[]),
        ("74.220.24.11", IpClass::Public, &[]),
        ("2a00:1450::11", IpClass::Public, &[]),
        ("172.32.0.0", IpClass::Public, &[]),
        ("100.128.0.0", IpClass::Public, &[]),
    ];
    for &(addr, class, clusters) in table {
        let answer = classify_ip(&topology, ip(addr));
        assert_eq!(answer.class(), class, "{addr}: {answer}");
        assert_eq!(answer.clusters(), clusters, "{addr}: {answer}");
        assert_eq!(answer.is_whitelistable(), class == IpClass::Egress, "{addr}");
        assert!(
            !answer.reason().to_string().is_empty() && !answer.reason().to_string().ends_with('.'),
            "{addr}: {answer}"
        );
        assert_eq!(answer.ip(), ip(addr));
        assert_eq!(topology.classify_ip(ip(addr)), answer);
    }
}

/// The roles one address can play in a topology.
#[derive(Clone, Copy, Debug)]
enum Role {
    Egress,
    LoadBalancer,
    Reserved,
    Node,
    NodeNetwork,
    Pod,
    Service,
}

const ROLES: [Role; 7] =
    [Role::Egress, Role::LoadBalancer, Role::Reserved, Role::Node, Role::NodeNetwork, Role::Pod, Role::Service];

fn class_of(role: Role) -> IpClass {
    match role {
        Role::Egress => IpClass::Egress,
        Role::LoadBalancer => IpClass::LoadBalancer,
        Role::Reserved => IpClass::Reserved,
        Role::Node => IpClass::Node,
        Role::NodeNetwork => IpClass::NodeNetwork,
        Role::Pod => IpClass::Pod,
        Role::Service => IpClass::Service,
    }
}

/// A topology where `addr` plays `role` in cluster `name`, and nothing else.
fn play(role: Role, addr: &str, name: &str, egress: &str) -> (Cluster, Vec<ReservedIp>) {
    let lab = Validation::strict().allow_non_global(true);
    // The cluster's one IPv4 egress IP is `addr` itself when that is the role.
    let egress = if matches!(role, Role::Egress) { addr } else { egress };
    let mut b = Cluster::builder(name).validation(lab).egress_ip(ip(egress));
    let mut reserved = Vec::new();
    let net: ipnet::IpNet =
        format!("{}/24", addr.rsplit_once('.').map(|(head, _)| format!("{head}.0")).unwrap()).parse().unwrap();
    match role {
        Role::Egress => {}
        Role::LoadBalancer => b = b.load_balancer(LoadBalancer::new("lb", ip(addr)).unwrap()),
        Role::Reserved => reserved.push(ReservedIp::new("r", ip(addr)).unwrap()),
        Role::Node => b = b.node(Node::new("n", ip(addr)).unwrap()),
        Role::NodeNetwork => b = b.network_cidr(net),
        Role::Pod => b = b.pod_cidr(net),
        Role::Service => b = b.service_cidr(net),
    }
    (b.build().unwrap(), reserved)
}

#[test]
fn every_precedence_pair_between_topology_roles() {
    for (hi_i, &hi) in ROLES.iter().enumerate() {
        for &lo in &ROLES[hi_i + 1..] {
            let addr = "74.220.99.5";
            let (winner, mut r1) = play(hi, addr, "hi", "74.220.1.1");
            let (loser, r2) = play(lo, addr, "lo", "74.220.1.2");
            r1.extend(r2);
            let topology = Topology::new(vec![loser, winner], vec![], r1).unwrap();
            let answer = topology.classify_ip(ip(addr));
            assert_eq!(answer.class(), class_of(hi), "{hi:?} over {lo:?}: {answer}");
            let expected: &[&str] = if matches!(hi, Role::Reserved) { &[] } else { &["hi"] };
            assert_eq!(answer.clusters(), expected, "{hi:?} over {lo:?}");
        }
    }
}

#[test]
fn topology_roles_beat_the_special_and_private_tables() {
    // 203.0.113.0/24 is documentation (special), 10.200.0.0/24 is RFC 1918.
    for (addr, builtin) in [("203.0.113.5", IpClass::Special), ("10.200.0.5", IpClass::Private)] {
        let empty = Topology::new(vec![], vec![], vec![]).unwrap();
        assert_eq!(empty.classify_ip(ip(addr)).class(), builtin);
        for role in ROLES {
            let (cluster, reserved) = play(role, addr, "lab", "74.220.1.1");
            let topology = Topology::new(vec![cluster], vec![], reserved).unwrap();
            assert_eq!(topology.classify_ip(ip(addr)).class(), class_of(role), "{role:?} over {builtin}");
        }
    }
}

#[test]
fn special_beats_private_and_private_beats_public() {
    let empty = Topology::new(vec![], vec![], vec![]).unwrap();
    // ULA sits inside the non-global-unicast IPv6 space; the more specific
    // private entry wins there, and special wins everywhere outside it.
    assert_eq!(empty.classify_ip(ip("fc00::1")).class(), IpClass::Private);
    assert_eq!(empty.classify_ip(ip("fe00::1")).class(), IpClass::Special);
    assert_eq!(empty.classify_ip(ip("4000::1")).class(), IpClass::Special);
    assert_eq!(empty.classify_ip(ip("2a00::1")).class(), IpClass::Public);
    assert_eq!(empty.classify_ip(ip("11.0.0.0")).class(), IpClass::Public);
    assert_eq!(empty.classify_ip(ip("9.255.255.255")).class(), IpClass::Public);
}

#[test]
fn a_shared_egress_ip_names_every_cluster() {
    let json =
        r#"{"clusters": [{"name": "a", "egress_ip": "74.220.24.10"}, {"name": "b", "egress_ip": "74.220.24.10"}]}"#;
    let topology = Topology::from_json(json).unwrap();
    let answer = topology.classify_ip(ip("74.220.24.10"));
    assert_eq!(answer.clusters(), ["a", "b"]);
    let whitelist = Whitelist::of(&topology).unwrap();
    assert_eq!(whitelist.len(), 1);
    assert_eq!(whitelist.entries()[0].clusters(), ["a", "b"]);
}

#[test]
fn class_names_round_trip() {
    for &class in IpClass::ALL {
        assert_eq!(class.as_str().parse::<IpClass>().unwrap(), class);
        assert_eq!(class.to_string().parse::<IpClass>().unwrap(), class);
        assert_eq!(serde_json::to_string(&class).unwrap(), format!("\"{class}\""));
    }
    let e = "gateway".parse::<IpClass>().unwrap_err();
    assert_eq!(e.value(), "gateway");
    assert!(IpClass::ALL.windows(2).all(|w| w[0] < w[1]), "Ord follows precedence");
}

#[test]
fn classification_serializes_to_the_binding_shape() {
    let topology = Topology::from_json(ACCOUNT).unwrap();
    let json = serde_json::to_value(topology.classify_ip(ip("74.220.24.77"))).unwrap();
    assert_eq!(json["ip"], "74.220.24.77");
    assert_eq!(json["class"], "egress");
    assert_eq!(json["clusters"], serde_json::json!(["prod"]));
    assert_eq!(json["whitelistable"], true);
    assert!(json["reason"].as_str().unwrap().contains("edge"));
    assert_eq!(json.as_object().unwrap().len(), 5);
}

#[test]
fn an_owned_classification_outlives_its_topology_and_round_trips() {
    let owned: Vec<civo_egress::OwnedClassification> = {
        let topology = Topology::from_json(ACCOUNT).unwrap();
        ["74.220.24.77", "10.42.0.7", "2a00:1450::10", "8.8.8.8"]
            .iter()
            .map(|s| {
                let answer = topology.classify_ip(ip(s));
                let owned = answer.into_owned();
                assert_eq!(answer, owned);
                assert_eq!(serde_json::to_value(answer).unwrap(), serde_json::to_value(&owned).unwrap());
                assert_eq!(answer.to_string(), owned.to_string());
                owned
            })
            .collect()
    };
    for o in &owned {
        let json = serde_json::to_string(o).unwrap();
        let back: civo_egress::OwnedClassification = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, o);
        assert_eq!(back.is_whitelistable(), back.class() == IpClass::Egress);
    }
    assert_eq!(owned[1].clusters(), ["prod", "staging", "v6"]);
    let lie = r#"{"ip": "10.42.0.7", "class": "pod", "clusters": [], "whitelistable": true, "reason": "r"}"#;
    assert!(serde_json::from_str::<civo_egress::OwnedClassification>(lie).is_err(), "whitelistable follows the class");
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Topology>();
    assert_send_sync::<civo_egress::Classification<'static>>();
    assert_send_sync::<civo_egress::Whitelist>();
    assert_send_sync::<civo_egress::AuditReport>();
    assert_send_sync::<civo_egress::TopologyDiff>();
    assert_send_sync::<civo_egress::TopologyError>();
    assert_send_sync::<civo_egress::AllowlistError>();
}

#[test]
fn reasons_are_written_when_read_and_act_like_strings() {
    let json = |node: &str| {
        format!(
            r#"{{"clusters": [{{"name": "prod", "egress_ip": "212.2.253.151",
                "nodes": [{{"name": "{node}", "private_ip": "192.168.1.4"}}]}}]}}"#
        )
    };
    let (a, b, c) = (
        Topology::from_json(&json("w-1")).unwrap(),
        Topology::from_json(&json("w-1")).unwrap(),
        Topology::from_json(&json("w-2")).unwrap(),
    );
    let node: std::net::IpAddr = "192.168.1.4".parse().unwrap();
    let (ra, rb, rc) = (a.classify_ip(node).reason(), b.classify_ip(node).reason(), c.classify_ip(node).reason());
    let text = ra.to_string();
    assert!(text.starts_with("private IP of node w-1 of cluster prod: "), "{text}");
    // Equal across topologies, and with strings either way round.
    assert_eq!(ra, rb);
    assert_ne!(ra, rc);
    assert_eq!(a.classify_ip(node), b.classify_ip(node));
    assert_ne!(a.classify_ip(node), c.classify_ip(node));
    assert_eq!(ra, text.as_str());
    assert_eq!(text.as_str(), ra);
    assert_eq!(ra, text);
    assert_eq!(text, ra);
    assert!(ra != "private IP of node w-1" && ra != format!("{text}."));
    assert_eq!(String::from(ra), text);
    assert_eq!(format!("{ra:?}"), format!("{text:?}"));
    assert_eq!(serde_json::to_string(&ra).unwrap(), serde_json::to_string(&text).unwrap());
    // Padding and precision as for `str`, for a written and a stored reason.
    assert_eq!(format!("{ra:.10}|"), "private IP|");
    assert_eq!(format!("{:>width$}", ra, width = text.len() + 2), format!("  {text}"));
    let pod = a.classify_ip("10.42.0.7".parse().unwrap()).reason();
    let stored = pod.as_str().unwrap();
    assert_eq!(format!("{pod:.6}"), &stored[..6]);
    assert_eq!(format!("{:<w$}|", pod, w = stored.len() + 1), format!("{stored} |"));
}
