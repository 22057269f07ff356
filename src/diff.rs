//! Comparing two snapshots: what changed, and whether egress drifted.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cluster::Cluster;
use crate::node::LoadBalancer;
use crate::topology::Topology;

/// One difference between two snapshots.
///
/// Serializes with a `"change"` tag: `cluster-added`, `cluster-removed`,
/// `egress-changed`, `egress-added`, `egress-removed`,
/// `load-balancer-added`, `load-balancer-removed`, `reserved-ip-added`,
/// `reserved-ip-removed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Change {
    /// A cluster appeared, with the egress IPs to whitelist for it.
    ClusterAdded {
        /// Its name.
        cluster: String,
        /// Its egress IPs.
        egress_ips: Vec<IpAddr>,
    },
    /// A cluster disappeared; its egress IPs are no longer in use.
    ClusterRemoved {
        /// Its name.
        cluster: String,
        /// The egress IPs it had.
        egress_ips: Vec<IpAddr>,
    },
    /// The cluster IP changed: the gateway node was replaced or the cluster
    /// rebuilt, and every whitelist must change.
    EgressChanged {
        /// The cluster.
        cluster: String,
        /// The IP before.
        old: IpAddr,
        /// The IP now.
        new: IpAddr,
    },
    /// A public-IP-pool node brought a new egress IP.
    EgressAdded {
        /// The cluster.
        cluster: String,
        /// The new egress IP.
        ip: IpAddr,
    },
    /// A public-IP-pool node's egress IP is gone.
    EgressRemoved {
        /// The cluster.
        cluster: String,
        /// The egress IP that went.
        ip: IpAddr,
    },
    /// A LoadBalancer appeared.
    LoadBalancerAdded {
        /// Its cluster, if linked to one.
        cluster: Option<String>,
        /// Its name.
        name: String,
        /// Its public IP.
        ip: IpAddr,
    },
    /// A LoadBalancer disappeared.
    LoadBalancerRemoved {
        /// Its cluster, if it was linked to one.
        cluster: Option<String>,
        /// Its name.
        name: String,
        /// Its public IP.
        ip: IpAddr,
    },
    /// A reserved IP appeared.
    ReservedIpAdded {
        /// Its name.
        name: String,
        /// The address.
        ip: IpAddr,
    },
    /// A reserved IP disappeared.
    ReservedIpRemoved {
        /// Its name.
        name: String,
        /// The address.
        ip: IpAddr,
    },
}

impl Change {
    /// Whether this change breaks an existing whitelist: an egress IP that
    /// changed or disappeared.
    #[must_use]
    pub fn is_egress_drift(&self) -> bool {
        match self {
            Self::EgressChanged { .. } | Self::EgressRemoved { .. } => true,
            Self::ClusterRemoved { egress_ips, .. } => !egress_ips.is_empty(),
            _ => false,
        }
    }
}

fn ips(list: &[IpAddr]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lb = |cluster: &Option<String>| cluster.as_deref().map(|c| format!(" of cluster {c}")).unwrap_or_default();
        match self {
            Self::ClusterAdded { cluster, egress_ips } => {
                write!(f, "cluster {cluster} added: whitelist {}", ips(egress_ips))
            }
            Self::ClusterRemoved { cluster, egress_ips } => {
                write!(f, "cluster {cluster} removed: its egress IPs {} are no longer in use", ips(egress_ips))
            }
            Self::EgressChanged { cluster, old, new } => write!(
                f,
                "cluster {cluster}: egress IP changed from {old} to {new} (the gateway node may have been replaced): update every whitelist"
            ),
            Self::EgressAdded { cluster, ip } => {
                write!(f, "cluster {cluster}: new egress IP {ip} (public-IP node pool): whitelist it")
            }
            Self::EgressRemoved { cluster, ip } => write!(f, "cluster {cluster}: egress IP {ip} is gone"),
            Self::LoadBalancerAdded { cluster, name, ip } => {
                write!(f, "LoadBalancer {name}{} added ({ip})", lb(cluster))
            }
            Self::LoadBalancerRemoved { cluster, name, ip } => {
                write!(f, "LoadBalancer {name}{} removed ({ip})", lb(cluster))
            }
            Self::ReservedIpAdded { name, ip } => write!(f, "reserved IP {name} added ({ip})"),
            Self::ReservedIpRemoved { name, ip } => write!(f, "reserved IP {name} removed ({ip})"),
        }
    }
}

/// The differences between two snapshots. Serializes as
/// `{"drift": bool, "changes": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "DiffShape", into = "DiffShape")]
pub struct TopologyDiff {
    changes: Vec<Change>,
}

#[derive(Serialize, Deserialize)]
struct DiffShape {
    #[serde(default)]
    drift: bool,
    changes: Vec<Change>,
}

impl From<DiffShape> for TopologyDiff {
    fn from(shape: DiffShape) -> Self {
        Self { changes: shape.changes }
    }
}

impl From<TopologyDiff> for DiffShape {
    fn from(diff: TopologyDiff) -> Self {
        Self { drift: diff.has_egress_drift(), changes: diff.changes }
    }
}

impl TopologyDiff {
    /// The changes: clusters and egress first, then LoadBalancers, then
    /// reserved IPs.
    #[must_use]
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether an egress IP changed or disappeared: whitelists built from the
    /// old snapshot are now wrong.
    #[must_use]
    pub fn has_egress_drift(&self) -> bool {
        self.changes.iter().any(Change::is_egress_drift)
    }
}

/// Compares two snapshots. Clusters are matched by id when both sides have
/// one (a renamed cluster is the same cluster), else by name.
///
/// ```
/// use civo_egress::{diff, Change, Topology};
/// let old = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let new = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.160"}]}"#)?;
/// let d = diff(&old, &new);
/// assert!(d.has_egress_drift());
/// assert!(matches!(d.changes()[0], Change::EgressChanged { .. }));
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[must_use]
pub fn diff(old: &Topology, new: &Topology) -> TopologyDiff {
    let mut changes = Vec::new();
    for before in old.clusters() {
        match new.clusters().iter().find(|after| same_cluster(before, after)) {
            Some(after) => egress_changes(before, after, &mut changes),
            None => changes
                .push(Change::ClusterRemoved { cluster: before.name().to_owned(), egress_ips: before.egress_ips() }),
        }
    }
    for after in new.clusters() {
        if !old.clusters().iter().any(|before| same_cluster(before, after)) {
            changes.push(Change::ClusterAdded { cluster: after.name().to_owned(), egress_ips: after.egress_ips() });
        }
    }
    let (old_lbs, new_lbs) = (all_lbs(old), all_lbs(new));
    for (cluster, lb) in &old_lbs {
        if !new_lbs.iter().any(|(c, l)| c == cluster && same_lb(l, lb)) {
            changes.push(Change::LoadBalancerRemoved {
                cluster: cluster.clone(),
                name: lb.name().to_owned(),
                ip: lb.public_ip(),
            });
        }
    }
    for (cluster, lb) in &new_lbs {
        if !old_lbs.iter().any(|(c, l)| c == cluster && same_lb(l, lb)) {
            changes.push(Change::LoadBalancerAdded {
                cluster: cluster.clone(),
                name: lb.name().to_owned(),
                ip: lb.public_ip(),
            });
        }
    }
    let same_reserved = |a: &crate::ReservedIp, b: &crate::ReservedIp| a.name() == b.name() && a.ip() == b.ip();
    for r in old.reserved_ips() {
        if !new.reserved_ips().iter().any(|n| same_reserved(n, r)) {
            changes.push(Change::ReservedIpRemoved { name: r.name().to_owned(), ip: r.ip() });
        }
    }
    for r in new.reserved_ips() {
        if !old.reserved_ips().iter().any(|o| same_reserved(o, r)) {
            changes.push(Change::ReservedIpAdded { name: r.name().to_owned(), ip: r.ip() });
        }
    }
    TopologyDiff { changes }
}

fn same_cluster(a: &Cluster, b: &Cluster) -> bool {
    match (a.id(), b.id()) {
        (Some(x), Some(y)) => x == y,
        _ => a.name() == b.name(),
    }
}

fn same_lb(a: &LoadBalancer, b: &LoadBalancer) -> bool {
    a.name() == b.name() && a.public_ip() == b.public_ip()
}

fn egress_changes(before: &Cluster, after: &Cluster, changes: &mut Vec<Change>) {
    let cluster = after.name().to_owned();
    if before.egress_ip() != after.egress_ip() {
        changes.push(Change::EgressChanged {
            cluster: cluster.clone(),
            old: before.egress_ip(),
            new: after.egress_ip(),
        });
    }
    let (old_ips, new_ips) = (before.egress_ips(), after.egress_ips());
    for &ip in old_ips.iter().skip(1) {
        if !new_ips.contains(&ip) {
            changes.push(Change::EgressRemoved { cluster: cluster.clone(), ip });
        }
    }
    for &ip in new_ips.iter().skip(1) {
        if !old_ips.contains(&ip) {
            changes.push(Change::EgressAdded { cluster: cluster.clone(), ip });
        }
    }
}

fn all_lbs(t: &Topology) -> Vec<(Option<String>, &LoadBalancer)> {
    let in_clusters =
        t.clusters().iter().flat_map(|c| c.load_balancers().iter().map(|lb| (Some(c.name().to_owned()), lb)));
    in_clusters.chain(t.load_balancers().iter().map(|lb| (None, lb))).collect()
}
