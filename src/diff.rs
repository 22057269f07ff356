//! Comparing two snapshots: what changed, and whether egress drifted.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cluster::Cluster;
use crate::error::ParseNameError;
use crate::node::{LoadBalancer, ReservedIp};
use crate::topology::Topology;

/// One difference between two snapshots.
///
/// Serializes with a `"change"` tag, its [`ChangeKind`]: `cluster-added`,
/// `cluster-removed`, `cluster-renamed`, `egress-changed`, `egress-added`,
/// `egress-removed`, `load-balancer-added`, `load-balancer-removed`,
/// `reserved-ip-added`, `reserved-ip-removed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Change {
    /// A cluster appeared, with the egress IPs to whitelist for it.
    #[non_exhaustive]
    ClusterAdded {
        /// Its name.
        cluster: String,
        /// Its egress IPs.
        egress_ips: Vec<IpAddr>,
    },
    /// A cluster disappeared; its egress IPs are no longer in use.
    #[non_exhaustive]
    ClusterRemoved {
        /// Its name.
        cluster: String,
        /// The egress IPs it had.
        egress_ips: Vec<IpAddr>,
    },
    /// The same cluster (same id) under a new name. Its other changes are
    /// reported under the new name.
    #[non_exhaustive]
    ClusterRenamed {
        /// The name before.
        old: String,
        /// The name now.
        new: String,
    },
    /// The cluster IP of one address family changed: the gateway node was
    /// replaced or the cluster rebuilt, and every whitelist must change.
    #[non_exhaustive]
    EgressChanged {
        /// The cluster.
        cluster: String,
        /// The IP before.
        old: IpAddr,
        /// The IP now.
        new: IpAddr,
    },
    /// A new egress IP: a public-IP-pool node, or the cluster's IP of an
    /// address family it did not have.
    #[non_exhaustive]
    EgressAdded {
        /// The cluster.
        cluster: String,
        /// The new egress IP.
        ip: IpAddr,
    },
    /// An egress IP is gone: a public-IP-pool node's, or the cluster's IP of
    /// an address family it no longer has.
    #[non_exhaustive]
    EgressRemoved {
        /// The cluster.
        cluster: String,
        /// The egress IP that went.
        ip: IpAddr,
    },
    /// A LoadBalancer appeared.
    #[non_exhaustive]
    LoadBalancerAdded {
        /// Its cluster, if linked to one.
        cluster: Option<String>,
        /// Its name.
        name: String,
        /// Its public IP.
        ip: IpAddr,
    },
    /// A LoadBalancer disappeared.
    #[non_exhaustive]
    LoadBalancerRemoved {
        /// Its cluster, if it was linked to one.
        cluster: Option<String>,
        /// Its name.
        name: String,
        /// Its public IP.
        ip: IpAddr,
    },
    /// A reserved IP appeared.
    #[non_exhaustive]
    ReservedIpAdded {
        /// Its name.
        name: String,
        /// The address.
        ip: IpAddr,
    },
    /// A reserved IP disappeared.
    #[non_exhaustive]
    ReservedIpRemoved {
        /// Its name.
        name: String,
        /// The address.
        ip: IpAddr,
    },
}

impl Change {
    /// What kind of change this is (its `"change"` tag).
    #[must_use]
    pub const fn kind(&self) -> ChangeKind {
        match self {
            Self::ClusterAdded { .. } => ChangeKind::ClusterAdded,
            Self::ClusterRemoved { .. } => ChangeKind::ClusterRemoved,
            Self::ClusterRenamed { .. } => ChangeKind::ClusterRenamed,
            Self::EgressChanged { .. } => ChangeKind::EgressChanged,
            Self::EgressAdded { .. } => ChangeKind::EgressAdded,
            Self::EgressRemoved { .. } => ChangeKind::EgressRemoved,
            Self::LoadBalancerAdded { .. } => ChangeKind::LoadBalancerAdded,
            Self::LoadBalancerRemoved { .. } => ChangeKind::LoadBalancerRemoved,
            Self::ReservedIpAdded { .. } => ChangeKind::ReservedIpAdded,
            Self::ReservedIpRemoved { .. } => ChangeKind::ReservedIpRemoved,
        }
    }

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
            Self::ClusterRenamed { old, new } => write!(f, "cluster {old} renamed to {new} (same cluster id)"),
            Self::EgressChanged { cluster, old, new } => write!(
                f,
                "cluster {cluster}: egress IP changed from {old} to {new} (the gateway node may have been replaced): update every whitelist"
            ),
            Self::EgressAdded { cluster, ip } => write!(f, "cluster {cluster}: new egress IP {ip}: whitelist it"),
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

/// The kind of a [`Change`]: its `"change"` tag, as a value.
///
/// ```
/// use civo_egress::ChangeKind;
/// assert_eq!("cluster-renamed".parse::<ChangeKind>()?, ChangeKind::ClusterRenamed);
/// assert_eq!(ChangeKind::EgressChanged.to_string(), "egress-changed");
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// [`Change::ClusterAdded`].
    ClusterAdded,
    /// [`Change::ClusterRemoved`].
    ClusterRemoved,
    /// [`Change::ClusterRenamed`].
    ClusterRenamed,
    /// [`Change::EgressChanged`].
    EgressChanged,
    /// [`Change::EgressAdded`].
    EgressAdded,
    /// [`Change::EgressRemoved`].
    EgressRemoved,
    /// [`Change::LoadBalancerAdded`].
    LoadBalancerAdded,
    /// [`Change::LoadBalancerRemoved`].
    LoadBalancerRemoved,
    /// [`Change::ReservedIpAdded`].
    ReservedIpAdded,
    /// [`Change::ReservedIpRemoved`].
    ReservedIpRemoved,
}

impl ChangeKind {
    /// Every kind, in the order [`TopologyDiff::changes`] reports them.
    pub const ALL: &'static [Self] = &[
        Self::ClusterRemoved,
        Self::ClusterAdded,
        Self::ClusterRenamed,
        Self::EgressChanged,
        Self::EgressRemoved,
        Self::EgressAdded,
        Self::LoadBalancerRemoved,
        Self::LoadBalancerAdded,
        Self::ReservedIpRemoved,
        Self::ReservedIpAdded,
    ];

    /// The stable name, the `"change"` tag of the JSON.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClusterAdded => "cluster-added",
            Self::ClusterRemoved => "cluster-removed",
            Self::ClusterRenamed => "cluster-renamed",
            Self::EgressChanged => "egress-changed",
            Self::EgressAdded => "egress-added",
            Self::EgressRemoved => "egress-removed",
            Self::LoadBalancerAdded => "load-balancer-added",
            Self::LoadBalancerRemoved => "load-balancer-removed",
            Self::ReservedIpAdded => "reserved-ip-added",
            Self::ReservedIpRemoved => "reserved-ip-removed",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChangeKind {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| ParseNameError::new("change kind", s))
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
/// one (a renamed cluster is the same cluster, and its LoadBalancers stay
/// its own), else by name.
///
/// ```
/// use civo_egress::{diff, Change, ChangeKind, Topology};
/// let old = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let new = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.160"}]}"#)?;
/// let d = diff(&old, &new);
/// assert!(d.has_egress_drift());
/// assert!(matches!(&d.changes()[0], Change::EgressChanged { cluster, .. } if cluster == "prod"));
///
/// let renamed = Topology::from_json(r#"{"clusters": [{"name": "production", "egress_ip": "212.2.253.151"}]}"#)?;
/// let kinds: Vec<ChangeKind> = diff(&old, &renamed).changes().iter().map(Change::kind).collect();
/// assert_eq!(kinds, [ChangeKind::ClusterRemoved, ChangeKind::ClusterAdded], "no id: matched by name");
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[must_use]
pub fn diff(old: &Topology, new: &Topology) -> TopologyDiff {
    let mut changes = Vec::new();
    // For each new cluster, the old cluster it is.
    let matched: Vec<Option<usize>> = new
        .clusters()
        .iter()
        .map(|after| old.clusters().iter().position(|before| same_cluster(before, after)))
        .collect();
    for (i, before) in old.clusters().iter().enumerate() {
        if !matched.contains(&Some(i)) {
            changes.push(Change::ClusterRemoved { cluster: before.name().to_owned(), egress_ips: before.egress_ips() });
        }
    }
    for (after, m) in new.clusters().iter().zip(&matched) {
        if m.is_none() {
            changes.push(Change::ClusterAdded { cluster: after.name().to_owned(), egress_ips: after.egress_ips() });
        }
    }
    for (after, m) in new.clusters().iter().zip(&matched) {
        let Some(before) = m.map(|i| &old.clusters()[i]) else { continue };
        if before.name() != after.name() {
            changes.push(Change::ClusterRenamed { old: before.name().to_owned(), new: after.name().to_owned() });
        }
        egress_changes(before, after, &mut changes);
    }
    // LoadBalancers are keyed by the (old) cluster they belong to, so a
    // renamed cluster keeps them.
    let old_lbs = all_lbs(old, Owner::Cluster);
    let new_lbs = all_lbs(new, |j| matched[j].map_or(Owner::NewCluster(j), Owner::Cluster));
    for (owner, cluster, lb) in &old_lbs {
        if !new_lbs.iter().any(|(o, _, l)| o == owner && same_lb(l, lb)) {
            changes.push(Change::LoadBalancerRemoved {
                cluster: cluster.map(str::to_owned),
                name: lb.name().to_owned(),
                ip: lb.public_ip(),
            });
        }
    }
    for (owner, cluster, lb) in &new_lbs {
        if !old_lbs.iter().any(|(o, _, l)| o == owner && same_lb(l, lb)) {
            changes.push(Change::LoadBalancerAdded {
                cluster: cluster.map(str::to_owned),
                name: lb.name().to_owned(),
                ip: lb.public_ip(),
            });
        }
    }
    let same_reserved = |a: &ReservedIp, b: &ReservedIp| a.name() == b.name() && a.ip() == b.ip();
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

/// Whose a LoadBalancer is: an old cluster (by index, which a matched new
/// cluster shares), a new cluster with no old counterpart, or no cluster.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Cluster(usize),
    NewCluster(usize),
    Account,
}

/// One cluster in both snapshots: the same id, else the same name in the
/// same region (names repeat across regions; an unknown region matches
/// any, as snapshots written without regions do).
fn same_cluster(a: &Cluster, b: &Cluster) -> bool {
    match (a.id(), b.id()) {
        (Some(x), Some(y)) => x == y,
        _ => {
            a.name() == b.name()
                && match (a.region(), b.region()) {
                    (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                    _ => true,
                }
        }
    }
}

fn same_lb(a: &LoadBalancer, b: &LoadBalancer) -> bool {
    a.name() == b.name() && a.public_ip() == b.public_ip()
}

fn egress_changes(before: &Cluster, after: &Cluster, changes: &mut Vec<Change>) {
    let cluster = after.name().to_owned();
    let family = |c: &Cluster, v4: bool| c.cluster_egress_ips().iter().copied().find(|ip| ip.is_ipv4() == v4);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for v4 in [true, false] {
        match (family(before, v4), family(after, v4)) {
            (Some(old), Some(new)) if old != new => {
                changes.push(Change::EgressChanged { cluster: cluster.clone(), old, new });
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
    for ip in removed {
        if !new_ips.contains(&ip) {
            changes.push(Change::EgressRemoved { cluster: cluster.clone(), ip });
        }
    }
    for ip in added {
        if !old_ips.contains(&ip) {
            changes.push(Change::EgressAdded { cluster: cluster.clone(), ip });
        }
    }
}

fn all_lbs(t: &Topology, owner: impl Fn(usize) -> Owner) -> Vec<(Owner, Option<&str>, &LoadBalancer)> {
    let in_clusters = t
        .clusters()
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.load_balancers().iter().map(move |lb| (i, c.name(), lb)))
        .map(|(i, name, lb)| (owner(i), Some(name), lb));
    in_clusters.chain(t.load_balancers().iter().map(|lb| (Owner::Account, None, lb))).collect()
}
