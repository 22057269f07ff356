//! The resources of a topology, and a number for each host fact in them.
//!
//! A host answer stores the number of the fact that decides it and its
//! cluster (8 bytes, a [`FactRef`]) instead of its sentence: the sentence
//! is written from the fact when somebody reads it. Numbers follow the parts: each cluster owns a block
//! of two slots for its egress IPs, two per node (public, private) and two
//! per LoadBalancer (public, private); then two per LoadBalancer outside
//! any cluster; then one per reserved IP.

use std::fmt;
use std::net::IpAddr;

use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::node::{LoadBalancer, ReservedIp};

/// What a topology is made of (its clusters, the LoadBalancers outside any
/// cluster, the reserved IPs), owned by the topology beside its index, with
/// where each cluster's block of fact numbers starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Resources {
    pub(crate) clusters: Vec<Cluster>,
    pub(crate) load_balancers: Vec<LoadBalancer>,
    pub(crate) reserved_ips: Vec<ReservedIp>,
    /// Where each cluster's block of fact numbers starts, and (last) where
    /// the LoadBalancers outside any cluster start.
    offsets: Vec<u32>,
}

/// A host fact: an address, what one part says it is, and its number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fact {
    pub(crate) ip: IpAddr,
    pub(crate) class: IpClass,
    pub(crate) number: u32,
}

/// A fact as a host answer keeps it: its number, and its cluster's index
/// ([`FactRef::NO_CLUSTER`] for none), which finds the number's block at
/// once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FactRef {
    pub(crate) number: u32,
    pub(crate) cluster: u32,
}

impl FactRef {
    pub(crate) const NO_CLUSTER: u32 = u32::MAX;

    /// The reference of fact `number` of cluster `cluster`.
    ///
    /// # Panics
    ///
    /// With 2^32 - 1 clusters or more, which memory forbids long before.
    #[allow(clippy::expect_used)]
    pub(crate) fn new(number: u32, cluster: Option<usize>) -> Self {
        let cluster = cluster.map_or(Self::NO_CLUSTER, |c| {
            u32::try_from(c).ok().filter(|&c| c != Self::NO_CLUSTER).expect("fewer than 2^32 - 1 clusters") // ok: each takes memory
        });
        Self { number, cluster }
    }

    /// The index of its cluster, if it has one.
    pub(crate) fn cluster(self) -> Option<usize> {
        (self.cluster != Self::NO_CLUSTER).then_some(self.cluster as usize)
    }
}

/// What the topology says one host address is, borrowed from its parts.
#[derive(Clone, Copy)]
pub(crate) enum Subject<'a> {
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

/// Fact numbers per node or LoadBalancer (public, private), and for a
/// cluster's own egress IPs (one per family).
const SIDES: u32 = 2;
const EGRESS_SLOTS: u32 = 2;

impl Resources {
    /// Numbers the facts of these resources.
    ///
    /// # Panics
    ///
    /// When the parts hold more than 2^32 facts, which memory forbids long
    /// before.
    #[allow(clippy::expect_used)]
    pub(crate) fn new(
        clusters: Vec<Cluster>,
        load_balancers: Vec<LoadBalancer>,
        reserved_ips: Vec<ReservedIp>,
    ) -> Self {
        let fit = |n: usize| u32::try_from(n).expect("fewer than 2^32 host facts"); // ok: each costs a part in memory
        let mut offsets = Vec::with_capacity(clusters.len() + 1);
        let mut next = 0u32;
        for c in &clusters {
            offsets.push(next);
            let slots =
                EGRESS_SLOTS as usize + SIDES as usize * c.nodes().len() + SIDES as usize * c.load_balancers().len();
            next = next.checked_add(fit(slots)).expect("fewer than 2^32 host facts"); // ok: as above
        }
        offsets.push(next);
        let lbs = fit(SIDES as usize * load_balancers.len());
        next.checked_add(lbs).and_then(|n| n.checked_add(fit(reserved_ips.len()))).expect("fewer than 2^32 host facts"); // ok: as above
        Self { clusters, load_balancers, reserved_ips, offsets }
    }

    /// Every host fact, with the cluster it belongs to, in number order.
    pub(crate) fn facts(&self, mut each: impl FnMut(Fact, Option<usize>)) {
        let mut emit = |ip, class, number, cluster| each(Fact { ip, class, number }, cluster);
        for (ci, (c, &base)) in self.clusters.iter().zip(&self.offsets).enumerate() {
            for (number, &ip) in (base..).zip(c.cluster_egress_ips()) {
                emit(ip, IpClass::Egress, number, Some(ci));
            }
            let mut number = base + EGRESS_SLOTS;
            for n in c.nodes() {
                // A public node IP that is also the cluster's is that fact.
                if let Some(public) = n.public_ip().filter(|ip| !c.cluster_egress_ips().contains(ip)) {
                    emit(public, IpClass::Egress, number, Some(ci));
                }
                if let Some(private) = n.private_ip() {
                    emit(private, IpClass::Node, number + 1, Some(ci));
                }
                number += SIDES;
            }
            lb_facts(&mut emit, c.load_balancers(), number, Some(ci));
        }
        let lbs = self.lbs_start();
        lb_facts(&mut emit, &self.load_balancers, lbs, None);
        let reserved = lbs + SIDES * u32::try_from(self.load_balancers.len()).unwrap_or(u32::MAX);
        for (number, r) in (reserved..).zip(&self.reserved_ips) {
            emit(r.ip(), IpClass::Reserved, number, None);
        }
    }

    #[allow(clippy::expect_used)]
    fn lbs_start(&self) -> u32 {
        *self.offsets.last().expect("one offset more than clusters") // ok: pushed in `new`
    }

    /// The cluster of a fact (if any), and what it says.
    ///
    /// # Panics
    ///
    /// When `fact` was not made from [`facts`](Self::facts).
    #[allow(clippy::expect_used)]
    pub(crate) fn subject(&self, fact: FactRef) -> (Option<usize>, Subject<'_>) {
        const MADE: &str = "fact numbers are made by `facts` over these resources"; // ok: the index stores no other
        let number = fact.number;
        let Some(ci) = fact.cluster() else {
            let lbs = self.lbs_start();
            let past = number.checked_sub(lbs).expect(MADE); // ok: MADE says why
            let (slot, side) = (past / SIDES, past % SIDES);
            if let Some(lb) = self.load_balancers.get(slot as usize) {
                return (None, lb_subject(lb, side));
            }
            let reserved = lbs + SIDES * u32::try_from(self.load_balancers.len()).expect(MADE); // ok: MADE says why
            let r = self.reserved_ips.get((number - reserved) as usize).expect(MADE); // ok: MADE says why
            return (None, Subject::Reserved(r));
        };
        let (c, start) = self.clusters.get(ci).zip(self.offsets.get(ci)).expect(MADE); // ok: MADE says why
        let local = number.checked_sub(*start).expect(MADE); // ok: MADE says why
        let subject = if local < EGRESS_SLOTS {
            let egress = c.cluster_egress_ips().get(local as usize).expect(MADE); // ok: MADE says why
            if egress.is_ipv4() { Subject::ClusterIp } else { Subject::ClusterIpV6 }
        } else {
            let (slot, side) = ((local - EGRESS_SLOTS) / SIDES, (local - EGRESS_SLOTS) % SIDES);
            match c.nodes().get(slot as usize) {
                Some(n) if side == 0 => Subject::PublicNode(n.name()),
                Some(n) => Subject::Node(n.name()),
                None => {
                    let at = slot as usize - c.nodes().len();
                    lb_subject(c.load_balancers().get(at).expect(MADE), side) // ok: MADE says why
                }
            }
        };
        (Some(ci), subject)
    }
}

fn lb_facts(
    emit: &mut impl FnMut(IpAddr, IpClass, u32, Option<usize>),
    lbs: &[LoadBalancer],
    start: u32,
    cluster: Option<usize>,
) {
    for (number, lb) in (start..).step_by(SIDES as usize).zip(lbs) {
        emit(lb.public_ip(), IpClass::LoadBalancer, number, cluster);
        if let Some(ip) = lb.private_ip() {
            emit(ip, IpClass::LoadBalancer, number + 1, cluster);
        }
    }
}

fn lb_subject(lb: &LoadBalancer, side: u32) -> Subject<'_> {
    if side == 0 { Subject::LoadBalancer(lb.name()) } else { Subject::LoadBalancerPrivate(lb.name()) }
}
