//! Differential: on a topology and addresses made from the input, the
//! compiled index and a naive scan of the same facts must agree.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use civo_egress::{Cluster, LoadBalancer, Node, ReservedIp, Topology, Validation};
use libfuzzer_sys::fuzz_target;

/// Reads the input as a stream of small numbers.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }

    /// An address in a small universe, so that facts collide: 74.220.0.0/22,
    /// 10.0.0.0/22, 203.0.113.0/24, 2a00::/118, IPv4-mapped ones, and the
    /// IANA rows where globally reachable rows nest in special ones:
    /// 192.0.0.0/24 (192.0.0.9, 192.0.0.10) and 2001:1::/118 (2001:1::1-3).
    fn ip(&mut self) -> IpAddr {
        let (kind, hi, lo) = (self.byte(), u32::from(self.byte() & 3), u32::from(self.byte()));
        match kind % 7 {
            0 => IpAddr::V4(Ipv4Addr::from(0x4adc_0000 + (hi << 8) + lo)),
            1 => IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (hi << 8) + lo)),
            2 => IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + lo)),
            3 => IpAddr::V6(Ipv6Addr::from((0x2a00u128 << 112) + u128::from((hi << 8) + lo))),
            4 => IpAddr::V4(Ipv4Addr::from(0xc000_0000 + (lo & 15))),
            5 => IpAddr::V6(Ipv6Addr::from((0x2001_0001u128 << 96) + u128::from((hi << 8) + lo))),
            _ => IpAddr::V6(Ipv4Addr::from(0x4adc_0000 + (hi << 8) + lo).to_ipv6_mapped()),
        }
    }

    fn net(&mut self) -> ipnet::IpNet {
        let ip = self.ip().to_canonical();
        let max = if ip.is_ipv4() { 32 } else { 128 };
        ipnet::IpNet::new(ip, max - self.byte() % 12).unwrap().trunc()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let lab = Validation::strict().allow_non_global(true);
    let mut clusters = Vec::new();
    for i in 0..input.byte() % 4 {
        let mut b = Cluster::builder(format!("c{i}")).validation(lab).egress_ip(input.ip());
        if input.byte() % 2 == 1 {
            // A second egress IP: dual stack when the families differ, else
            // an error at build (and the input is skipped).
            b = b.egress_ip(input.ip());
        }
        for _ in 0..input.byte() % 3 {
            b = b.network_cidr(input.net());
        }
        for _ in 0..input.byte() % 3 {
            b = b.pod_cidr(input.net());
        }
        for _ in 0..input.byte() % 3 {
            b = b.service_cidr(input.net());
        }
        for j in 0..input.byte() % 4 {
            let Ok(node) = Node::new(format!("n{j}"), input.ip()) else { return };
            b = b.node(if input.byte() % 2 == 0 { node } else { node.with_public_ip(input.ip()) });
        }
        for j in 0..input.byte() % 3 {
            let Ok(lb) = LoadBalancer::new(format!("lb{j}"), input.ip()) else { return };
            b = b.load_balancer(lb.with_private_ip(input.ip()));
        }
        let Ok(cluster) = b.build() else { return };
        clusters.push(cluster);
    }
    let lbs = (0..input.byte() % 3).map(|j| LoadBalancer::new(format!("top{j}"), input.ip())).collect();
    let reserved: Result<Vec<_>, _> =
        (0..input.byte() % 3).map(|j| ReservedIp::new(format!("r{j}"), input.ip())).collect();
    let (Ok(lbs), Ok(mut reserved)) = (lbs, reserved) else { return };
    // A bulk of reserved IPs from one address with one stride: /24s with
    // up to 16 hosts and more (a window's edge), and IPv6 buckets that spill.
    let (base, count, stride) = (input.ip(), input.byte() % 64, u128::from(input.byte() % 5 + 1));
    for k in 0..u128::from(count) {
        let ip = match base {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4).wrapping_add((k * stride) as u32))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6).wrapping_add(k * stride))),
        };
        if let Ok(r) = ReservedIp::new(format!("bulk{k}"), ip) {
            reserved.push(r);
        }
    }
    let Ok(topology) = Topology::new(clusters, lbs, reserved) else { return };
    for ip in edges(&topology) {
        civo_egress::fuzzing::check_classify(&topology, ip);
    }
    while !input.0.is_empty() {
        civo_egress::fuzzing::check_classify(&topology, input.ip());
    }
});

/// Every edge the index compiles, with its neighbours: each host, each
/// range's first and last address, and the /24 and /16 blocks (the IPv4
/// table's) around the IPv4 ones.
fn edges(topology: &Topology) -> Vec<IpAddr> {
    let mut points: Vec<IpAddr> = Vec::new();
    let mut ranges: Vec<ipnet::IpNet> = Vec::new();
    for c in topology.clusters() {
        points.extend(c.egress_ips());
        points.extend(c.nodes().iter().flat_map(|n| [n.private_ip(), n.public_ip()]).flatten());
        points.extend(c.load_balancers().iter().flat_map(|lb| [Some(lb.public_ip()), lb.private_ip()]).flatten());
        ranges.extend(c.network_cidrs().iter().chain(c.pod_cidrs()).chain(c.service_cidrs()));
    }
    points.extend(topology.load_balancers().iter().flat_map(|lb| [Some(lb.public_ip()), lb.private_ip()]).flatten());
    points.extend(topology.reserved_ips().iter().map(|r| r.ip()));
    for ip in points.clone() {
        if let IpAddr::V4(v4) = ip {
            let n = u32::from(v4);
            for mask in [0xffu32, 0xffff] {
                points.extend([n & !mask, n | mask].map(|e| IpAddr::V4(Ipv4Addr::from(e))));
            }
        }
    }
    points.extend(ranges.iter().flat_map(|r| [r.network(), r.broadcast()]));
    points
        .into_iter()
        .flat_map(|ip| match ip {
            IpAddr::V4(v4) => {
                let n = u32::from(v4);
                [n.wrapping_sub(1), n, n.wrapping_add(1)].map(|e| IpAddr::V4(Ipv4Addr::from(e)))
            }
            IpAddr::V6(v6) => {
                let n = u128::from(v6);
                [n.wrapping_sub(1), n, n.wrapping_add(1)].map(|e| IpAddr::V6(Ipv6Addr::from(e)))
            }
        })
        .collect()
}
