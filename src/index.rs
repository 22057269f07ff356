//! The compiled lookup behind `classify_ip`.
//!
//! Built once per [`Topology`](crate::Topology): every host address (egress,
//! LoadBalancer, reserved, node) goes into a hash map whose value is its final,
//! precedence-resolved answer; every range (node networks, pod and service
//! CIDRs, the IANA tables) is flattened into disjoint sorted intervals, each
//! with its answer, searched by binary search. A lookup is one hash probe and
//! one binary search, and allocates nothing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::classify::IpClass;
use crate::cluster::Cluster;
use crate::node::{LoadBalancer, ReservedIp};
use crate::special::{self, Builtin};

/// A precomputed answer, shared by every address that gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) class: IpClass,
    pub(crate) clusters: Box<[String]>,
    pub(crate) reason: Box<str>,
}

/// The answer for addresses nothing claims.
const PUBLIC: u32 = 0;

/// Multiply-fold hashing for integer keys. Keys come from the topology, not
/// from the addresses looked up, so hash flooding is not a concern here and
/// SipHash's cost is.
#[derive(Default, Clone, Copy)]
pub(crate) struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
}

type FoldMap<K> = HashMap<K, u32, BuildHasherDefault<FoldHasher>>;

/// The compiled tables of one address family (`K` is `u32` or `u128`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Family<K> {
    hosts: FoldMap<K>,
    /// The same hosts, sorted, for range queries (audit).
    sorted_hosts: Vec<(K, u32)>,
    /// Start of each interval; the first is 0, each runs to the next start.
    starts: Vec<K>,
    /// The answer of each interval.
    intervals: Vec<u32>,
}

impl<K: Copy + Ord + Hash + Into<u128> + TryFrom<u128>> Family<K> {
    #[inline]
    fn lookup(&self, key: K) -> u32 {
        if let Some(&answer) = self.hosts.get(&key) {
            return answer;
        }
        let pos = self.starts.partition_point(|&start| start <= key);
        self.intervals.get(pos.wrapping_sub(1)).copied().unwrap_or(PUBLIC)
    }

    /// Answers of every host in `lo..=hi`, and of every interval with an
    /// address there that is not a host, each with one address that has it.
    fn within(&self, lo: K, hi: K) -> Vec<(K, u32)> {
        let (lo_wide, hi_wide) = (lo.into(), hi.into());
        let host_range = |a: u128, b: u128| {
            let first = self.sorted_hosts.partition_point(|&(k, _)| k.into() < a);
            let last = self.sorted_hosts.partition_point(|&(k, _)| k.into() <= b);
            &self.sorted_hosts[first..last.max(first)]
        };
        let mut found: Vec<(K, u32)> = host_range(lo_wide, hi_wide).to_vec();
        let from = self.starts.partition_point(|&s| s <= lo).saturating_sub(1);
        for (i, (&start, &answer)) in self.starts.iter().zip(&self.intervals).enumerate().skip(from) {
            if start > hi {
                break;
            }
            let a = start.into().max(lo_wide);
            let b = self.starts.get(i + 1).map_or(hi_wide, |&next| (next.into() - 1).min(hi_wide));
            // The first address of a..=b that is not a host, if any.
            let mut example = Some(a);
            for &(host, _) in host_range(a, b) {
                if Some(host.into()) != example {
                    break;
                }
                example = example.and_then(|e| e.checked_add(1));
            }
            if let Some(example) = example.filter(|&e| e <= b)
                && let Ok(example) = K::try_from(example)
            {
                found.push((example, answer));
            }
        }
        found
    }
}

/// The index of one topology.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    answers: Vec<Answer>,
    v4: Family<u32>,
    v6: Family<u128>,
}

impl Index {
    /// The answer for `ip` (IPv4-mapped IPv6 folded to IPv4).
    #[inline]
    pub(crate) fn lookup(&self, ip: IpAddr) -> &Answer {
        let id = match ip {
            IpAddr::V4(v4) => self.v4.lookup(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.v4.lookup(u32::from(v4)),
                None => self.v6.lookup(u128::from(v6)),
            },
        };
        self.answer(id)
    }

    fn answer(&self, id: u32) -> &Answer {
        // Ids are only ever made by `Builder::intern`, so the fallback is
        // never taken; it spares the hot path a panic branch.
        self.answers.get(id as usize).unwrap_or(&self.answers[PUBLIC as usize])
    }

    /// Every distinct answer inside `net`, each with one address that has it.
    pub(crate) fn within(&self, net: IpNet) -> Vec<(IpAddr, &Answer)> {
        let hits: Vec<(IpAddr, u32)> = match net {
            IpNet::V4(n) => self
                .v4
                .within(u32::from(n.network()), u32::from(n.broadcast()))
                .into_iter()
                .map(|(k, a)| (IpAddr::from(std::net::Ipv4Addr::from(k)), a))
                .collect(),
            IpNet::V6(n) => self
                .v6
                .within(u128::from(n.network()), u128::from(n.broadcast()))
                .into_iter()
                .map(|(k, a)| (IpAddr::from(std::net::Ipv6Addr::from(k)), a))
                .collect(),
        };
        let mut seen = Vec::new();
        hits.into_iter()
            .filter(|&(_, id)| {
                let fresh = !seen.contains(&id);
                seen.push(id);
                fresh
            })
            .map(|(ip, id)| (ip, self.answer(id)))
            .collect()
    }

    /// Builds the index of a topology's parts.
    pub(crate) fn build(clusters: &[Cluster], load_balancers: &[LoadBalancer], reserved_ips: &[ReservedIp]) -> Self {
        let mut b = Builder::new(clusters);
        b.add_hosts(load_balancers, reserved_ips);
        b.add_ranges();
        b.finish()
    }
}

/// One thing the topology says about one address.
struct HostFact {
    ip: IpAddr,
    class: IpClass,
    cluster: Option<usize>,
    subject: String,
}

/// One thing the topology or the IANA tables say about a range.
struct RangeFact {
    lo: u128,
    hi: u128,
    /// Lower wins: topology classes by precedence, then the IANA tables by
    /// specificity.
    rank: (u8, u8),
    class: IpClass,
    cluster: Option<usize>,
    subject: String,
}

struct Builder<'a> {
    clusters: &'a [Cluster],
    answers: Vec<Answer>,
    interned: HashMap<(IpClass, Vec<usize>, String), u32>,
    v4: Family<u32>,
    v6: Family<u128>,
}

impl<'a> Builder<'a> {
    fn new(clusters: &'a [Cluster]) -> Self {
        let mut b = Self {
            clusters,
            answers: Vec::new(),
            interned: HashMap::new(),
            v4: Family::default(),
            v6: Family::default(),
        };
        let public = b.intern(IpClass::Public, Vec::new(), String::new());
        debug_assert_eq!(public, PUBLIC);
        b
    }

    fn intern(&mut self, class: IpClass, clusters: Vec<usize>, subject: String) -> u32 {
        let key = (class, clusters, subject);
        if let Some(&id) = self.interned.get(&key) {
            return id;
        }
        let names: Box<[String]> = key.1.iter().map(|&i| self.clusters[i].name.clone()).collect();
        let reason = crate::reason::write(key.0, &key.2, &names).into_boxed_str();
        let id = u32::try_from(self.answers.len()).unwrap_or(u32::MAX);
        self.answers.push(Answer { class: key.0, clusters: names, reason });
        self.interned.insert(key, id);
        id
    }

    fn add_hosts(&mut self, load_balancers: &[LoadBalancer], reserved_ips: &[ReservedIp]) {
        let mut facts = Vec::new();
        let fact = |ip: IpAddr, class, cluster, subject: String| HostFact { ip, class, cluster, subject };
        for (ci, c) in self.clusters.iter().enumerate() {
            facts.push(fact(c.egress_ip, IpClass::Egress, Some(ci), "cluster IP (master_ip)".into()));
            for n in &c.nodes {
                if let Some(public) = n.public_ip().filter(|&ip| ip != c.egress_ip) {
                    facts.push(fact(
                        public,
                        IpClass::Egress,
                        Some(ci),
                        format!("public IP of node {} (public-IP node pool)", n.name()),
                    ));
                }
                facts.push(fact(n.private_ip(), IpClass::Node, Some(ci), format!("node {}", n.name())));
            }
            for lb in &c.load_balancers {
                facts.extend(lb_facts(lb, Some(ci)));
            }
        }
        for lb in load_balancers {
            facts.extend(lb_facts(lb, None));
        }
        for r in reserved_ips {
            let subject = match r.assigned_to() {
                Some(a) => format!("reserved IP {} (assigned to {} {})", r.name(), a.kind(), a.name()),
                None => format!("reserved IP {} (unassigned)", r.name()),
            };
            facts.push(fact(r.ip(), IpClass::Reserved, None, subject));
        }
        facts.sort_by_key(|f| (f.ip, f.class, f.cluster));
        let mut rest = facts.as_slice();
        while let [first, ..] = rest {
            let same_ip = rest.iter().take_while(|f| f.ip == first.ip).count();
            let (group, tail) = rest.split_at(same_ip);
            rest = tail;
            let winners: Vec<&HostFact> = group.iter().filter(|f| f.class == first.class).collect();
            let mut clusters: Vec<usize> = winners.iter().filter_map(|f| f.cluster).collect();
            clusters.dedup();
            let subject = with_more(&first.subject, winners.len());
            let id = self.intern(first.class, clusters, subject);
            match first.ip {
                IpAddr::V4(v4) => {
                    self.v4.hosts.insert(u32::from(v4), id);
                    self.v4.sorted_hosts.push((u32::from(v4), id));
                }
                IpAddr::V6(v6) => {
                    self.v6.hosts.insert(u128::from(v6), id);
                    self.v6.sorted_hosts.push((u128::from(v6), id));
                }
            }
        }
    }

    fn add_ranges(&mut self) {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut push = |net: IpNet, rank, class, cluster, subject: String| {
            let fact = RangeFact { lo: 0, hi: 0, rank, class, cluster, subject };
            match net {
                IpNet::V4(n) => v4.push(RangeFact {
                    lo: u32::from(n.network()).into(),
                    hi: u32::from(n.broadcast()).into(),
                    ..fact
                }),
                IpNet::V6(n) => {
                    v6.push(RangeFact { lo: u128::from(n.network()), hi: u128::from(n.broadcast()), ..fact })
                }
            }
        };
        for (ci, c) in self.clusters.iter().enumerate() {
            let lists = [
                (IpClass::NodeNetwork, &c.network_cidrs, "private network"),
                (IpClass::Pod, &c.pod_cidrs, "pod CIDR"),
                (IpClass::Service, &c.service_cidrs, "service CIDR"),
            ];
            for (class, nets, what) in lists {
                for &net in nets {
                    push(net, (0, class as u8), class, Some(ci), format!("{what} {net}"));
                }
            }
        }
        for hit in special::all() {
            let class = match hit.builtin {
                Builtin::Private => IpClass::Private,
                Builtin::Special => IpClass::Special,
            };
            let rank = (1, 128 - hit.net.prefix_len());
            push(hit.net, rank, class, None, format!("{} {} ({})", hit.name, hit.net, hit.rfc));
        }
        let (starts, intervals) = self.flatten(v4, u128::from(u32::MAX));
        self.v4.starts = starts.into_iter().map(|s| u32::try_from(s).unwrap_or(u32::MAX)).collect();
        self.v4.intervals = intervals;
        (self.v6.starts, self.v6.intervals) = self.flatten(v6, u128::MAX);
    }

    /// Sweeps the ranges of one family into disjoint intervals covering
    /// `0..=max`, merging neighbours with the same answer.
    fn flatten(&mut self, mut facts: Vec<RangeFact>, max: u128) -> (Vec<u128>, Vec<u32>) {
        let mut points: Vec<u128> = std::iter::once(0)
            .chain(facts.iter().map(|f| f.lo))
            .chain(facts.iter().filter(|f| f.hi < max).map(|f| f.hi + 1))
            .collect();
        points.sort_unstable();
        points.dedup();
        facts.sort_by_key(|f| f.lo);
        let mut next_fact = 0;
        let mut active: Vec<usize> = Vec::new();
        let (mut starts, mut intervals) = (Vec::new(), Vec::new());
        for &point in &points {
            active.retain(|&i| facts[i].hi >= point);
            while next_fact < facts.len() && facts[next_fact].lo == point {
                active.push(next_fact);
                next_fact += 1;
            }
            let id = match active.iter().map(|&i| &facts[i]).min_by_key(|f| (f.rank, f.cluster)) {
                None => PUBLIC,
                Some(best) => {
                    let mut clusters: Vec<usize> = active
                        .iter()
                        .map(|&i| &facts[i])
                        .filter(|f| f.rank == best.rank)
                        .filter_map(|f| f.cluster)
                        .collect();
                    clusters.sort_unstable();
                    clusters.dedup();
                    let subject = best.subject.clone();
                    self.intern(best.class, clusters, subject)
                }
            };
            if intervals.last() != Some(&id) {
                starts.push(point);
                intervals.push(id);
            }
        }
        (starts, intervals)
    }

    fn finish(mut self) -> Index {
        self.v4.sorted_hosts.sort_unstable();
        self.v6.sorted_hosts.sort_unstable();
        Index { answers: self.answers, v4: self.v4, v6: self.v6 }
    }
}

fn lb_facts(lb: &LoadBalancer, cluster: Option<usize>) -> impl Iterator<Item = HostFact> + '_ {
    let public = HostFact {
        ip: lb.public_ip(),
        class: IpClass::LoadBalancer,
        cluster,
        subject: format!("LoadBalancer {}", lb.name()),
    };
    let private = lb.private_ip().map(|ip| HostFact {
        ip,
        class: IpClass::LoadBalancer,
        cluster,
        subject: format!("private side of LoadBalancer {}", lb.name()),
    });
    std::iter::once(public).chain(private)
}

fn with_more(subject: &str, count: usize) -> String {
    match count {
        0 | 1 => subject.to_owned(),
        n => format!("{subject} (and {} more)", n - 1),
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
