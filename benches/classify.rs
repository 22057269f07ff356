//! `classify_ip` on the article's topology against a hand-written linear scan.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::IpAddr;

use civo_egress::{IpClass, Topology};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::IpNet;

const TOPOLOGY: &str = include_str!("../examples/topology.json");

/// The addresses of the CLI example: one of each class the article names.
const PROBES: [&str; 8] =
    ["10.42.0.7", "212.2.253.151", "212.2.251.1", "192.168.1.4", "192.168.1.77", "10.43.0.10", "127.0.0.1", "8.8.8.8"];

/// What a user would write without this crate: a list of rules in precedence
/// order, checked one by one with `IpNet::contains`.
fn linear_rules(t: &Topology) -> Vec<(IpNet, IpClass)> {
    let mut rules = Vec::new();
    for c in t.clusters() {
        rules.extend(c.egress_ips().into_iter().map(|ip| (IpNet::from(ip), IpClass::Egress)));
        rules.extend(c.load_balancers().iter().map(|lb| (IpNet::from(lb.public_ip()), IpClass::LoadBalancer)));
        rules.extend(c.nodes().iter().map(|n| (IpNet::from(n.private_ip()), IpClass::Node)));
        rules.extend(c.network_cidrs().iter().map(|&n| (n, IpClass::NodeNetwork)));
        rules.extend(c.pod_cidrs().iter().map(|&n| (n, IpClass::Pod)));
        rules.extend(c.service_cidrs().iter().map(|&n| (n, IpClass::Service)));
    }
    for (net, class) in [
        ("127.0.0.0/8", IpClass::Special),
        ("169.254.0.0/16", IpClass::Special),
        ("100.64.0.0/10", IpClass::Special),
        ("224.0.0.0/4", IpClass::Special),
        ("10.0.0.0/8", IpClass::Private),
        ("172.16.0.0/12", IpClass::Private),
        ("192.168.0.0/16", IpClass::Private),
    ] {
        rules.push((net.parse().unwrap(), class));
    }
    rules
}

fn linear_classify(rules: &[(IpNet, IpClass)], ip: IpAddr) -> IpClass {
    rules.iter().find(|(net, _)| net.contains(&ip)).map_or(IpClass::Public, |&(_, class)| class)
}

fn tiny(c: &mut Criterion) {
    let topology = Topology::from_json(TOPOLOGY).unwrap();
    let rules = linear_rules(&topology);
    let probes: Vec<IpAddr> = PROBES.iter().map(|s| s.parse().unwrap()).collect();
    for &ip in &probes {
        assert_eq!(topology.classify_ip(ip).class(), linear_classify(&rules, ip), "{ip}");
    }
    let mut group = c.benchmark_group("tiny");
    group.throughput(Throughput::Elements(probes.len() as u64));
    group.bench_function("classify_ip", |b| {
        b.iter(|| {
            for &ip in &probes {
                black_box(topology.classify_ip(black_box(ip)).class());
            }
        })
    });
    group.bench_function("linear_scan", |b| {
        b.iter(|| {
            for &ip in &probes {
                black_box(linear_classify(black_box(&rules), black_box(ip)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, tiny);
criterion_main!(benches);
