//! The compiled index against a naive scan of the same facts. (Test code
//! only may drive the index through `Topology`, the layer above it.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::naive::naive;
use crate::special;
use crate::{Cluster, IpClass, LoadBalancer, Node, ReservedIp, Topology, Validation};

fn check(topology: &Topology, ip: IpAddr) {
    let fast = topology.classify_ip(ip);
    let (class, clusters) = naive(topology.clusters(), topology.load_balancers(), topology.reserved_ips(), ip);
    assert_eq!((fast.class(), fast.clusters()), (class, clusters.as_slice()), "{ip}: {fast}");
}

#[test]
fn special_table_edges_agree_with_the_scan() {
    let empty = Topology::empty();
    for hit in special::all() {
        let (lo, hi) = (hit.net.network(), hit.net.broadcast());
        let mut probes = vec![lo, hi];
        match (lo, hi) {
            (IpAddr::V4(lo), IpAddr::V4(hi)) => {
                probes.extend(u32::from(lo).checked_sub(1).map(|n| IpAddr::from(Ipv4Addr::from(n))));
                probes.extend(u32::from(hi).checked_add(1).map(|n| IpAddr::from(Ipv4Addr::from(n))));
            }
            (IpAddr::V6(lo), IpAddr::V6(hi)) => {
                probes.extend(u128::from(lo).checked_sub(1).map(|n| IpAddr::from(Ipv6Addr::from(n))));
                probes.extend(u128::from(hi).checked_add(1).map(|n| IpAddr::from(Ipv6Addr::from(n))));
            }
            _ => unreachable!(),
        }
        for ip in probes {
            check(&empty, ip);
        }
        // The range's own first and last addresses are public exactly when
        // the most specific row there is globally reachable: never for a
        // row that is not, always for one that is (no row nests inside a
        // globally reachable one at its edges).
        for edge in [lo, hi] {
            let public = empty.classify_ip(edge).class() == IpClass::Public;
            assert_eq!(public, special::lookup(edge).is_none(), "{edge} in {}", hit.net);
            if special::row(edge).map(|row| row.net) == Some(hit.net) {
                assert_eq!(public, hit.is_global(), "{edge} in {}", hit.net);
            }
        }
        if hit.is_global() {
            assert_eq!(empty.classify_ip(lo).class(), IpClass::Public, "{}", hit.net);
            assert_eq!(empty.classify_ip(hi).class(), IpClass::Public, "{}", hit.net);
        }
    }
}

#[test]
fn within_lists_each_answer_once() {
    let topology = Topology::from_json(
        r#"{"clusters": [{"name": "a", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24",
            "nodes": [{"name": "n", "private_ip": "192.168.1.4"}]}]}"#,
    )
    .unwrap();
    let mut found = Vec::new();
    topology.index().within("192.168.0.0/16".parse().unwrap(), &mut found);
    let classes: Vec<IpClass> = found.iter().map(|&(_, id)| topology.index().answer(id).class).collect();
    assert_eq!(classes, [IpClass::Node, IpClass::Private, IpClass::NodeNetwork]);
    assert_eq!(found[0].0, "192.168.1.4".parse::<IpAddr>().unwrap());
}

/// Addresses from a small universe, so that random facts overlap often:
/// 74.220.0.0/22 (public), 10.0.0.0/22 (private), 203.0.113.0/24 (special),
/// 2a00::/118 (IPv6 public), and the IANA rows where globally reachable
/// rows nest in special ones: 192.0.0.0/24 (192.0.0.9, 192.0.0.10) and
/// 2001:1::/118 (2001:1::1 to 2001:1::3, in 2001::/23).
fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u32..1024).prop_map(|n| IpAddr::from(Ipv4Addr::from(0x4adc_0000 + n))),
        (0u32..1024).prop_map(|n| IpAddr::from(Ipv4Addr::from(0x0a00_0000 + n))),
        (0u32..256).prop_map(|n| IpAddr::from(Ipv4Addr::from(0xcb00_7100 + n))),
        (0u128..1024).prop_map(|n| IpAddr::from(Ipv6Addr::from((0x2a00u128 << 112) + n))),
        (0u32..16).prop_map(|n| IpAddr::from(Ipv4Addr::from(0xc000_0000 + n))),
        (0u128..1024).prop_map(|n| IpAddr::from(Ipv6Addr::from((0x2001_0001u128 << 96) + n))),
    ]
}

fn net() -> impl Strategy<Value = ipnet::IpNet> {
    (addr(), 0u8..10).prop_map(|(ip, shrink)| {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        ipnet::IpNet::new(ip, max - shrink).unwrap().trunc()
    })
}

fn cluster(i: usize) -> impl Strategy<Value = Cluster> {
    let nodes = prop::collection::vec((addr(), prop::option::of(addr())), 0..4);
    let lbs = prop::collection::vec((addr(), prop::option::of(addr())), 0..3);
    let cidrs = || prop::collection::vec(net(), 0..3);
    let v6 = prop::option::of((0u128..1024).prop_map(|n| IpAddr::from(Ipv6Addr::from((0x2a00u128 << 112) + n))));
    (addr(), v6, cidrs(), cidrs(), cidrs(), nodes, lbs).prop_map(move |(egress, v6, nets, pods, svcs, nodes, lbs)| {
        let mut b =
            Cluster::builder(format!("c{i}")).validation(Validation::strict().allow_non_global(true)).egress_ip(egress);
        // A second egress IP when the first is IPv4, so that both families meet.
        if let (true, Some(v6)) = (egress.is_ipv4(), v6) {
            b = b.egress_ip(v6);
        }
        for n in nets {
            b = b.network_cidr(n);
        }
        for n in pods {
            b = b.pod_cidr(n);
        }
        for n in svcs {
            b = b.service_cidr(n);
        }
        for (j, (private, public)) in nodes.into_iter().enumerate() {
            let node = Node::new(format!("n{j}"), private).unwrap();
            b = b.node(match public {
                Some(p) => node.with_public_ip(p),
                None => node,
            });
        }
        for (j, (public, private)) in lbs.into_iter().enumerate() {
            let lb = LoadBalancer::new(format!("lb{j}"), public).unwrap();
            b = b.load_balancer(match private {
                Some(p) => lb.with_private_ip(p),
                None => lb,
            });
        }
        b.build().unwrap()
    })
}

fn topology() -> impl Strategy<Value = Topology> {
    let clusters = (0usize..4).prop_flat_map(|n| (0..n).map(cluster).collect::<Vec<_>>());
    let lbs = prop::collection::vec(addr(), 0..3);
    let reserved = prop::collection::vec(addr(), 0..3);
    (clusters, lbs, reserved).prop_map(|(clusters, lbs, reserved)| {
        let lbs =
            lbs.into_iter().enumerate().map(|(i, ip)| LoadBalancer::new(format!("top{i}"), ip).unwrap()).collect();
        let reserved =
            reserved.into_iter().enumerate().map(|(i, ip)| ReservedIp::new(format!("r{i}"), ip).unwrap()).collect();
        Topology::new(clusters, lbs, reserved).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn index_agrees_with_the_naive_scan(topology in topology(), ips in prop::collection::vec(addr(), 1..16)) {
        for ip in ips {
            check(&topology, ip);
        }
        for c in topology.clusters() {
            for net in c.network_cidrs().iter().chain(c.pod_cidrs()).chain(c.service_cidrs()) {
                check(&topology, net.network());
                check(&topology, net.broadcast());
            }
        }
    }

    #[test]
    fn within_finds_exactly_the_answers_inside(topology in topology(), net in net()) {
        let mut inside = Vec::new();
        topology.index().within(net, &mut inside);
        let found: std::collections::BTreeSet<(IpClass, Vec<String>)> = inside
            .into_iter()
            .map(|(ip, id)| {
                let answer = topology.index().answer(id);
                prop_assert!(net.contains(&ip));
                prop_assert_eq!(topology.classify_ip(ip).class(), answer.class);
                Ok((answer.class, answer.clusters.to_vec()))
            })
            .collect::<Result<_, TestCaseError>>()?;
        let scanned: std::collections::BTreeSet<(IpClass, Vec<String>)> =
            net.hosts().chain([net.network(), net.broadcast()]).map(|ip| {
                let answer = topology.classify_ip(ip);
                (answer.class(), answer.clusters().to_vec())
            }).collect();
        prop_assert_eq!(found, scanned);
    }
}
