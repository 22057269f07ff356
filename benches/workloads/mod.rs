//! The topologies the benchmarks and tests/memory.rs measure, built the
//! same way for both (deterministic: fixed seeds).

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use civo_egress::{Cluster, LoadBalancer, Node, ReservedIp};
use ipnet::IpNet;

/// The parts of a topology, before `Topology::new`.
pub type Parts = (Vec<Cluster>, Vec<LoadBalancer>, Vec<ReservedIp>);

/// xorshift64: a stream of pseudo-random numbers from `state`.
pub fn xorshift(mut state: u64) -> impl Iterator<Item = u64> {
    std::iter::from_fn(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some(state)
    })
}

/// 200 clusters (a quarter dual-stack), 60k LoadBalancers (10k IPv6) and
/// 40k reserved IPs: 100k host entries.
pub fn large() -> Parts {
    let v4 = |n: u32| IpAddr::V4(Ipv4Addr::from(n));
    let clusters = (0..200u32)
        .map(|i| {
            let net = |s: String| s.parse::<IpNet>().unwrap();
            let mut b = Cluster::builder(format!("c{i}")).network_cidr(net(format!("192.168.{i}.0/24")));
            // A quarter of the clusters egress over IPv6 only.
            b = if i % 4 == 0 {
                b.egress_ip(format!("2a05:d000:{i:x}::1").parse::<IpAddr>().unwrap())
            } else {
                b.egress_ip(v4(0x2d00_0001 + (i << 8)))
            };
            for n in 3..6 {
                b = b.node(Node::new(format!("c{i}-n{n}"), v4(0xc0a8_0000 + (i << 8) + n)).unwrap());
            }
            if i % 10 == 0 {
                b = b.node(
                    Node::new(format!("c{i}-edge"), v4(0xc0a8_0006 + (i << 8)))
                        .unwrap()
                        .with_public_ip(v4(0x2d00_0002 + (i << 8))),
                );
            }
            if i % 4 == 0 {
                b = b
                    .pod_cidr(net("10.42.0.0/16".into()))
                    .pod_cidr(net("fd00:42::/56".into()))
                    .network_cidr(net(format!("fd12:{i:x}::/64")));
            }
            b.build().unwrap()
        })
        .collect();
    let mut lbs: Vec<LoadBalancer> =
        (0..50_000u32).map(|j| LoadBalancer::new(format!("lb{j}"), v4(0x5b00_0000 + j)).unwrap()).collect();
    lbs.extend((0..10_000u128).map(|j| {
        LoadBalancer::new(format!("lb6-{j}"), IpAddr::V6(Ipv6Addr::from((0x2a05_e000u128 << 96) + j))).unwrap()
    }));
    let reserved = (0..40_000u32).map(|j| ReservedIp::new(format!("r{j}"), v4(0x5d00_0000 + j)).unwrap()).collect();
    (clusters, lbs, reserved)
}

/// 200 clusters and `hosts` reserved /32s, consecutive from 93.0.0.0 or
/// scattered over 93.0.0.0/8 (fixed seed).
pub fn stream_topology(hosts: u32, scattered: bool) -> Parts {
    let v4 = |n: u32| IpAddr::V4(Ipv4Addr::from(n));
    let clusters: Vec<Cluster> = (0..200u32)
        .map(|i| {
            let net = |s: String| s.parse::<IpNet>().unwrap();
            let mut b = Cluster::builder(format!("c{i}"))
                .network_cidr(net(format!("192.168.{i}.0/24")))
                .egress_ip(v4(0x2d00_0001 + (i << 8)));
            for n in 3..6 {
                b = b.node(Node::new(format!("c{i}-n{n}"), v4(0xc0a8_0000 + (i << 8) + n)).unwrap());
            }
            if i % 4 == 0 {
                b = b.pod_cidr(net("10.42.0.0/16".into()));
            }
            b.build().unwrap()
        })
        .collect();
    let addresses: Vec<u32> = if scattered {
        let mut seen = HashSet::new();
        xorshift(0x2545_f491_4f6c_dd1d)
            .map(|state| 0x5d00_0000 | ((state >> 20) as u32 & 0x00ff_ffff))
            .filter(|&a| seen.insert(a))
            .take(hosts as usize)
            .collect()
    } else {
        (0..hosts).map(|j| 0x5d00_0000 + j).collect()
    };
    let reserved =
        addresses.iter().enumerate().map(|(j, &a)| ReservedIp::new(format!("r{j}"), v4(a)).unwrap()).collect();
    (clusters, vec![], reserved)
}

/// 200 dual-stack clusters (IPv6 egress IPs, pod CIDRs and /64 node
/// networks) and `hosts` reserved IPv6 /128s, half consecutive from
/// 2a05:e000::, half scattered over 2a05:e000::/32 (fixed seed).
pub fn stream_topology_v6(hosts: u32) -> Parts {
    let v6 = |n: u128| IpAddr::V6(Ipv6Addr::from(n));
    let clusters: Vec<Cluster> = (0..200u128)
        .map(|i| {
            let net = |s: String| s.parse::<IpNet>().unwrap();
            let mut b = Cluster::builder(format!("c{i}"))
                .network_cidr(net(format!("fd12:{i:x}::/64")))
                .egress_ip(v6((0x2a05_d000u128 << 96) | (i << 64) | 1))
                .pod_cidr(net("fd00:42::/56".into()))
                .service_cidr(net("fd00:43::/112".into()));
            for n in 3..6u128 {
                b = b.node(Node::new(format!("c{i}-n{n}"), v6((0xfd12u128 << 112) | (i << 96) | n)).unwrap());
            }
            b.build().unwrap()
        })
        .collect();
    let mut seen = HashSet::new();
    let scattered = xorshift(0x2545_f491_4f6c_dd1d)
        .map(|state| (0x2a05_e000u128 << 96) | (u128::from(state) << 32) | u128::from(state >> 40));
    let addresses: Vec<u128> = (0..u128::from(hosts / 2))
        .map(|j| (0x2a05_e000u128 << 96) + j)
        .chain(scattered.filter(|&a| seen.insert(a)).take((hosts - hosts / 2) as usize))
        .collect();
    let reserved =
        addresses.iter().enumerate().map(|(j, &a)| ReservedIp::new(format!("r{j}"), v6(a)).unwrap()).collect();
    (clusters, vec![], reserved)
}
