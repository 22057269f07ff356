//! [`Warning`]: the one shape of every caveat the crate hands out, from the
//! whitelist, discovery, the resolver, the probe and a topology's own
//! consistency checks.
//!
//! A warning has a kind to branch on (a stable kebab-case name), the
//! cluster it is about (if any), what within it ([`Subject`]: a node, a
//! pool, a source, a network) and a sentence for a person. Every JSON
//! output writes it the same way: `{"kind", "cluster"?, "node"|"pool"|
//! "source"|"network"?, "message"}`.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::names::{serde_by_name, serialized_names};

/// What a [`Warning`] is about. The names ([`as_str`](Self::as_str),
/// `Display`, `FromStr`, serde) are stable; new kinds may be added.
///
/// ```
/// use civo_egress::WarningKind;
/// assert_eq!("public-ip-pending".parse::<WarningKind>()?, WarningKind::PublicIpPending);
/// assert_eq!(WarningKind::NetworksUnknown.to_string(), "networks-unknown");
/// assert!("stale".parse::<WarningKind>().is_err());
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WarningKind {
    // What a whitelist cannot promise.
    /// Some nodes of a public-IP pool have no public IP yet: pods on them
    /// will leave from addresses the whitelist cannot list.
    Incomplete,
    /// The cluster has public-IP pools: each new node of them adds its own
    /// public IP to the egress set.
    GrowsWithPool,
    /// The destination is inside the cluster's network, so it sees the
    /// nodes' private IPs: the list changes as nodes come and go.
    FollowsNodes,
    /// The destination is not a public address, and is inside none of the
    /// cluster's networks: the cluster's pods cannot reach it privately.
    NoPrivateRoute,
    /// Discovery had to leave the cluster out of the snapshot (see
    /// [`Topology::left_out`](crate::Topology::left_out)): its egress IPs
    /// are unknown and in no whitelist built from it.
    LeftOut,

    // What discovery found about a cluster (recorded in the snapshot).
    /// The cluster's `status` is not `ACTIVE`: nothing documents what
    /// `master_ip` holds before ACTIVE, so the egress IP may still change.
    NotActive,
    /// The cluster says it is not ready, or a condition is not true: its
    /// nodes, and so its `master_ip`, may still change.
    NotReady,
    /// The cluster has no usable `master_ip`.
    NoEgressIp,
    /// No instance of the cluster carries its `master_ip` (its gateway node
    /// was replaced, or the answer is stale). Verify by observing.
    GatewayMissing,
    /// A legacy cluster: every node has its own public IP, and pods may
    /// leave from it; those IPs are in the egress set.
    Legacy,
    /// A CNI plugin other than flannel (Cilium): the single egress IP was
    /// measured on K3s with flannel only. Verify by observing.
    EgressUnmeasured,
    /// A Talos cluster: its pod and service CIDRs are Talos's upstream
    /// defaults, and its egress has never been measured.
    Talos,
    /// Nodes of a public-IP node pool leave from their own public IPs; the
    /// egress set carries them.
    PublicIpNodePool,
    /// Nodes of a public-IP node pool have no public IP yet: the egress set
    /// is incomplete and grows with each node of that pool.
    PublicIpPending,
    /// A node has a public IP of its own although its pool is not a
    /// public-IP node pool: kept in the egress set.
    UnflaggedPublicIp,
    /// The cluster was deleted between the list and the fetch.
    ClusterGone,
    /// The key may not list reserved IPs (HTTP 403).
    ReservedIpsUnknown,
    /// The key may not list LoadBalancers (HTTP 403).
    LoadBalancersUnknown,
    /// The key may not list networks (HTTP 403): the cluster's network is
    /// unknown, so a destination that may be inside it gets no answer.
    NetworksUnknown,
    /// The cluster's network, or its CIDR, is missing or absurd.
    Network,
    /// The cluster's network is connected to a customer VLAN, whose gateway
    /// may carry egress. Verify by observing.
    VlanConnected,
    /// Nodes have IPv6 addresses: IPv6 egress is unmeasured.
    Ipv6Unmeasured,
    /// No cluster in a region that was chosen by default.
    RegionDefaulted,
    /// No cluster at all in a region that was asked about.
    RegionEmpty,
    /// The key could not list one region's clusters (403 or 5xx): that
    /// region's clusters are unknown.
    RegionFailed,
    /// A value that is not an address (a placeholder, an empty field); the
    /// item was left out.
    InvalidValue,
    /// A node has no usable private IP yet (BUILDING, or an answer that is
    /// no address): it is not in the snapshot, so a destination inside the
    /// cluster's network will see an address no whitelist lists.
    NodePending,

    // What a topology says of itself ([`Topology::warnings`](crate::Topology::warnings)).
    /// A cluster's network overlaps its pod or service CIDR.
    NetworkOverlap,
    /// A node's private IP is outside its cluster's network.
    NodeOutsideNetwork,
    /// A LoadBalancer or reserved IP equals an egress IP: `master_ip`
    /// cannot be pinned, so the answer is suspicious.
    EgressCollision,
    /// A reserved IP is assigned to a node of a cluster: pods there may
    /// leave from it.
    ReservedOnNode,
    /// A node's private IP is a public address.
    PublicPrivateIp,
    /// Two nodes of one cluster share a name.
    DuplicateNode,
    /// The snapshot was written by a newer version of the format: fields
    /// this version does not know were ignored.
    NewerFormat,

    // What the resolver and the probe noticed.
    /// Several egress IPs expected: all of them must be whitelisted.
    SeveralExpected,
    /// The observed IP is not the expected one.
    Mismatch,
    /// One observer saw another address than the agreed one.
    Outlier,
    /// Observers disagree and no address won.
    Disagreement,
    /// Too few observers answered alike.
    NoQuorum,
    /// Every address the observers answered was rejected.
    AllRejected,
    /// The observers ran on a host outside the cluster: what they saw says
    /// nothing about the cluster's egress.
    HostVantage,
    /// This host's observed IP is one of the expected egress IPs; still not
    /// a confirmation.
    HostMatchesExpected,
    /// A node could not be probed.
    NotProbed,
    /// A Kubernetes node the topology does not know.
    NotInTopology,
    /// A node of the topology that Kubernetes does not list.
    NotInCluster,
    /// Expected sources disagree on the egress (a snapshot says one IP, the
    /// kubeconfig another): never confirmed, whatever was observed.
    Conflict,
    /// An expected source gave an address that cannot be an egress IP (a
    /// kubeconfig server on a loopback or private address, a tunnel): the
    /// source is not used.
    SourceUnusable,
    /// Inside the cluster, every observer hung, failed or was rejected:
    /// nothing was observed.
    NothingObserved,
    /// This runs in a pod, but not one proven to belong to the cluster
    /// asked about: its observations are treated as a host's.
    VantageUnproven,
    /// Expected egress IPs that no observation verified (a node that could
    /// not be probed, a family no observer answered).
    Unverified,
    /// A cluster or a selection one snapshot covers and the other does not:
    /// compared on what both cover.
    NotCompared,
    /// A kind this version does not know, read from a snapshot of a newer
    /// format (its name is kept at the start of the message).
    Unrecognized,
}

serialized_names!(pub WarningKind, "warning kind", {
    Incomplete => "incomplete",
    GrowsWithPool => "grows-with-pool",
    FollowsNodes => "follows-nodes",
    NoPrivateRoute => "no-private-route",
    LeftOut => "left-out",
    NotActive => "not-active",
    NotReady => "not-ready",
    NoEgressIp => "no-egress-ip",
    GatewayMissing => "gateway-missing",
    Legacy => "legacy",
    EgressUnmeasured => "egress-unmeasured",
    Talos => "talos",
    PublicIpNodePool => "public-ip-node-pool",
    PublicIpPending => "public-ip-pending",
    UnflaggedPublicIp => "unflagged-public-ip",
    ClusterGone => "cluster-gone",
    ReservedIpsUnknown => "reserved-ips-unknown",
    LoadBalancersUnknown => "load-balancers-unknown",
    NetworksUnknown => "networks-unknown",
    Network => "network",
    VlanConnected => "vlan-connected",
    Ipv6Unmeasured => "ipv6-unmeasured",
    RegionDefaulted => "region-defaulted",
    RegionEmpty => "region-empty",
    RegionFailed => "region-failed",
    InvalidValue => "invalid-value",
    NodePending => "node-pending",
    NetworkOverlap => "network-overlap",
    NodeOutsideNetwork => "node-outside-network",
    EgressCollision => "egress-collision",
    ReservedOnNode => "reserved-on-node",
    PublicPrivateIp => "public-private-ip",
    DuplicateNode => "duplicate-node",
    NewerFormat => "newer-format",
    SeveralExpected => "several-expected",
    Mismatch => "mismatch",
    Outlier => "outlier",
    Disagreement => "disagreement",
    NoQuorum => "no-quorum",
    AllRejected => "all-rejected",
    HostVantage => "host-vantage",
    HostMatchesExpected => "host-matches-expected",
    NotProbed => "not-probed",
    NotInTopology => "not-in-topology",
    NotInCluster => "not-in-cluster",
    Conflict => "conflict",
    SourceUnusable => "source-unusable",
    NothingObserved => "nothing-observed",
    VantageUnproven => "vantage-unproven",
    Unverified => "unverified",
    NotCompared => "not-compared",
    Unrecognized => "unrecognized",
});
serde_by_name!(WarningKind);

impl WarningKind {
    /// Whether a caveat of this kind means the cluster's egress set may
    /// lack addresses its pods leave from, or hold ones they never leave
    /// from: the egress was not measured, not settled, or not all known.
    /// Every deployable output of a cluster with such a caveat says so.
    #[must_use]
    pub const fn doubts_egress(self) -> bool {
        matches!(
            self,
            Self::Incomplete
                | Self::LeftOut
                | Self::NotActive
                | Self::NotReady
                | Self::NoEgressIp
                | Self::GatewayMissing
                | Self::EgressUnmeasured
                | Self::Talos
                | Self::PublicIpPending
                | Self::UnflaggedPublicIp
                | Self::VlanConnected
                | Self::Ipv6Unmeasured
                | Self::EgressCollision
                | Self::ReservedOnNode
                | Self::Unrecognized
        )
    }
}

impl WarningKind {
    /// Whether a caveat of this kind means pods of the cluster may leave
    /// from another address than the one recorded (not merely that the set
    /// may be short): then an unknown public address cannot be ruled out
    /// as its egress. A subset of [`doubts_egress`](Self::doubts_egress).
    #[must_use]
    pub const fn egress_may_be_elsewhere(self) -> bool {
        matches!(
            self,
            Self::GatewayMissing
                | Self::VlanConnected
                | Self::EgressUnmeasured
                | Self::Talos
                | Self::NotActive
                | Self::NotReady
                | Self::Ipv6Unmeasured
        )
    }
}

/// What within a cluster (or the account) a [`Warning`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Subject {
    /// A node, by name.
    Node(String),
    /// A node pool, by id.
    Pool(String),
    /// An egress source (the resolver's), by name.
    Source(String),
    /// A private network, by name or id.
    Network(String),
}

impl Subject {
    /// The JSON key it is written under: `node`, `pool`, `source`,
    /// `network`.
    #[must_use]
    pub const fn key(&self) -> &'static str {
        match self {
            Self::Node(_) => "node",
            Self::Pool(_) => "pool",
            Self::Source(_) => "source",
            Self::Network(_) => "network",
        }
    }

    /// The name it gives.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Node(s) | Self::Pool(s) | Self::Source(s) | Self::Network(s) => s,
        }
    }
}

/// `node NAME`, `pool ID`, `source NAME`, `network NAME`.
impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key(), self.name())
    }
}

/// Something the caller should know, and the reader of every output: a
/// [kind](WarningKind) to branch on, the cluster and [`Subject`] it is
/// about, and a sentence that says what it means and what to do.
///
/// Serializes as `{"kind", "cluster"?, "node"|"pool"|"source"|"network"?,
/// "message"}`, and reads that back (unknown fields rejected); displays as
/// `cluster NAME: message` (or the message alone).
///
/// ```
/// use civo_egress::{Subject, Warning, WarningKind};
/// let warning = Warning::new(WarningKind::NotProbed, "its pod never ran")
///     .with_cluster("prod")
///     .about(Subject::Node("w-2".into()));
/// assert_eq!(warning.to_string(), "cluster prod: its pod never ran");
/// let json = serde_json::to_string(&warning)?;
/// assert_eq!(json, r#"{"kind":"not-probed","cluster":"prod","node":"w-2","message":"its pod never ran"}"#);
/// assert_eq!(serde_json::from_str::<Warning>(&json)?, warning);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Warning {
    kind: WarningKind,
    cluster: Option<String>,
    subject: Option<Subject>,
    message: String,
}

impl Warning {
    /// A warning of `kind` with its sentence, about no cluster yet.
    #[must_use]
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Self { kind, cluster: None, subject: None, message: message.into() }
    }

    /// The same warning about `cluster`.
    #[must_use]
    pub fn with_cluster(mut self, cluster: impl Into<String>) -> Self {
        self.cluster = Some(cluster.into());
        self
    }

    /// The same warning about `subject` within its cluster.
    #[must_use]
    pub fn about(mut self, subject: Subject) -> Self {
        self.subject = Some(subject);
        self
    }

    /// What it is about.
    #[must_use]
    pub const fn kind(&self) -> WarningKind {
        self.kind
    }

    /// The cluster concerned, if any.
    #[must_use]
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// What within the cluster (or the account) it is about, if anything.
    #[must_use]
    pub const fn subject(&self) -> Option<&Subject> {
        self.subject.as_ref()
    }

    /// A sentence for a person: what it means and what to do.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Its fields without the cluster: how a snapshot records a cluster's
    /// caveats inside the cluster.
    pub(crate) const fn without_cluster(&self) -> WithoutCluster<'_> {
        WithoutCluster(self)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cluster {
            Some(cluster) => write!(f, "cluster {cluster}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_fields(self, true, serializer)
    }
}

/// A warning written without its cluster (see [`Warning::without_cluster`]).
pub(crate) struct WithoutCluster<'a>(&'a Warning);

impl Serialize for WithoutCluster<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_fields(self.0, false, serializer)
    }
}

fn write_fields<S: Serializer>(warning: &Warning, cluster: bool, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("kind", &warning.kind)?;
    if let (true, Some(name)) = (cluster, &warning.cluster) {
        map.serialize_entry("cluster", name)?;
    }
    if let Some(subject) = &warning.subject {
        map.serialize_entry(subject.key(), subject.name())?;
    }
    map.serialize_entry("message", &warning.message)?;
    map.end()
}

/// The fields of a warning as read, before they are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawWarning {
    pub(crate) kind: Option<String>,
    pub(crate) cluster: Option<String>,
    node: Option<String>,
    pool: Option<String>,
    source: Option<String>,
    network: Option<String>,
    pub(crate) message: Option<String>,
}

impl RawWarning {
    /// The subject named by at most one of `node`, `pool`, `source`,
    /// `network`; an error names the fields when there are several.
    pub(crate) fn subject(&mut self) -> Result<Option<Subject>, String> {
        let found: Vec<Subject> = [
            self.node.take().map(Subject::Node),
            self.pool.take().map(Subject::Pool),
            self.source.take().map(Subject::Source),
            self.network.take().map(Subject::Network),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[Subject; 1]>::try_from(found) {
            Ok([one]) => Ok(Some(one)),
            Err(found) if found.is_empty() => Ok(None),
            Err(found) => Err(format!(
                "a warning is about one subject, not {}",
                found.iter().map(Subject::key).collect::<Vec<_>>().join(" and ")
            )),
        }
    }

    /// The warning, with `kind` parsed by `kind` (strict, or lenient for a
    /// newer format).
    pub(crate) fn into_warning(
        mut self,
        kind: impl FnOnce(&str) -> Result<(WarningKind, Option<String>), String>,
    ) -> Result<Warning, String> {
        let subject = self.subject()?;
        let name = self.kind.ok_or("kind: missing")?;
        let message = self.message.filter(|m| !m.trim().is_empty()).ok_or("message: missing or blank")?;
        let (kind, prefix) = kind(&name)?;
        let message = match prefix {
            Some(prefix) => format!("{prefix}: {message}"),
            None => message,
        };
        Ok(Warning { kind, cluster: self.cluster.filter(|c| !c.is_empty()), subject, message })
    }
}

/// Strict: every field known, a known kind, a message.
impl<'de> Deserialize<'de> for Warning {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawWarning::deserialize(deserializer)?
            .into_warning(|name| name.parse().map(|k| (k, None)).map_err(|e: crate::ParseNameError| e.to_string()))
            .map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &kind in WarningKind::ALL {
            assert_eq!(kind.as_str().parse::<WarningKind>().ok(), Some(kind));
            assert!(kind.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{kind}");
        }
    }

    #[test]
    fn elsewhere_is_a_doubt() {
        for &kind in WarningKind::ALL {
            assert!(!kind.egress_may_be_elsewhere() || kind.doubts_egress(), "{kind}");
        }
    }

    #[test]
    fn json_is_one_shape() {
        let bare = Warning::new(WarningKind::RegionEmpty, "no cluster in FRA1");
        assert_eq!(
            serde_json::to_string(&bare).ok().as_deref(),
            Some(r#"{"kind":"region-empty","message":"no cluster in FRA1"}"#)
        );
        let inside = Warning::new(WarningKind::PublicIpPending, "1 node")
            .with_cluster("prod")
            .about(Subject::Pool("edge".into()));
        assert_eq!(
            serde_json::to_string(&inside.without_cluster()).ok().as_deref(),
            Some(r#"{"kind":"public-ip-pending","pool":"edge","message":"1 node"}"#)
        );
    }

    #[test]
    fn reading_refuses_what_it_cannot_mean() {
        for (json, why) in [
            (r#"{"kind":"nope","message":"m"}"#, "unknown kind"),
            (r#"{"message":"m"}"#, "no kind"),
            (r#"{"kind":"legacy"}"#, "no message"),
            (r#"{"kind":"legacy","message":" "}"#, "blank message"),
            (r#"{"kind":"legacy","message":"m","node":"a","pool":"b"}"#, "two subjects"),
            (r#"{"kind":"legacy","message":"m","colour":"red"}"#, "unknown field"),
        ] {
            assert!(serde_json::from_str::<Warning>(json).is_err(), "{why}: {json}");
        }
    }
}
