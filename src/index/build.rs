//! Compiling a topology into an [`Index`].

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::answer::{RangeAnswer, Shared};
use super::facts::{FactRef, Resources};
use super::hosts6::HostProbe;
use super::table::Table4;
use super::{Family, FoldMap, HAS_HOSTS, Index, Key, NESTED, PUBLIC, Slot};
use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::reason::{self, Sentence};
use crate::special::{self, Builtin};

/// Builds the index of a topology's resources (which the topology keeps
/// beside it).
pub(crate) fn build(resources: &Resources) -> Index {
    let mut b = Builder::new(&resources.clusters);
    let (v4_hosts, v6_hosts) = hosts(resources);
    let (v4_ranges, v6_ranges) = b.ranges();
    let mut v4 = b.family(&v4_hosts, v4_ranges);
    let mut v6 = b.family(&v6_hosts, v6_ranges);
    // Every range answer is known now: host ids follow them.
    let mut classes: Vec<IpClass> = b.answers.iter().map(|a| a.class).collect();
    let mut shared = FoldMap::default();
    v4.base = b.place(&v4_hosts, &mut classes, &mut shared);
    v6.base = b.place(&v6_hosts, &mut classes, &mut shared);
    v6.probe = HostProbe::new(&v6.host_keys);
    let v4_table = Table4::build(&v4, &classes);
    let ranges = b.answers;
    Index { ranges, classes, v4, v4_table, v6, shared }
}

/// A host address with its deciding fact, and the others of the same class
/// when more than one part claims it.
struct Host<K> {
    key: K,
    class: IpClass,
    fact: FactRef,
    /// How many more facts, and all their clusters (sorted, deduplicated).
    shared: Option<(usize, Vec<usize>)>,
}

/// Every host address with its final answer, per family, sorted.
fn hosts(resources: &Resources) -> (Vec<Host<u32>>, Vec<Host<u128>>) {
    // (address, class, cluster + 1 or 0, fact): sorting by it puts the
    // deciding fact of each address first (classes by precedence, then no
    // cluster before the clusters in order, then the parts' order).
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    resources.facts(|fact, cluster| {
        let cluster = cluster.map_or(0, |c| c + 1);
        match fact.ip {
            IpAddr::V4(ip) => v4.push((u32::from(ip), fact.class, cluster, fact.number)),
            IpAddr::V6(ip) => v6.push((u128::from(ip), fact.class, cluster, fact.number)),
        }
    });
    (group(v4), group(v6))
}

fn group<K: Key>(mut facts: Vec<(K, IpClass, usize, u32)>) -> Vec<Host<K>> {
    facts.sort_unstable();
    let mut hosts = Vec::with_capacity(facts.len());
    let mut rest = facts.as_slice();
    while let [(key, class, cluster, number), ..] = *rest {
        let same_ip = rest.iter().take_while(|f| f.0 == key).count();
        let (group, tail) = rest.split_at(same_ip);
        rest = tail;
        let winners = group.iter().take_while(|f| f.1 == class).count();
        let shared = (winners > 1).then(|| {
            let mut clusters: Vec<usize> = group[..winners].iter().filter_map(|f| f.2.checked_sub(1)).collect();
            clusters.dedup();
            (winners - 1, clusters)
        });
        hosts.push(Host { key, class, fact: FactRef::new(number, cluster.checked_sub(1)), shared });
    }
    hosts
}

/// A range the topology or the IANA tables describe.
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
    answers: Vec<RangeAnswer>,
    range_answers: HashMap<(IpClass, Vec<usize>, String), u32>,
    cluster_lists: HashMap<Vec<usize>, Arc<[String]>>,
}

impl<'a> Builder<'a> {
    fn new(clusters: &'a [Cluster]) -> Self {
        let mut b =
            Self { clusters, answers: Vec::new(), range_answers: HashMap::new(), cluster_lists: HashMap::new() };
        let public = b.push(IpClass::Public, &[], "");
        debug_assert_eq!(public, PUBLIC);
        if let Some(reason) = reason::public_while_pending(clusters) {
            b.answers[PUBLIC as usize].reason = reason.into_boxed_str();
        }
        b
    }

    /// The shared list of cluster names for these cluster indexes.
    fn names(&mut self, indexes: &[usize]) -> Arc<[String]> {
        if let Some(names) = self.cluster_lists.get(indexes) {
            return Arc::clone(names);
        }
        let names: Arc<[String]> = indexes.iter().map(|&i| self.clusters[i].name().to_owned()).collect();
        self.cluster_lists.insert(indexes.to_vec(), Arc::clone(&names));
        names
    }

    #[allow(clippy::expect_used)]
    fn push(&mut self, class: IpClass, clusters: &[usize], subject: impl fmt::Display) -> u32 {
        let names = self.names(clusters);
        let reason = Sentence { class, subject, clusters: &names }.to_string().into_boxed_str();
        let id = next_id(self.answers.len());
        self.answers.push(RangeAnswer { class, clusters: names, reason });
        id
    }

    /// Range answers repeat (every K3s cluster shares the pod CIDR): intern them.
    fn intern(&mut self, class: IpClass, clusters: Vec<usize>, subject: String) -> u32 {
        let key = (class, clusters, subject);
        if let Some(&id) = self.range_answers.get(&key) {
            return id;
        }
        let id = self.push(key.0, &key.1, &key.2);
        self.range_answers.insert(key, id);
        id
    }

    /// Gives `hosts` the next answer ids, in order: records their classes,
    /// and their shared facts by id. Returns the first id.
    fn place<K>(&mut self, hosts: &[Host<K>], classes: &mut Vec<IpClass>, shared: &mut FoldMap<u32, Shared>) -> u32 {
        let base = next_id(classes.len());
        for (id, host) in (base..).zip(hosts) {
            classes.push(host.class);
            if let Some((more, indexes)) = &host.shared {
                let clusters = self.names(indexes);
                shared.insert(id, Shared { more: *more, clusters, indexes: indexes.as_slice().into() });
            }
        }
        next_id(classes.len()); // the last id fits too
        base
    }

    /// The ranges of the clusters and the IANA tables, per family.
    fn ranges(&self) -> (Vec<RangeFact>, Vec<RangeFact>) {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        let mut push = |net: IpNet, rank, class, cluster, subject: String| {
            let (lo, hi, list) = match net {
                IpNet::V4(n) => (u32::from(n.network()).into(), u32::from(n.broadcast()).into(), &mut v4),
                IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast()), &mut v6),
            };
            list.push(RangeFact { lo, hi, rank, class, cluster, subject });
        };
        for (ci, c) in self.clusters.iter().enumerate() {
            let lists = [
                (IpClass::NodeNetwork, c.network_cidrs(), "private network"),
                (IpClass::Pod, c.pod_cidrs(), "pod CIDR"),
                (IpClass::Service, c.service_cidrs(), "service CIDR"),
            ];
            for (class, nets, what) in lists {
                for &net in nets {
                    push(net, (0, class as u8), class, Some(ci), format!("{what} {net}"));
                }
            }
        }
        for hit in special::all() {
            // A globally reachable row (192.0.0.9 inside 192.0.0.0/24) is
            // kept, so that it overrides its parent: its addresses are public.
            let class = match hit.builtin {
                _ if hit.is_global() => IpClass::Public,
                Builtin::Private => IpClass::Private,
                Builtin::Special => IpClass::Special,
            };
            let rank = (1, 128 - hit.net.prefix_len());
            push(hit.net, rank, class, None, format!("{} {} ({})", hit.name, hit.net, hit.rfc));
        }
        (v4, v6)
    }

    #[allow(clippy::expect_used)]
    fn family<K: Key>(&mut self, hosts: &[Host<K>], ranges: Vec<RangeFact>) -> Family<K> {
        let max = u128::MAX >> (128 - K::BITS);
        // The /24s that hold hosts (IPv4), as merged runs of addresses.
        let mut runs: Vec<(u128, u128)> = Vec::new();
        for host in hosts.iter().filter(|_| K::TABLED) {
            let lo = (host.key.into() >> 8) << 8;
            let hi = lo | 0xff;
            match runs.last_mut() {
                Some(last) if last.1 >= lo || last.1 + 1 == lo => last.1 = last.1.max(hi),
                _ => runs.push((lo, hi)),
            }
        }
        let (starts, intervals) = self.flatten(ranges, &runs, max);
        let starts: Vec<K> = starts
            .into_iter()
            .map(|s| K::try_from(s).expect("interval starts lie in the family's address space")) // ok: points come from its ranges
            .collect();
        let (by_first_byte, by_second_byte) = if K::TABLED { Default::default() } else { slots(&starts) };
        let (host_keys, host_facts) = hosts.iter().map(|h| (h.key, h.fact)).unzip();
        // `base` and `hosts` wait for the ids (`place`).
        Family {
            host_keys,
            host_facts,
            base: 0,
            probe: HostProbe::default(),
            starts,
            intervals,
            by_first_byte,
            by_second_byte,
        }
    }

    /// Sweeps the ranges of one family into disjoint intervals covering
    /// `0..=max`, split where the runs of /24s with hosts (`runs`, IPv4
    /// only) begin and end, merging neighbours with the same answer.
    fn flatten(&mut self, mut facts: Vec<RangeFact>, runs: &[(u128, u128)], max: u128) -> (Vec<u128>, Vec<u32>) {
        let after = |hi: u128| (hi < max).then(|| hi + 1);
        let mut points: Vec<u128> = std::iter::once(0)
            .chain(facts.iter().flat_map(|f| std::iter::once(f.lo).chain(after(f.hi))))
            .chain(runs.iter().flat_map(|r| std::iter::once(r.0).chain(after(r.1))))
            .collect();
        points.sort_unstable();
        points.dedup();
        facts.sort_by_key(|f| f.lo);
        let (mut next_fact, mut next_run) = (0, 0);
        let mut active: Vec<usize> = Vec::new();
        let (mut starts, mut intervals) = (Vec::new(), Vec::new());
        for &point in &points {
            active.retain(|&i| facts[i].hi >= point);
            while next_fact < facts.len() && facts[next_fact].lo == point {
                active.push(next_fact);
                next_fact += 1;
            }
            while next_run < runs.len() && runs[next_run].1 < point {
                next_run += 1;
            }
            let has_hosts = runs.get(next_run).is_some_and(|r| r.0 <= point);
            let id = match active.iter().map(|&i| &facts[i]).min_by_key(|f| (f.rank, f.cluster)) {
                None => PUBLIC,
                // A globally reachable IANA row: an ordinary public address.
                Some(best) if best.class == IpClass::Public => PUBLIC,
                Some(best) => {
                    let mut clusters: Vec<usize> = active
                        .iter()
                        .map(|&i| &facts[i])
                        .filter(|f| f.rank == best.rank)
                        .filter_map(|f| f.cluster)
                        .collect();
                    clusters.sort_unstable();
                    clusters.dedup();
                    let (class, subject) = (best.class, best.subject.clone());
                    self.intern(class, clusters, subject)
                }
            };
            let entry = if has_hosts { id | HAS_HOSTS } else { id };
            if intervals.last() != Some(&entry) {
                starts.push(point);
                intervals.push(entry);
            }
        }
        (starts, intervals)
    }
}

/// The answer id after `count` answers.
#[allow(clippy::expect_used)]
fn next_id(count: usize) -> u32 {
    u32::try_from(count)
        .ok()
        .filter(|&id| id & HAS_HOSTS == 0)
        .expect("fewer than 2^31 answers: each takes a host entry or a range") // ok: memory runs out first
}

/// A slice this long is worth a second-level table.
const NEST_ABOVE: u32 = 8;

/// The first-byte table of a family's intervals, and the second-byte tables
/// of its busy first bytes.
#[allow(clippy::expect_used)]
pub(super) fn slots<K: Key>(starts: &[K]) -> (Vec<Slot>, Vec<Slot>) {
    let max = u128::MAX >> (128 - K::BITS);
    let slot = |prefix: u128, bits: u32| {
        let block_lo = prefix << (K::BITS - bits);
        let block_hi = block_lo | (max >> bits);
        let lo = starts.partition_point(|&s| s.into() <= block_lo).saturating_sub(1);
        let hi = starts.partition_point(|&s| s.into() <= block_hi);
        let fit = |n: usize| u32::try_from(n).expect("fewer than 2^32 intervals"); // ok: two per range or host block
        Slot { lo: fit(lo), hi: fit(hi) }
    };
    let mut second = Vec::new();
    let first = (0..256u128)
        .map(|b| {
            let whole = slot(b, 8);
            if whole.hi - whole.lo <= NEST_ABOVE {
                return whole;
            }
            let offset = u32::try_from(second.len()).expect("at most 256 second-level tables of 256 slots"); // ok: 2^16 slots
            second.extend((0..256u128).map(|b2| slot((b << 8) | b2, 16)));
            Slot { lo: offset, hi: NESTED }
        })
        .collect();
    (first, second)
}
