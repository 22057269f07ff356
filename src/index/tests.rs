//! The compiled index against a naive scan of the same facts. (Test code
//! only may drive the index through `Topology`, the layer above it.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::naive::{naive, naive_host_reason};
use crate::special;
use crate::{Cluster, IpClass, LoadBalancer, Node, ReservedIp, Topology, Validation};

fn check(topology: &Topology, ip: IpAddr) {
    let fast = topology.classify_ip(ip);
    let (class, clusters) = naive(topology.clusters(), topology.load_balancers(), topology.reserved_ips(), ip);
    assert_eq!((fast.class(), fast.clusters()), (class, clusters.as_slice()), "{ip}: {fast}");
    let parts = (topology.clusters(), topology.load_balancers(), topology.reserved_ips());
    if let Some(reason) = naive_host_reason(parts.0, parts.1, parts.2, ip) {
        assert_eq!(fast.reason(), reason, "{ip}");
    }
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
    let classes: Vec<IpClass> = found.iter().map(|&(_, id)| topology.answer(id).class()).collect();
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

/// Every edge of the compiled index, each with its neighbours: the interval
/// starts of both families, every host, and the /24 and /16 blocks (the
/// 16-8-8 table's) of the IPv4 ones.
fn edges(topology: &Topology) -> Vec<IpAddr> {
    let index = topology.index();
    let mut v4: Vec<u32> = Vec::new();
    for &start in &index.v4.starts {
        v4.extend([start.wrapping_sub(1), start, start.wrapping_add(1)]);
    }
    for &host in &index.v4.host_keys {
        v4.extend([host.wrapping_sub(1), host, host.wrapping_add(1)]);
        for mask in [0xff, 0xffff] {
            let (lo, hi) = (host & !mask, host | mask);
            v4.extend([lo.wrapping_sub(1), lo, lo + 1, hi - 1, hi, hi.wrapping_add(1)]);
        }
    }
    let mut v6: Vec<u128> = Vec::new();
    for &start in index.v6.starts.iter().chain(index.v6.host_keys.iter()) {
        v6.extend([start.wrapping_sub(1), start, start.wrapping_add(1)]);
    }
    v4.sort_unstable();
    v4.dedup();
    v4.into_iter()
        .map(|n| IpAddr::V4(Ipv4Addr::from(n)))
        .chain(v6.into_iter().map(|n| IpAddr::V6(Ipv6Addr::from(n))))
        .collect()
}

#[test]
fn the_table_agrees_with_the_scan_on_dense_sparse_and_uniform_blocks() {
    let v4 = |n: u32| IpAddr::V4(Ipv4Addr::from(n));
    let net = |s: &str| s.parse::<ipnet::IpNet>().unwrap();
    // A /24 with 300 hosts (dense by count), one with 17 (one over the
    // sparse limit), one with 16 and one with 1 (sparse), one with a host
    // and a range edge inside (dense by edge), across a /16 edge.
    let mut reserved = Vec::new();
    let mut add = |from: u32, count: u32| {
        for j in 0..count {
            let n = reserved.len();
            reserved.push(ReservedIp::new(format!("r{n}"), v4(from + j)).unwrap());
        }
    };
    add(0x5d00_0000, 300);
    add(0x5d00_0200, 17);
    add(0x5d00_0300, 16);
    add(0x5d00_ff80, 1);
    add(0x5d01_0000, 1);
    add(0x5d02_0010, 1);
    let cluster = Cluster::builder("a")
        .validation(Validation::strict().allow_non_global(true))
        .egress_ip(v4(0x5d02_0001))
        .network_cidr(net("93.2.0.0/28"))
        .pod_cidr(net("93.0.0.0/15"))
        .service_cidr(net("93.0.3.128/25"))
        .node(Node::new("n", v4(0x5d02_0005)).unwrap())
        .build()
        .unwrap();
    let topology = Topology::new(vec![cluster], vec![], reserved).unwrap();
    for ip in edges(&topology) {
        check(&topology, ip);
    }
    for n in (0x5cff_ff00u32..0x5d03_0100).step_by(7).chain(0x5d00_0000..0x5d00_0400) {
        check(&topology, v4(n));
    }
}

#[test]
fn ipv6_hosts_are_found_past_spilled_buckets() {
    let v6 = |n: u128| IpAddr::V6(Ipv6Addr::from((0x2a05_e000u128 << 96) + n));
    let reserved: Vec<ReservedIp> = (0..2000).map(|i| ReservedIp::new(format!("r{i}"), v6(i * 3)).unwrap()).collect();
    let topology = Topology::new(vec![], vec![], reserved).unwrap();
    assert!(topology.index().v6.probe.spilled() > 0, "the test needs full buckets");
    assert!(!topology.index().v6.probe.tags_collide());
    for n in 0..6000 {
        check(&topology, v6(n));
    }
}

#[test]
fn sparse_blocks_at_both_ends_of_the_address_space() {
    let v4 = |n: u32| IpAddr::V4(Ipv4Addr::from(n));
    // Hosts at .0 and .255 of the first and last /24s, and of a few more,
    // so that every one of them is sparse (more than the test budget).
    let mut addresses = vec![0, 1, 0xff, 0xffff_ff00, 0xffff_fffe, 0xffff_ffff];
    addresses.extend([0x5d00_0000, 0x5d00_00ff, 0x5d00_0100, 0x5d00_01ff, 0x5d01_0080]);
    let reserved = addresses.iter().enumerate().map(|(i, &a)| ReservedIp::new(format!("r{i}"), v4(a)));
    let reserved: Result<Vec<_>, _> = reserved.collect();
    let topology = Topology::new(vec![], vec![], reserved.unwrap()).unwrap();
    assert!(topology.index().v4_table.has_sparse());
    for &a in &addresses {
        for n in [a.wrapping_sub(1), a, a.wrapping_add(1), a & !0xff, a | 0xff] {
            check(&topology, v4(n));
        }
    }
    assert_eq!(topology.classify_ip(v4(0xffff_ffff)).class(), IpClass::Reserved);
    assert_eq!(topology.classify_ip(v4(0xffff_fffd)).class(), IpClass::Special);
}

#[test]
fn ipv6_hosts_are_found_even_when_hashed_tags_collide() {
    let v6 = |n: u128| IpAddr::V6(Ipv6Addr::from((0x2a05_e000u128 << 96) + n));
    let reserved: Vec<ReservedIp> = (0..200).map(|i| ReservedIp::new(format!("r{i}"), v6(i * 7)).unwrap()).collect();
    let topology = Topology::new(vec![], vec![], reserved).unwrap();
    // As if every tag collided: the hash table confirms nothing.
    let mut index = topology.index().clone();
    index.v6.probe = super::HostProbe::colliding(&index.v6.host_keys);
    for n in 0..1500 {
        assert_eq!(index.lookup(v6(n)), topology.index().lookup(v6(n)), "{}", v6(n));
        check(&topology, v6(n));
    }
    assert_eq!(topology.classify_ip(v6(7)).class(), IpClass::Reserved);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn index_agrees_with_the_naive_scan(topology in topology(), ips in prop::collection::vec(addr(), 1..16)) {
        for ip in ips {
            check(&topology, ip);
        }
        for ip in edges(&topology) {
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
                let answer = topology.answer(id);
                prop_assert!(net.contains(&ip));
                prop_assert_eq!(topology.classify_ip(ip).class(), answer.class());
                Ok((answer.class(), answer.clusters().to_vec()))
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
