//! The reference the compiled index is tested (and fuzzed) against: a plain
//! scan of every fact, written as the rules in architecture.md read.

use std::net::IpAddr;

use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::node::{LoadBalancer, ReservedIp};
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
        if c.nodes().iter().any(|n| n.private_ip() == ip) {
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
