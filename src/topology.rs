//! [`Topology`]: the egress topology of a Civo account, and
//! [`classify_ip`].
//!
//! Every inherent method of `Topology` is here. It is assembled from the
//! resources below it (clusters, LoadBalancers, reserved IPs), compiles the
//! index, and reads and writes the snapshot JSON through `snapshot.rs`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cause::Cause;
use crate::classify::Classification;
use crate::cluster::Cluster;
use crate::error::TopologyError;
use crate::index::{self, Index};
use crate::node::{LoadBalancer, ReservedIp};
use crate::snapshot::{RawTopology, SnapshotRef};
use crate::validation::Validation;

/// A Civo account's egress topology: clusters (with their egress IPs,
/// networks, nodes and LoadBalancers), LoadBalancers outside any cluster,
/// and reserved IPs.
///
/// A `Topology` is immutable and validated. It compiles its classification
/// index when it is built, so [`classify_ip`](Self::classify_ip) is a lookup;
/// cloning is cheap (the index is shared). To follow a changing account,
/// build a new `Topology` and swap it in (e.g. behind an `Arc`): readers of
/// the old one are not blocked.
///
/// It (de)serializes as the snapshot JSON documented in the crate root;
/// `serde` and [`from_json`](Self::from_json) read through the same checks.
///
/// ```
/// use civo_egress::{IpClass, Topology, Whitelist};
/// let topology = Topology::from_json(r#"{
///   "clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
///                 "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1"}]}]
/// }"#)?;
/// assert_eq!(topology.classify_ip("212.2.251.1".parse()?).class(), IpClass::LoadBalancer);
/// assert_eq!(Whitelist::of(&topology)?.to_string(), "212.2.253.151/32\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Empty topologies
///
/// A topology without clusters is valid ([`Topology::empty`], `{}` or
/// `{"clusters": []}`): it still classifies addresses by the IANA tables.
/// But it has no egress IP, so [`Whitelist::of`](crate::Whitelist::of) and
/// [`audit`](crate::audit) refuse it with [`TopologyError::NoClusters`]
/// rather than answer "allow nothing" or "ok" for a snapshot that lost its
/// clusters. A caller who means it says so, with the one opt-in of the
/// crate: the `_allowing_empty` variants,
/// [`Whitelist::of_allowing_empty`](crate::Whitelist::of_allowing_empty) and
/// [`audit_allowing_empty`](crate::audit_allowing_empty).
#[derive(Clone)]
pub struct Topology {
    /// The parts and their index, shared by clones.
    index: Arc<Index>,
}

impl Topology {
    /// Assembles a topology from clusters built with [`Cluster::builder`],
    /// LoadBalancers outside any cluster, and reserved IPs.
    ///
    /// ```
    /// use civo_egress::{Cluster, LoadBalancer, Topology};
    /// let prod = Cluster::builder("prod").egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?).build()?;
    /// let legacy = LoadBalancer::new("legacy", "212.2.251.9".parse()?)?;
    /// let topology = Topology::new(vec![prod], vec![legacy], vec![])?;
    /// assert_eq!(topology.load_balancers().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TopologyError::DuplicateCluster`] when two clusters share a name.
    pub fn new(
        clusters: Vec<Cluster>,
        load_balancers: Vec<LoadBalancer>,
        reserved_ips: Vec<ReservedIp>,
    ) -> Result<Self, TopologyError> {
        let mut names: Vec<&str> = clusters.iter().map(Cluster::name).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(TopologyError::DuplicateCluster { name: pair[0].to_owned() });
        }
        Ok(Self::assemble(clusters, load_balancers, reserved_ips))
    }

    /// Builds the index; the caller has made cluster names unique.
    pub(crate) fn assemble(
        clusters: Vec<Cluster>,
        load_balancers: Vec<LoadBalancer>,
        reserved_ips: Vec<ReservedIp>,
    ) -> Self {
        Self { index: Arc::new(index::build(clusters, load_balancers, reserved_ips)) }
    }

    /// A topology with nothing in it (also [`Topology::default`]): every
    /// address classifies by the IANA tables alone.
    ///
    /// ```
    /// use civo_egress::{IpClass, Topology};
    /// let empty = Topology::empty();
    /// assert!(empty.is_empty());
    /// assert_eq!(empty.classify_ip("10.42.0.7".parse()?).class(), IpClass::Private);
    /// assert_eq!(empty, Topology::from_json("{}")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn empty() -> Self {
        Self::assemble(Vec::new(), Vec::new(), Vec::new())
    }

    /// Reads a snapshot (the binding JSON format), strictly validated:
    /// the same checks as `serde_json::from_str::<Topology>`.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Json`] for malformed JSON or a value of the wrong
    /// type (a snapshot is a JSON object: `[]` and `null` are refused);
    /// [`TopologyError::UnknownField`] for a field the format does not know;
    /// any other variant for a value that fails validation, naming its
    /// field path.
    pub fn from_json(json: &str) -> Result<Self, TopologyError> {
        Self::from_json_with(json, Validation::strict())
    }

    /// Reads a snapshot with the given [`Validation`].
    ///
    /// # Errors
    ///
    /// As [`from_json`](Self::from_json), less what `validation` accepts.
    pub fn from_json_with(json: &str, validation: Validation) -> Result<Self, TopologyError> {
        let raw: RawTopology = serde_json::from_str(json).map_err(|e| TopologyError::Json {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
            source: Cause::new(e),
        })?;
        Self::from_raw(raw, validation)
    }

    fn from_raw(raw: RawTopology, validation: Validation) -> Result<Self, TopologyError> {
        let (clusters, load_balancers, reserved_ips) = raw.into_parts(validation)?;
        Self::new(clusters, load_balancers, reserved_ips)
    }

    /// Writes the snapshot JSON, pretty-printed; [`from_json`](Self::from_json)
    /// reads it back to an equal topology (one built with
    /// [`Validation::allow_non_global`] reads back with the same validation).
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a snapshot is strings, addresses and lists: it always serializes") // ok: no map keys, no failing Serialize
    }

    /// The clusters, in the order given.
    #[must_use]
    pub fn clusters(&self) -> &[Cluster] {
        self.index.clusters()
    }

    /// The cluster named `name`, if any.
    #[must_use]
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters().iter().find(|c| c.name() == name)
    }

    /// LoadBalancers linked to no cluster.
    #[must_use]
    pub fn load_balancers(&self) -> &[LoadBalancer] {
        self.index.load_balancers()
    }

    /// The account's reserved IPs.
    #[must_use]
    pub fn reserved_ips(&self) -> &[ReservedIp] {
        self.index.reserved_ips()
    }

    /// Whether the topology holds nothing: no cluster, no LoadBalancer, no
    /// reserved IP. (`clusters().is_empty()` is what
    /// [`Whitelist::of`](crate::Whitelist::of) and [`audit`](crate::audit) refuse.)
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.clusters().is_empty() && self.load_balancers().is_empty() && self.reserved_ips().is_empty()
    }

    /// What `ip` is, whether to whitelist it, and why. See [`classify_ip`].
    #[inline]
    pub fn classify_ip(&self, ip: IpAddr) -> Classification<'_> {
        Classification::new(ip, self.index.lookup(ip), &self.index)
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }
}

/// Classifies `ip` against `topology`: the same as
/// [`Topology::classify_ip`].
///
/// Infallible and allocation-free: three dependent loads in a fixed-depth
/// table for IPv4 (a short search and a hash probe near known hosts for
/// IPv6), in an index the topology built once. The answer's reason is
/// written only when read.
///
/// ```
/// use civo_egress::{classify_ip, IpClass, Topology};
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let pod = classify_ip(&topology, "10.42.0.7".parse()?);
/// assert_eq!(pod.class(), IpClass::Pod);
/// assert!(!pod.is_whitelistable());
/// assert!(classify_ip(&topology, "212.2.253.151".parse()?).is_whitelistable());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[inline]
pub fn classify_ip(topology: &Topology, ip: IpAddr) -> Classification<'_> {
    topology.classify_ip(ip)
}

impl Default for Topology {
    /// [`Topology::empty`].
    fn default() -> Self {
        Self::empty()
    }
}

impl PartialEq for Topology {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.index, &other.index) || self.index.same_parts(&other.index)
    }
}

impl Eq for Topology {}

impl std::hash::Hash for Topology {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash_parts(state);
    }
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topology")
            .field("clusters", &self.clusters())
            .field("load_balancers", &self.load_balancers().len())
            .field("reserved_ips", &self.reserved_ips().len())
            .finish()
    }
}

/// The snapshot JSON, as [`Topology::to_json`] writes it.
impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl FromStr for Topology {
    type Err = TopologyError;

    /// Same as [`Topology::from_json`].
    fn from_str(json: &str) -> Result<Self, Self::Err> {
        Self::from_json(json)
    }
}

impl Serialize for Topology {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            clusters: self.clusters(),
            load_balancers: self.load_balancers(),
            reserved_ips: self.reserved_ips(),
        }
        .serialize(serializer)
    }
}

/// Strict, exactly as [`Topology::from_json`].
impl<'de> Deserialize<'de> for Topology {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_raw(RawTopology::deserialize(deserializer)?, Validation::strict()).map_err(serde::de::Error::custom)
    }
}
