//! Compiling a topology into an [`Index`].

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::table::Table4;
use super::{Answer, FEW_HOSTS, Family, HAS_HOSTS, Index, Key, NESTED, PUBLIC, Slot};
use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::node::{LoadBalancer, ReservedIp};
use crate::reason;
use crate::special::{self, Builtin};

/// Builds the index of a topology's parts.
pub(crate) fn build(clusters: &[Cluster], load_balancers: &[LoadBalancer], reserved_ips: &[ReservedIp]) -> Index {
    let mut b = Builder::new(clusters);
    let (v4_hosts, v6_hosts) = b.hosts(load_balancers, reserved_ips);
    let (v4_ranges, v6_ranges) = b.ranges();
    let mut v4 = b.family(v4_hosts, v4_ranges);
    let v6 = b.family(v6_hosts, v6_ranges);
    let v4_table = Table4::build(&v4);
    // IPv4 lookups go through the table from now on.
    v4.hosts = Default::default();
    let classes = b.answers.iter().map(|a| a.class).collect();
    Index { answers: b.answers, classes, v4, v4_table, v6 }
}

/// What the topology says one host address is, borrowed until the reason is
/// written: 100k hosts must not cost 100k intermediate strings.
#[derive(Clone, Copy)]
enum Subject<'a> {
    ClusterIp,
    ClusterIpV6,
    PublicNode(&'a str),
    Node(&'a str),
    LoadBalancer(&'a str),
    LoadBalancerPrivate(&'a str),
    Reserved(&'a ReservedIp),
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClusterIp => f.write_str("cluster IP (master_ip)"),
            Self::ClusterIpV6 => f.write_str("the cluster's IPv6 egress IP"),
            Self::PublicNode(node) => write!(f, "public IP of node {node} (public-IP node pool)"),
            Self::Node(node) => write!(f, "node {node}"),
            Self::LoadBalancer(lb) => write!(f, "LoadBalancer {lb}"),
            Self::LoadBalancerPrivate(lb) => write!(f, "private side of LoadBalancer {lb}"),
            Self::Reserved(r) => match r.assigned_to() {
                Some(a) => write!(f, "reserved IP {} (assigned to {} {})", r.name(), a.kind(), a.name()),
                None => write!(f, "reserved IP {} (unassigned)", r.name()),
            },
        }
    }
}

/// A subject, and how many others of the same class share the address.
struct WithMore<'a>(Subject<'a>, usize);

impl fmt::Display for WithMore<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            0 => self.0.fmt(f),
            more => write!(f, "{} (and {more} more)", self.0),
        }
    }
}

/// Host addresses with their answers, sorted.
type Hosts<K> = Vec<(K, u32)>;

struct HostFact<'a> {
    ip: IpAddr,
    class: IpClass,
    cluster: Option<usize>,
    subject: Subject<'a>,
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
    answers: Vec<Answer>,
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
        let mut reason = reason::write(class, subject, &names);
        if class == IpClass::Egress {
            for note in clusters.iter().filter_map(|&i| reason::pool_note(&self.clusters[i])) {
                reason.push_str(&note);
            }
        }
        let reason = reason.into_boxed_str();
        let id = u32::try_from(self.answers.len())
            .ok()
            .filter(|&id| id & HAS_HOSTS == 0)
            .expect("fewer than 2^31 answers: each takes a host entry or a range"); // ok: memory runs out first
        self.answers.push(Answer { class, clusters: names, reason });
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

    /// Every host address with its final answer, per family, sorted.
    fn hosts(
        &mut self,
        load_balancers: &'a [LoadBalancer],
        reserved_ips: &'a [ReservedIp],
    ) -> (Hosts<u32>, Hosts<u128>) {
        let mut facts = Vec::new();
        let fact = |ip, class, cluster, subject| HostFact { ip, class, cluster, subject };
        for (ci, c) in self.clusters.iter().enumerate() {
            for &ip in c.cluster_egress_ips() {
                let subject = if ip.is_ipv4() { Subject::ClusterIp } else { Subject::ClusterIpV6 };
                facts.push(fact(ip, IpClass::Egress, Some(ci), subject));
            }
            for n in c.nodes() {
                if let Some(public) = n.public_ip().filter(|ip| !c.cluster_egress_ips().contains(ip)) {
                    facts.push(fact(public, IpClass::Egress, Some(ci), Subject::PublicNode(n.name())));
                }
                facts.push(fact(n.private_ip(), IpClass::Node, Some(ci), Subject::Node(n.name())));
            }
            for lb in c.load_balancers() {
                push_lb(&mut facts, lb, Some(ci));
            }
        }
        for lb in load_balancers {
            push_lb(&mut facts, lb, None);
        }
        for r in reserved_ips {
            facts.push(fact(r.ip(), IpClass::Reserved, None, Subject::Reserved(r)));
        }
        facts.sort_unstable_by_key(|f| (f.ip, f.class, f.cluster));
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        let mut rest = facts.as_slice();
        while let [first, ..] = rest {
            let same_ip = rest.iter().take_while(|f| f.ip == first.ip).count();
            let (group, tail) = rest.split_at(same_ip);
            rest = tail;
            let winners = group.iter().take_while(|f| f.class == first.class).count();
            let mut clusters: Vec<usize> = group[..winners].iter().filter_map(|f| f.cluster).collect();
            clusters.dedup();
            let id = self.push(first.class, &clusters, WithMore(first.subject, winners - 1));
            match first.ip {
                IpAddr::V4(ip) => v4.push((u32::from(ip), id)),
                IpAddr::V6(ip) => v6.push((u128::from(ip), id)),
            }
        }
        (v4, v6)
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
    fn family<K: Key>(&mut self, hosts: Hosts<K>, ranges: Vec<RangeFact>) -> Family<K> {
        let max = u128::MAX >> (128 - K::BITS);
        // The blocks that hold hosts, as merged runs of addresses.
        let mut runs: Vec<(u128, u128)> = Vec::new();
        for &(host, _) in &hosts {
            let lo = (host.into() >> K::BLOCK_BITS) << K::BLOCK_BITS;
            let hi = lo | ((1u128 << K::BLOCK_BITS) - 1);
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
        let (by_first_byte, by_second_byte) = slots(&starts);
        // A few hosts are found in `sorted_hosts`; only more earn a hash map.
        let map = if hosts.len() > FEW_HOSTS { hosts.iter().copied().collect() } else { Default::default() };
        Family { hosts: map, sorted_hosts: hosts, starts, intervals, by_first_byte, by_second_byte }
    }

    /// Sweeps the ranges of one family into disjoint intervals covering
    /// `0..=max`, split where blocks with hosts begin and end, merging
    /// neighbours with the same answer.
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

fn push_lb<'a>(facts: &mut Vec<HostFact<'a>>, lb: &'a LoadBalancer, cluster: Option<usize>) {
    facts.push(HostFact {
        ip: lb.public_ip(),
        class: IpClass::LoadBalancer,
        cluster,
        subject: Subject::LoadBalancer(lb.name()),
    });
    if let Some(ip) = lb.private_ip() {
        facts.push(HostFact {
            ip,
            class: IpClass::LoadBalancer,
            cluster,
            subject: Subject::LoadBalancerPrivate(lb.name()),
        });
    }
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
