//! [`Change`]: one difference between two snapshots, said as what the
//! partner who filters by source IP should do about it.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::names::{serde_by_name, serialized_names};
use crate::warning::Warning;

/// One difference between two snapshots, of a cluster both cover (or of
/// the account's LoadBalancers and reserved IPs).
///
/// Serializes with a `"change"` tag, its [`ChangeKind`]. Its `Display` says
/// what a partner who allows the clusters' egress IPs should do: allow a new
/// IP now; remove an old one only once the cluster no longer leaves from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Change {
    /// A cluster the older snapshot would have held (it covers its region)
    /// appeared, with its egress IPs. Not drift: a partner allows the
    /// clusters that call it.
    #[non_exhaustive]
    ClusterAdded {
        /// Its name.
        cluster: String,
        /// Its egress IPs.
        egress_ips: Vec<IpAddr>,
    },
    /// A cluster is gone: absent from the newer snapshot, which covers its
    /// region and does not leave it out. A cluster the newer snapshot left
    /// out, or whose region it does not cover, is not compared instead
    /// (see [`TopologyDiff::warnings`](crate::TopologyDiff::warnings)).
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
    /// An egress IP is gone: a public-IP-pool node's, or the cluster's IP of
    /// an address family it no longer has.
    #[non_exhaustive]
    EgressRemoved {
        /// The cluster.
        cluster: String,
        /// The egress IP that went.
        ip: IpAddr,
    },
    /// A new egress IP: a public-IP-pool node's, or the cluster's IP of an
    /// address family it did not have (an IPv6 egress).
    #[non_exhaustive]
    EgressAdded {
        /// The cluster.
        cluster: String,
        /// The new egress IP.
        ip: IpAddr,
    },
    /// A public-IP node pool is gone. Its nodes' IPs, if any, are
    /// [`EgressRemoved`](Self::EgressRemoved) changes of their own.
    #[non_exhaustive]
    PublicIpPoolRemoved {
        /// The cluster.
        cluster: String,
        /// The pool's id.
        pool: String,
        /// How many of its nodes had no public IP yet.
        pending: u32,
    },
    /// A new public-IP node pool: each of its nodes leaves from its own
    /// public IP, so the egress set grows with it.
    #[non_exhaustive]
    PublicIpPoolAdded {
        /// The cluster.
        cluster: String,
        /// The pool's id.
        pool: String,
        /// How many of its nodes have no public IP yet.
        pending: u32,
    },
    /// The number of a public-IP pool's nodes that have no public IP yet
    /// changed. When it grew, pods will leave from addresses no snapshot
    /// lists yet.
    #[non_exhaustive]
    PublicIpPendingChanged {
        /// The cluster.
        cluster: String,
        /// The pool's id.
        pool: String,
        /// Pending nodes before.
        old: u32,
        /// Pending nodes now.
        new: u32,
    },
    /// A caveat of the cluster (recorded by discovery,
    /// [`Cluster::caveats`](crate::Cluster::caveats)) no longer stands.
    #[non_exhaustive]
    CaveatRemoved {
        /// The cluster.
        cluster: String,
        /// The caveat, as the older snapshot recorded it.
        caveat: Warning,
    },
    /// A new caveat of the cluster.
    #[non_exhaustive]
    CaveatAdded {
        /// The cluster.
        cluster: String,
        /// The caveat, as the newer snapshot records it.
        caveat: Warning,
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
    /// A reserved IP disappeared.
    #[non_exhaustive]
    ReservedIpRemoved {
        /// Its name.
        name: String,
        /// The address.
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
            Self::EgressRemoved { .. } => ChangeKind::EgressRemoved,
            Self::EgressAdded { .. } => ChangeKind::EgressAdded,
            Self::PublicIpPoolRemoved { .. } => ChangeKind::PublicIpPoolRemoved,
            Self::PublicIpPoolAdded { .. } => ChangeKind::PublicIpPoolAdded,
            Self::PublicIpPendingChanged { .. } => ChangeKind::PublicIpPendingChanged,
            Self::CaveatRemoved { .. } => ChangeKind::CaveatRemoved,
            Self::CaveatAdded { .. } => ChangeKind::CaveatAdded,
            Self::LoadBalancerRemoved { .. } => ChangeKind::LoadBalancerRemoved,
            Self::LoadBalancerAdded { .. } => ChangeKind::LoadBalancerAdded,
            Self::ReservedIpRemoved { .. } => ChangeKind::ReservedIpRemoved,
            Self::ReservedIpAdded { .. } => ChangeKind::ReservedIpAdded,
        }
    }

    /// Whether this change makes a whitelist built from the older snapshot
    /// wrong: an egress IP that changed, disappeared or appeared (a
    /// public-IP node, an IPv6 egress), a new public-IP pool, more pool
    /// nodes waiting for their public IP, or a cluster that is gone. A new
    /// cluster is not drift (a partner allows the clusters that call it),
    /// and neither is a cluster that was not compared.
    ///
    /// ```
    /// use civo_egress::{diff, Topology};
    /// let old = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let new = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
    ///   "nodes": [{"name": "edge-1", "private_ip": "192.168.1.6", "public_ip": "212.2.253.170"}]}]}"#)?;
    /// assert!(diff(&old, &new).changes()[0].is_egress_drift(), "the whitelist is now short");
    /// # Ok::<(), civo_egress::TopologyError>(())
    /// ```
    #[must_use]
    pub fn is_egress_drift(&self) -> bool {
        match self {
            Self::EgressChanged { .. }
            | Self::EgressRemoved { .. }
            | Self::EgressAdded { .. }
            | Self::PublicIpPoolAdded { .. } => true,
            Self::PublicIpPendingChanged { old, new, .. } => new > old,
            Self::ClusterRemoved { egress_ips, .. } => !egress_ips.is_empty(),
            _ => false,
        }
    }
}

/// `a, b`.
pub(super) fn ips(list: &[IpAddr]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The command that proves an address stale: one pod sees only its own
/// node, so only a probe of every node does.
const CONFIRM: &str = "`civo-egress probe` (every node probed)";

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lb = |cluster: &Option<String>| cluster.as_deref().map(|c| format!(" of cluster {c}")).unwrap_or_default();
        match self {
            Self::ClusterAdded { cluster, egress_ips } => {
                write!(f, "cluster {cluster} added: if its pods call you, allow {} now", ips(egress_ips))
            }
            Self::ClusterRemoved { cluster, egress_ips } => write!(
                f,
                "cluster {cluster} removed: absent from the newer snapshot, which covers its region; once you have \
                 confirmed it was deleted (a snapshot made with `discover --cluster` omits the other clusters too), \
                 remove {}: Civo may give them to another account",
                ips(egress_ips)
            ),
            Self::ClusterRenamed { old, new } => {
                write!(f, "cluster {old} renamed to {new} (same cluster id): its egress IPs stay")
            }
            Self::EgressChanged { cluster, old, new } => write!(
                f,
                "cluster {cluster}: egress IP changed from {old} to {new} (the gateway node may have been \
                 replaced): allow {new} now; remove {old} only once {CONFIRM} lists it among the stale IPs"
            ),
            Self::EgressRemoved { cluster, ip } => write!(
                f,
                "cluster {cluster}: egress IP {ip} is gone (a public-IP node or an address family went): remove it \
                 only once {CONFIRM} lists it among the stale IPs"
            ),
            Self::EgressAdded { cluster, ip } => write!(
                f,
                "cluster {cluster}: new egress IP {ip} (a public-IP node, or a new address family): allow it now"
            ),
            Self::PublicIpPoolRemoved { cluster, pool, .. } => {
                write!(f, "cluster {cluster}: public-IP node pool {pool} is gone")
            }
            Self::PublicIpPoolAdded { cluster, pool, pending } => {
                write!(
                    f,
                    "cluster {cluster}: new public-IP node pool {pool}: each of its nodes leaves from its own public \
                     IP; allow each as it appears"
                )?;
                match pending {
                    0 => Ok(()),
                    n => write!(f, " ({n} node(s) have none yet: discover again once they have it)"),
                }
            }
            Self::PublicIpPendingChanged { cluster, pool, old, new } if new > old => write!(
                f,
                "cluster {cluster}: {new} node(s) of public-IP pool {pool} have no public IP yet (was {old}): pods \
                 on them will leave from addresses no snapshot lists; discover again once they have one, and allow \
                 them"
            ),
            Self::PublicIpPendingChanged { cluster, pool, old, new } => {
                write!(f, "cluster {cluster}: {new} node(s) of public-IP pool {pool} have no public IP yet (was {old})")
            }
            Self::CaveatRemoved { cluster, caveat } => {
                write!(f, "cluster {cluster}: caveat {} no longer recorded: {}", caveat.kind(), caveat.message())
            }
            Self::CaveatAdded { cluster, caveat } => {
                write!(f, "cluster {cluster}: new caveat {}: {}", caveat.kind(), caveat.message())
            }
            Self::LoadBalancerRemoved { cluster, name, ip } => {
                write!(f, "LoadBalancer {name}{} removed ({ip})", lb(cluster))
            }
            Self::LoadBalancerAdded { cluster, name, ip } => {
                write!(f, "LoadBalancer {name}{} added ({ip})", lb(cluster))
            }
            Self::ReservedIpRemoved { name, ip } => write!(f, "reserved IP {name} removed ({ip})"),
            Self::ReservedIpAdded { name, ip } => write!(f, "reserved IP {name} added ({ip})"),
        }
    }
}

/// The kind of a [`Change`]: its `"change"` tag, as a value.
///
/// ```
/// use civo_egress::ChangeKind;
/// assert_eq!("cluster-renamed".parse::<ChangeKind>()?, ChangeKind::ClusterRenamed);
/// assert_eq!(ChangeKind::PublicIpPendingChanged.to_string(), "public-ip-pending-changed");
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ChangeKind {
    /// [`Change::ClusterRemoved`].
    ClusterRemoved,
    /// [`Change::ClusterAdded`].
    ClusterAdded,
    /// [`Change::ClusterRenamed`].
    ClusterRenamed,
    /// [`Change::EgressChanged`].
    EgressChanged,
    /// [`Change::EgressRemoved`].
    EgressRemoved,
    /// [`Change::EgressAdded`].
    EgressAdded,
    /// [`Change::PublicIpPoolRemoved`].
    PublicIpPoolRemoved,
    /// [`Change::PublicIpPoolAdded`].
    PublicIpPoolAdded,
    /// [`Change::PublicIpPendingChanged`].
    PublicIpPendingChanged,
    /// [`Change::CaveatRemoved`].
    CaveatRemoved,
    /// [`Change::CaveatAdded`].
    CaveatAdded,
    /// [`Change::LoadBalancerRemoved`].
    LoadBalancerRemoved,
    /// [`Change::LoadBalancerAdded`].
    LoadBalancerAdded,
    /// [`Change::ReservedIpRemoved`].
    ReservedIpRemoved,
    /// [`Change::ReservedIpAdded`].
    ReservedIpAdded,
}

serialized_names!(pub ChangeKind, "change kind", {
    ClusterRemoved => "cluster-removed",
    ClusterAdded => "cluster-added",
    ClusterRenamed => "cluster-renamed",
    EgressChanged => "egress-changed",
    EgressRemoved => "egress-removed",
    EgressAdded => "egress-added",
    PublicIpPoolRemoved => "public-ip-pool-removed",
    PublicIpPoolAdded => "public-ip-pool-added",
    PublicIpPendingChanged => "public-ip-pending-changed",
    CaveatRemoved => "caveat-removed",
    CaveatAdded => "caveat-added",
    LoadBalancerRemoved => "load-balancer-removed",
    LoadBalancerAdded => "load-balancer-added",
    ReservedIpRemoved => "reserved-ip-removed",
    ReservedIpAdded => "reserved-ip-added",
});
serde_by_name!(ChangeKind);
