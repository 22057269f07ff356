//! [`Topology`]: the egress topology of a Civo account.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::classify::Classification;
use crate::cluster::Cluster;
use crate::error::TopologyError;
use crate::index::{self, Index};
use crate::node::{LoadBalancer, ReservedIp};
use crate::snapshot::RawTopology;
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
/// It (de)serializes as the snapshot JSON documented in the crate root.
///
/// ```
/// use civo_egress::{IpClass, Topology};
/// let topology = Topology::from_json(r#"{
///   "clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
///                 "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1"}]}]
/// }"#)?;
/// assert_eq!(topology.classify_ip("212.2.251.1".parse()?).class(), IpClass::LoadBalancer);
/// assert_eq!(topology.whitelist().to_string(), "212.2.253.151/32\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Topology {
    clusters: Vec<Cluster>,
    load_balancers: Vec<LoadBalancer>,
    reserved_ips: Vec<ReservedIp>,
    index: Arc<Index>,
}

impl Topology {
    /// Assembles a topology from clusters built with [`Cluster::builder`],
    /// LoadBalancers outside any cluster, and reserved IPs.
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
        let index = Arc::new(index::build(&clusters, &load_balancers, &reserved_ips));
        Self { clusters, load_balancers, reserved_ips, index }
    }

    /// Reads a snapshot (the binding JSON format), strictly validated.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Json`] for malformed JSON or a value of the wrong
    /// type; any other variant for a value that fails validation, naming its
    /// field path.
    pub fn from_json(json: &str) -> Result<Self, TopologyError> {
        Self::from_json_with(json, Validation::strict())
    }

    /// Reads a snapshot with the given [`Validation`].
    ///
    /// # Errors
    ///
    /// As [`from_json`](Self::from_json).
    pub fn from_json_with(json: &str, validation: Validation) -> Result<Self, TopologyError> {
        // serde would also read a struct from a JSON array; a snapshot is an object.
        if !json.trim_start().starts_with('{') {
            return Err(TopologyError::Json { message: "expected a JSON object".into(), line: 1, column: 1 });
        }
        let raw: RawTopology = serde_json::from_str(json).map_err(|e| TopologyError::Json {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        })?;
        raw.into_topology(validation)
    }

    /// Writes the snapshot JSON, pretty-printed.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers into a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The clusters, in the order given.
    #[must_use]
    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// The cluster named `name`, if any.
    #[must_use]
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }

    /// LoadBalancers linked to no cluster.
    #[must_use]
    pub fn load_balancers(&self) -> &[LoadBalancer] {
        &self.load_balancers
    }

    /// The account's reserved IPs.
    #[must_use]
    pub fn reserved_ips(&self) -> &[ReservedIp] {
        &self.reserved_ips
    }

    /// What `ip` is, whether to whitelist it, and why. See
    /// [`classify_ip`](crate::classify_ip).
    #[inline]
    pub fn classify_ip(&self, ip: IpAddr) -> Classification<'_> {
        Classification::new(ip, self.index.lookup(ip))
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }
}

impl PartialEq for Topology {
    fn eq(&self, other: &Self) -> bool {
        self.clusters == other.clusters
            && self.load_balancers == other.load_balancers
            && self.reserved_ips == other.reserved_ips
    }
}

impl Eq for Topology {}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topology")
            .field("clusters", &self.clusters)
            .field("load_balancers", &self.load_balancers.len())
            .field("reserved_ips", &self.reserved_ips.len())
            .finish()
    }
}

impl std::str::FromStr for Topology {
    type Err = TopologyError;

    /// Same as [`Topology::from_json`].
    fn from_str(json: &str) -> Result<Self, Self::Err> {
        Self::from_json(json)
    }
}
