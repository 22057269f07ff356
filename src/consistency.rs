//! What a topology says of itself: the self-contradictions that a snapshot
//! or a builder may carry and that make its answers suspicious. Pure, one
//! pass per check (sorts and hash sets: a topology of 100k nodes pays
//! milliseconds), one warning per cluster and kind naming a few examples.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::cluster::Cluster;
use crate::node::{AssignmentKind, LoadBalancer, ReservedIp};
use crate::special;
use crate::warning::{Warning, WarningKind};

/// Examples a warning names before "and N more".
const EXAMPLES: usize = 3;

/// Every self-contradiction, in a fixed order: per cluster (overlaps,
/// nodes outside the network, public private IPs, repeated node names),
/// then collisions with egress IPs, then reserved IPs on nodes.
pub(crate) fn check(clusters: &[Cluster], load_balancers: &[LoadBalancer], reserved: &[ReservedIp]) -> Vec<Warning> {
    let mut out = Vec::new();
    for c in clusters {
        overlaps(c, &mut out);
        nodes(c, &mut out);
    }
    collisions(clusters, load_balancers, reserved, &mut out);
    reserved_on_nodes(clusters, reserved, &mut out);
    out
}

fn overlaps(c: &Cluster, out: &mut Vec<Warning>) {
    for net in c.network_cidrs() {
        for (what, other) in
            c.pod_cidrs().iter().map(|p| ("pod", p)).chain(c.service_cidrs().iter().map(|s| ("service", s)))
        {
            if net.contains(other) || other.contains(net) {
                out.push(Warning::new(WarningKind::NetworkOverlap, format!(
                    "its network {net} overlaps its {what} CIDR {other}: an address there cannot be told apart (node or {what}), so classify and destination whitelists are ambiguous; check the snapshot"
                )).with_cluster(c.label()));
            }
        }
    }
}

fn nodes(c: &Cluster, out: &mut Vec<Warning>) {
    let mut outside = Examples::default();
    let mut public = Examples::default();
    for n in c.nodes() {
        let Some(ip) = n.private_ip() else { continue };
        let same_family: Vec<_> = c.network_cidrs().iter().filter(|net| net.addr().is_ipv4() == ip.is_ipv4()).collect();
        if !same_family.is_empty() && !same_family.iter().any(|net| net.contains(&ip)) {
            outside.add(format_args!("{} ({ip})", n.name()));
        }
        if is_public(ip) {
            public.add(format_args!("{} ({ip})", n.name()));
        }
    }
    if let Some(list) = outside.finish() {
        let nets: Vec<String> = c.network_cidrs().iter().map(ToString::to_string).collect();
        out.push(Warning::new(WarningKind::NodeOutsideNetwork, format!(
            "the private IP of node {list} is outside its network {}: a destination inside that network would not see it; the snapshot is stale or wrong",
            nets.join(", ")
        )).with_cluster(c.label()));
    }
    if let Some(list) = public.finish() {
        out.push(Warning::new(WarningKind::PublicPrivateIp, format!(
            "the private IP of node {list} is a public address: private IPs are RFC 1918 or ULA on Civo; the snapshot mixes up public and private addresses"
        )).with_cluster(c.label()));
    }
    let mut names: Vec<&str> = c.nodes().iter().map(|n| n.name()).collect();
    names.sort_unstable();
    let mut repeated = Examples::default();
    for pair in names.windows(2).filter(|p| p[0] == p[1]) {
        repeated.add(format_args!("{}", pair[0]));
    }
    if let Some(list) = repeated.finish() {
        out.push(Warning::new(WarningKind::DuplicateNode, format!(
            "node name {list} is used by several nodes: answers and probe reports that name a node cannot tell them apart"
        )).with_cluster(c.label()));
    }
}

/// Whether a node's "private" IP is an ordinary public address.
fn is_public(ip: IpAddr) -> bool {
    let private = match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => v6.is_unique_local(),
    };
    !private && special::lookup(ip).is_none()
}

/// A LoadBalancer's or reserved IP's address that is also an egress IP.
fn collisions(clusters: &[Cluster], lbs: &[LoadBalancer], reserved: &[ReservedIp], out: &mut Vec<Warning>) {
    let mut egress: HashMap<IpAddr, &Cluster> = HashMap::new();
    for c in clusters {
        for ip in c.cluster_egress_ips() {
            egress.entry(*ip).or_insert(c);
        }
    }
    if egress.is_empty() {
        return;
    }
    let all_lbs = clusters.iter().flat_map(|c| c.load_balancers()).chain(lbs);
    for lb in all_lbs {
        for ip in std::iter::once(lb.public_ip()).chain(lb.private_ip()) {
            if let Some(c) = egress.get(&ip) {
                out.push(Warning::new(WarningKind::EgressCollision, format!(
                    "its egress IP {ip} is also LoadBalancer {}'s: a master_ip is never a LoadBalancer's, so one of the two answers is wrong; verify the egress IP by observing before anyone whitelists it",
                    lb.name()
                )).with_cluster(c.label()));
            }
        }
    }
    for r in reserved {
        if let Some(c) = egress.get(&r.ip()) {
            out.push(Warning::new(WarningKind::EgressCollision, format!(
                "its egress IP {} is also reserved IP {}: a master_ip cannot be pinned to a reserved IP, so the answer is suspicious; verify the egress IP by observing before anyone whitelists it",
                r.ip(), r.name()
            )).with_cluster(c.label()));
        }
    }
}

/// A reserved IP assigned to an instance that is a node of a cluster: pods
/// on that node may leave from it.
fn reserved_on_nodes(clusters: &[Cluster], reserved: &[ReservedIp], out: &mut Vec<Warning>) {
    let on_instances: Vec<&ReservedIp> =
        reserved.iter().filter(|r| r.assigned_to().is_some_and(|a| a.kind() == AssignmentKind::Instance)).collect();
    if on_instances.is_empty() {
        return;
    }
    let holders: HashSet<&str> = on_instances.iter().filter_map(|r| r.assigned_to()).map(|a| a.name()).collect();
    for c in clusters {
        for n in c.nodes().iter().filter(|n| holders.contains(n.name())) {
            for r in on_instances.iter().filter(|r| r.assigned_to().is_some_and(|a| a.name() == n.name())) {
                out.push(Warning::new(WarningKind::ReservedOnNode, format!(
                    "reserved IP {} ({}) is assigned to its node {}: pods on that node may leave from it, and the egress set does not list it; verify by observing (civo-egress probe)",
                    r.name(), r.ip(), n.name()
                )).with_cluster(c.label()));
            }
        }
    }
}

/// A few examples and how many more.
#[derive(Default)]
struct Examples {
    text: String,
    count: usize,
}

impl Examples {
    fn add(&mut self, item: std::fmt::Arguments<'_>) {
        if self.count < EXAMPLES {
            if self.count > 0 {
                self.text.push_str(", ");
            }
            let _ = self.text.write_fmt(item); // ok: writing to a String cannot fail
        }
        self.count += 1;
    }

    fn finish(self) -> Option<String> {
        match self.count {
            0 => None,
            n if n > EXAMPLES => Some(format!("{} and {} more", self.text, n - EXAMPLES)),
            _ => Some(self.text),
        }
    }
}
