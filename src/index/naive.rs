//! The reference the compiled index is tested (and fuzzed) against: a plain
//! scan of every fact, written as the rules in architecture.md read.

use std::net::IpAddr;

use super::answer::WithMore;
use super::facts::Subject;
use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::node::{LoadBalancer, ReservedIp};
use crate::reason::{PoolNote, Sentence};
use crate::special::{self, Builtin};

/// What a reader of architecture.md would write: collect every fact about
/// `ip`, keep the highest-precedence class, name its clusters.
pub(crate) fn naive(
    clusters: &[Cluster],
    load_balancers: &[LoadBalancer],
    reserved_ips: &[ReservedIp],
    ip: IpAddr,
) -> (IpClass, Vec<String>) {
    let ip = ip.to_canonical();
    let mut facts: Vec<(IpClass, Option<String>)> = Vec::new();
    for c in clusters {
        let name = Some(c.name().to_owned());
        if c.egress_ips().contains(&ip) {
            facts.push((IpClass::Egress, name.clone()));
        }
        for lb in c.load_balancers() {
            if lb.public_ip() == ip || lb.private_ip() == Some(ip) {
                facts.push((IpClass::LoadBalancer, name.clone()));
            }
        }
        if c.nodes().iter().any(|n| n.private_ip() == Some(ip)) {
            facts.push((IpClass::Node, name.clone()));
        }
        for (class, nets) in [
            (IpClass::NodeNetwork, c.network_cidrs()),
            (IpClass::Pod, c.pod_cidrs()),
            (IpClass::Service, c.service_cidrs()),
        ] {
            if nets.iter().any(|n| n.contains(&ip)) {
                facts.push((class, name.clone()));
            }
        }
    }
    for lb in load_balancers {
        if lb.public_ip() == ip || lb.private_ip() == Some(ip) {
            facts.push((IpClass::LoadBalancer, None));
        }
    }
    if reserved_ips.iter().any(|r| r.ip() == ip) {
        facts.push((IpClass::Reserved, None));
    }
    if let Some(hit) = special::lookup(ip) {
        let class = if hit.builtin == Builtin::Private { IpClass::Private } else { IpClass::Special };
        facts.push((class, None));
    }
    let Some(best) = facts.iter().map(|f| f.0).min() else { return (IpClass::Public, vec![]) };
    let mut names: Vec<String> = Vec::new();
    for c in clusters {
        if facts.iter().any(|(class, name)| *class == best && name.as_deref() == Some(c.name())) {
            names.push(c.name().to_owned());
        }
    }
    (best, names)
}

/// The reason of a host address (one a cluster, LoadBalancer or reserved IP
/// names), as the rules read: the first fact of the best class decides the
/// subject, facts with no cluster first, then by cluster, then in order.
/// `None` for an address no host fact names.
pub(crate) fn naive_host_reason(
    clusters: &[Cluster],
    load_balancers: &[LoadBalancer],
    reserved_ips: &[ReservedIp],
    ip: IpAddr,
) -> Option<String> {
    let ip = ip.to_canonical();
    let mut facts: Vec<NaiveFact<'_>> = Vec::new();
    for (ci, c) in clusters.iter().enumerate() {
        for &egress in c.cluster_egress_ips().iter().filter(|&&e| e == ip) {
            let subject = if egress.is_ipv4() { Subject::ClusterIp } else { Subject::ClusterIpV6 };
            facts.push((IpClass::Egress, Some(ci), subject));
        }
        for n in c.nodes() {
            if n.public_ip() == Some(ip) && !c.cluster_egress_ips().contains(&ip) {
                facts.push((IpClass::Egress, Some(ci), Subject::PublicNode(n.name())));
            }
            if n.private_ip() == Some(ip) {
                facts.push((IpClass::Node, Some(ci), Subject::Node(n.name())));
            }
        }
        for lb in c.load_balancers() {
            lb_facts(&mut facts, lb, Some(ci), ip);
        }
    }
    for lb in load_balancers {
        lb_facts(&mut facts, lb, None, ip);
    }
    for r in reserved_ips.iter().filter(|r| r.ip() == ip) {
        facts.push((IpClass::Reserved, None, Subject::Reserved(r)));
    }
    let best = facts.iter().map(|f| f.0).min()?;
    facts.retain(|f| f.0 == best);
    // A stable sort: equal keys keep the parts' order.
    facts.sort_by_key(|f| f.1.map_or(0, |c| c + 1));
    let mut indexes: Vec<usize> = facts.iter().filter_map(|f| f.1).collect();
    indexes.dedup();
    let names: Vec<String> = indexes.iter().map(|&i| clusters[i].name().to_owned()).collect();
    let mut reason =
        Sentence { class: best, subject: WithMore(facts[0].2, facts.len() - 1), clusters: &names }.to_string();
    if best == IpClass::Egress {
        for &i in &indexes {
            reason.push_str(&PoolNote(&clusters[i]).to_string());
        }
    }
    Some(reason)
}

type NaiveFact<'a> = (IpClass, Option<usize>, Subject<'a>);

fn lb_facts<'a>(facts: &mut Vec<NaiveFact<'a>>, lb: &'a LoadBalancer, cluster: Option<usize>, ip: IpAddr) {
    if lb.public_ip() == ip {
        facts.push((IpClass::LoadBalancer, cluster, Subject::LoadBalancer(lb.name())));
    }
    if lb.private_ip() == Some(ip) {
        facts.push((IpClass::LoadBalancer, cluster, Subject::LoadBalancerPrivate(lb.name())));
    }
}
