//! `classify_ip` side by side with what a user would write instead: a linear
//! scan over `IpNet::contains` (tiny topology), `prefix-trie`'s longest-prefix
//! match (large topology); and the index build, `audit` and `whitelist`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use civo_egress::{Allowlist, Audit, Cluster, IpClass, Topology, Whitelist};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;

mod workloads;

use workloads::{large, stream_topology, stream_topology_v6, xorshift};

const TOPOLOGY: &str = include_str!("../examples/topology.json");

/// One address of each class the article names.
const PROBES: [&str; 8] =
    ["10.42.0.7", "212.2.253.151", "212.2.251.1", "192.168.1.4", "192.168.1.77", "10.43.0.10", "127.0.0.1", "8.8.8.8"];

/// The special-purpose and private ranges a careful user would list.
const BUILTINS: [(&str, IpClass); 12] = [
    ("0.0.0.0/8", IpClass::Special),
    ("100.64.0.0/10", IpClass::Special),
    ("127.0.0.0/8", IpClass::Special),
    ("169.254.0.0/16", IpClass::Special),
    ("224.0.0.0/4", IpClass::Special),
    ("240.0.0.0/4", IpClass::Special),
    ("10.0.0.0/8", IpClass::Private),
    ("172.16.0.0/12", IpClass::Private),
    ("192.168.0.0/16", IpClass::Private),
    ("::1/128", IpClass::Special),
    ("fe80::/10", IpClass::Special),
    ("fc00::/7", IpClass::Private),
];

/// Every rule of a topology, in precedence order (hosts first).
fn rules(t: &Topology) -> Vec<(IpNet, IpClass)> {
    let mut rules = Vec::new();
    for c in t.clusters() {
        rules.extend(c.egress_ips().into_iter().map(|ip| (IpNet::from(ip), IpClass::Egress)));
    }
    for c in t.clusters() {
        rules.extend(c.load_balancers().iter().map(|lb| (IpNet::from(lb.public_ip()), IpClass::LoadBalancer)));
    }
    rules.extend(t.load_balancers().iter().map(|lb| (IpNet::from(lb.public_ip()), IpClass::LoadBalancer)));
    rules.extend(t.reserved_ips().iter().map(|r| (IpNet::from(r.ip()), IpClass::Reserved)));
    for c in t.clusters() {
        rules.extend(c.nodes().iter().filter_map(|n| n.private_ip()).map(|ip| (IpNet::from(ip), IpClass::Node)));
    }
    for (class, pick) in [
        (IpClass::NodeNetwork, Cluster::network_cidrs as fn(&Cluster) -> &[IpNet]),
        (IpClass::Pod, Cluster::pod_cidrs),
        (IpClass::Service, Cluster::service_cidrs),
    ] {
        for c in t.clusters() {
            rules.extend(pick(c).iter().map(|&n| (n, class)));
        }
    }
    rules.extend(BUILTINS.iter().map(|(net, class)| (net.parse().unwrap(), *class)));
    rules
}

/// What a user would write: the first rule that contains the address wins.
fn linear_classify(rules: &[(IpNet, IpClass)], ip: IpAddr) -> IpClass {
    rules.iter().find(|(net, _)| net.contains(&ip)).map_or(IpClass::Public, |&(_, class)| class)
}

/// The prefix-trie equivalent: longest prefix wins; for equal prefixes the
/// rule inserted last wins, so rules go in reverse precedence order.
struct Trie {
    v4: PrefixMap<Ipv4Net, IpClass>,
    v6: PrefixMap<Ipv6Net, IpClass>,
}

impl Trie {
    fn new(rules: &[(IpNet, IpClass)]) -> Self {
        let mut trie = Self { v4: PrefixMap::new(), v6: PrefixMap::new() };
        for &(net, class) in rules.iter().rev() {
            match net {
                IpNet::V4(n) => trie.v4.insert(n, class),
                IpNet::V6(n) => trie.v6.insert(n, class),
            };
        }
        trie
    }

    fn classify(&self, ip: IpAddr) -> IpClass {
        let found = match ip {
            IpAddr::V4(v4) => self.v4.get_lpm(&Ipv4Net::new_assert(v4, 32)).map(|(_, c)| *c),
            IpAddr::V6(v6) => self.v6.get_lpm(&Ipv6Net::new_assert(v6, 128)).map(|(_, c)| *c),
        };
        found.unwrap_or(IpClass::Public)
    }
}

fn topology((clusters, lbs, reserved): workloads::Parts) -> Topology {
    Topology::new(clusters, lbs, reserved).unwrap()
}

/// A deterministic spread of `count` addresses.
fn spread(count: usize, pick: impl FnMut(u64) -> IpAddr) -> Vec<IpAddr> {
    xorshift(0x9e37_79b9_7f4a_7c15).take(count).map(pick).collect()
}

fn tiny(c: &mut Criterion) {
    let topology = Topology::from_json(TOPOLOGY).unwrap();
    let rules = rules(&topology);
    let probes: Vec<IpAddr> = PROBES.iter().map(|s| s.parse().unwrap()).collect();
    for &ip in &probes {
        assert_eq!(topology.classify_ip(ip).class(), linear_classify(&rules, ip), "{ip}");
    }
    let mut group = c.benchmark_group("tiny");
    group.throughput(Throughput::Elements(probes.len() as u64));
    group.bench_function("classify_ip", |b| {
        b.iter(|| {
            for &ip in &probes {
                black_box(civo_egress::classify_ip(&topology, ip).class());
            }
        })
    });
    group.bench_function("linear_scan", |b| {
        b.iter(|| {
            for &ip in &probes {
                black_box(linear_classify(&rules, ip));
            }
        })
    });
    group.finish();
}

fn large_topology(c: &mut Criterion) {
    let (clusters, lbs, reserved) = large();
    let topology = Topology::new(clusters.clone(), lbs.clone(), reserved.clone()).unwrap();
    let rules = rules(&topology);
    let trie = Trie::new(&rules);
    let hosts: Vec<IpAddr> =
        rules.iter().filter(|(n, _)| n.prefix_len() == n.max_prefix_len()).map(|(n, _)| n.addr()).collect();
    let hits = spread(1024, |s| match s % 4 {
        0 | 1 => hosts[(s >> 8) as usize % hosts.len()],
        2 => IpAddr::V4(Ipv4Addr::from(0x0a2a_0000 + (s >> 40) as u32 % 65536)),
        _ => IpAddr::V4(Ipv4Addr::from(0xc0a8_0000 + (s >> 40) as u32 % 51200)),
    });
    let misses = spread(1024, |s| match s % 2 {
        0 => IpAddr::V4(Ipv4Addr::from(0x0800_0000 + (s >> 40) as u32)),
        _ => IpAddr::V6(Ipv6Addr::from((0x2a07u128 << 112) + u128::from(s))),
    });
    for &ip in hits.iter().chain(&misses) {
        assert_eq!(topology.classify_ip(ip).class(), trie.classify(ip), "{ip}");
    }
    for (name, probes) in [("hits", &hits), ("misses", &misses)] {
        let mut group = c.benchmark_group(format!("large_{name}"));
        group.throughput(Throughput::Elements(probes.len() as u64));
        group.bench_function("classify_ip", |b| {
            b.iter(|| {
                for &ip in probes {
                    black_box(topology.classify_ip(ip).class());
                }
            })
        });
        group.bench_function("prefix_trie", |b| {
            b.iter(|| {
                for &ip in probes {
                    black_box(trie.classify(ip));
                }
            })
        });
        group.finish();
    }

    let mut group = c.benchmark_group("build");
    group.sample_size(20);
    group.bench_function("index_100k_entries", |b| {
        b.iter_batched(
            || (clusters.clone(), lbs.clone(), reserved.clone()),
            |(c, l, r)| Topology::new(c, l, r).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("prefix_trie_100k_entries", |b| b.iter(|| Trie::new(black_box(&rules))));
    group.finish();

    let lines: Vec<String> = spread(10_000, |s| match s % 5 {
        0 => hosts[(s >> 8) as usize % hosts.len()],
        1 => IpAddr::V4(Ipv4Addr::from(0x0a2a_0000 + (s >> 40) as u32 % 65536)),
        _ => IpAddr::V4(Ipv4Addr::from(0x0800_0000 + (s >> 40) as u32)),
    })
    .into_iter()
    .enumerate()
    .map(|(i, ip)| if i % 10 == 0 { format!("{} # partner {i}", IpNet::from(ip)) } else { ip.to_string() })
    .collect();
    let text = lines.join("\n");
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("parse_and_audit_10k_lines", |b| {
        b.iter(|| Audit::builder(&topology).build().unwrap().run(&Allowlist::parse(black_box(&text)).unwrap()))
    });
    group.finish();

    c.bench_function("whitelist_200_clusters", |b| b.iter(|| Whitelist::of(black_box(&topology)).unwrap()));
}

/// How many queries a random stream replays: far more than fit in cache.
const STREAM: usize = 1_000_000;

/// The article's 12-address pool: one address of each class, and more.
const POOL: [&str; 12] = [
    "10.42.0.7",
    "212.2.253.151",
    "212.2.251.1",
    "192.168.1.4",
    "192.168.1.77",
    "10.43.0.10",
    "127.0.0.1",
    "8.8.8.8",
    "10.42.3.200",
    "172.16.5.5",
    "1.1.1.1",
    "fe80::1",
];

/// 50% known hosts, 30% random global IPv6, 10% pod CIDR, 10% node networks.
fn stream_queries_v6(topology: &Topology) -> Vec<IpAddr> {
    let hosts: Vec<IpAddr> = topology.reserved_ips().iter().map(|r| r.ip()).collect();
    xorshift(0x9e37_79b9_7f4a_7c15)
        .take(STREAM)
        .map(|s| {
            let s = u128::from(s);
            let addr = match s % 10 {
                0..5 => return hosts[(s >> 16) as usize % hosts.len()],
                5..8 => (0x2000u128 << 112) | (s << 60) | (s >> 3),
                8 => (0xfd00_0042u128 << 96) | ((s >> 20) << 8),
                _ => (0xfd12u128 << 112) | (((s >> 8) % 200) << 96) | (s >> 40),
            };
            IpAddr::V6(Ipv6Addr::from(addr))
        })
        .collect()
}

/// 50% known hosts, 30% random IPv4, 10% pod CIDR, 10% node networks.
fn stream_queries(topology: &Topology) -> Vec<IpAddr> {
    let hosts: Vec<IpAddr> = topology.reserved_ips().iter().map(|r| r.ip()).collect();
    xorshift(0x9e37_79b9_7f4a_7c15)
        .take(STREAM)
        .map(|s| match s % 10 {
            0..5 => hosts[(s >> 16) as usize % hosts.len()],
            5..8 => IpAddr::V4(Ipv4Addr::from((s >> 32) as u32)),
            8 => IpAddr::V4(Ipv4Addr::from(0x0a2a_0000 + (s >> 40) as u32 % 65536)),
            _ => IpAddr::V4(Ipv4Addr::from(0xc0a8_0000 + (s >> 40) as u32 % 51200)),
        })
        .collect()
}

/// Random 1M-query streams (fixed seed), reading `.class()` of each answer:
/// what a service classifying real traffic sees, unlike the cache-hot rows.
fn random_streams(c: &mut Criterion) {
    let article = Topology::from_json(TOPOLOGY).unwrap();
    let pool: Vec<IpAddr> = POOL.iter().map(|s| s.parse().unwrap()).collect();
    let article_stream: Vec<IpAddr> =
        xorshift(0x9e37_79b9_7f4a_7c15).take(STREAM).map(|s| pool[(s >> 32) as usize % pool.len()]).collect();
    let workloads = [
        ("stream_article_12_pool", article, article_stream),
        ("stream_100k_consecutive", topology(stream_topology(100_000, false)), Vec::new()),
        ("stream_100k_scattered_slash8", topology(stream_topology(100_000, true)), Vec::new()),
        ("stream_100k_ipv6", topology(stream_topology_v6(100_000)), Vec::new()),
    ];
    for (name, topology, stream) in workloads {
        let stream = match (stream.is_empty(), name.ends_with("ipv6")) {
            (false, _) => stream,
            (true, false) => stream_queries(&topology),
            (true, true) => stream_queries_v6(&topology),
        };
        let rules = rules(&topology);
        let trie = Trie::new(&rules);
        // The trie knows only the IANA rows of `BUILTINS`: skip the others.
        let empty = Topology::empty();
        for &ip in stream.iter().step_by(97) {
            if !matches!(empty.classify_ip(ip).class(), IpClass::Special | IpClass::Private) || ip.is_loopback() {
                assert_eq!(topology.classify_ip(ip).class(), trie.classify(ip), "{ip}");
            }
        }
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(STREAM as u64));
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
        group.bench_function("classify_ip", |b| {
            b.iter(|| {
                for &ip in &stream {
                    black_box(topology.classify_ip(black_box(ip)).class());
                }
            })
        });
        group.bench_function("prefix_trie", |b| {
            b.iter(|| {
                for &ip in &stream {
                    black_box(trie.classify(black_box(ip)));
                }
            })
        });
        if rules.len() < 64 {
            group.bench_function("linear_scan", |b| {
                b.iter(|| {
                    for &ip in &stream {
                        black_box(linear_classify(&rules, black_box(ip)));
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, random_streams, tiny, large_topology);
criterion_main!(benches);
