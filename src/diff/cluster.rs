//! The changes within one cluster both snapshots hold: its egress IPs, its
//! public-IP pools, its caveats.

use std::net::IpAddr;

use crate::cluster::Cluster;
use crate::warning::Warning;

use super::change::Change;

/// Appends what changed from `before` to `after` (the same cluster), named
/// by its newer name.
pub(super) fn changes(before: &Cluster, after: &Cluster, changes: &mut Vec<Change>) {
    egress(before, after, changes);
    pools(before, after, changes);
    caveats(before, after, changes);
}

/// Per address family, the cluster IP that changed, went or came; then the
/// public-IP nodes' IPs that went or came.
fn egress(before: &Cluster, after: &Cluster, changes: &mut Vec<Change>) {
    let cluster = after.name();
    let family = |c: &Cluster, v4: bool| c.cluster_egress_ips().iter().copied().find(|ip| ip.is_ipv4() == v4);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for v4 in [true, false] {
        match (family(before, v4), family(after, v4)) {
            (Some(old), Some(new)) if old != new => {
                changes.push(Change::EgressChanged { cluster: cluster.to_owned(), old, new });
            }
            (Some(old), None) => removed.push(old),
            (None, Some(new)) => added.push(new),
            _ => {}
        }
    }
    let (old_ips, new_ips) = (before.egress_ips(), after.egress_ips());
    let own = |c: &Cluster, ip: &IpAddr| c.cluster_egress_ips().contains(ip);
    removed.extend(old_ips.iter().filter(|ip| !own(before, ip) && !new_ips.contains(ip)));
    added.extend(new_ips.iter().filter(|ip| !own(after, ip) && !old_ips.contains(ip)));
    for ip in removed.into_iter().filter(|ip| !new_ips.contains(ip)) {
        changes.push(Change::EgressRemoved { cluster: cluster.to_owned(), ip });
    }
    for ip in added.into_iter().filter(|ip| !old_ips.contains(ip)) {
        changes.push(Change::EgressAdded { cluster: cluster.to_owned(), ip });
    }
}

/// The public-IP pools that went or came, by id, and those whose count of
/// nodes without a public IP changed.
fn pools(before: &Cluster, after: &Cluster, changes: &mut Vec<Change>) {
    let cluster = after.name();
    let find = |c: &Cluster, id: &str| c.public_ip_pools().iter().find(|p| p.id() == id).map(|p| p.pending());
    for pool in before.public_ip_pools() {
        if find(after, pool.id()).is_none() {
            let (pool, pending) = (pool.id().to_owned(), pool.pending());
            changes.push(Change::PublicIpPoolRemoved { cluster: cluster.to_owned(), pool, pending });
        }
    }
    for pool in after.public_ip_pools() {
        match find(before, pool.id()) {
            None => changes.push(Change::PublicIpPoolAdded {
                cluster: cluster.to_owned(),
                pool: pool.id().to_owned(),
                pending: pool.pending(),
            }),
            Some(old) if old != pool.pending() => changes.push(Change::PublicIpPendingChanged {
                cluster: cluster.to_owned(),
                pool: pool.id().to_owned(),
                old,
                new: pool.pending(),
            }),
            Some(_) => {}
        }
    }
}

/// The caveats that went or came: a caveat is its kind, subject and
/// sentence (a reworded one went, and another came).
fn caveats(before: &Cluster, after: &Cluster, changes: &mut Vec<Change>) {
    let cluster = after.name();
    let same =
        |a: &Warning, b: &Warning| a.kind() == b.kind() && a.subject() == b.subject() && a.message() == b.message();
    let missing = |from: &Cluster, c: &Warning| !from.caveats().iter().any(|o| same(o, c));
    for caveat in before.caveats().iter().filter(|c| missing(after, c)) {
        changes.push(Change::CaveatRemoved { cluster: cluster.to_owned(), caveat: caveat.clone() });
    }
    for caveat in after.caveats().iter().filter(|c| missing(before, c)) {
        changes.push(Change::CaveatAdded { cluster: cluster.to_owned(), caveat: caveat.clone() });
    }
}
