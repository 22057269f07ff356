//! The whitelist a partner needs: every egress IP, as host CIDRs.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

use crate::cluster::Cluster;
use crate::error::TopologyError;
use crate::topology::Topology;

/// One address to whitelist, with the clusters that leave from it and why.
///
/// Deserializing checks what [`Whitelist::of`] guarantees: a host CIDR
/// (`/32` or `/128`; an IPv4-mapped one is stored as IPv4), at least one
/// cluster, and a reason.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WhitelistEntry {
    cidr: IpNet,
    clusters: Vec<String>,
    reason: String,
}

impl WhitelistEntry {
    /// The host CIDR (`/32` or `/128`).
    #[must_use]
    pub const fn cidr(&self) -> IpNet {
        self.cidr
    }

    /// The address.
    #[must_use]
    pub fn ip(&self) -> IpAddr {
        self.cidr.addr()
    }

    /// The clusters whose pods leave from it.
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// Why it is whitelisted.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Debug for WhitelistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WhitelistEntry({} {:?})", self.cidr, self.clusters)
    }
}

impl<'de> Deserialize<'de> for WhitelistEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            cidr: IpNet,
            clusters: Vec<String>,
            reason: String,
        }
        let Shape { cidr, clusters, reason } = Shape::deserialize(deserializer)?;
        use serde::de::Error;
        if cidr.prefix_len() != cidr.max_prefix_len() {
            return Err(D::Error::custom(format_args!("whitelist entry {cidr} is not a host CIDR (/32 or /128)")));
        }
        if clusters.is_empty() || clusters.iter().any(|c| c.trim().is_empty()) {
            return Err(D::Error::custom(format_args!("whitelist entry {cidr}: no cluster, or a blank cluster name")));
        }
        if reason.trim().is_empty() {
            return Err(D::Error::custom(format_args!("whitelist entry {cidr}: no reason")));
        }
        Ok(Self { cidr: IpNet::from(cidr.addr().to_canonical()), clusters, reason })
    }
}

/// Every egress address of some clusters, deduplicated and sorted (IPv4
/// first). Serializes as a JSON array of `{"cidr", "clusters", "reason"}`;
/// displays as one CIDR per line.
///
/// ```
/// use civo_egress::{Topology, Whitelist};
/// let topology = Topology::from_json(r#"{"clusters": [
///   {"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"],
///    "nodes": [{"name": "edge", "private_ip": "192.168.10.6", "public_ip": "74.220.24.77"}]},
///   {"name": "staging", "egress_ip": "74.220.26.44"}]}"#)?;
/// let all = Whitelist::of(&topology)?;
/// assert_eq!(all.to_string(), "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n2a00:1450::10/128\n");
/// assert_eq!(all.v4().len(), 3);
/// assert_eq!(all.v6().len(), 1);
/// let staging = Whitelist::of_clusters(&topology, &["staging"])?;
/// assert_eq!(staging.iter().map(|e| e.ip().to_string()).collect::<Vec<_>>(), ["74.220.26.44"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Deserializing checks the same invariants: host CIDRs only, each with its
/// clusters and reason, and no address twice (the entries are sorted).
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Whitelist {
    entries: Vec<WhitelistEntry>,
}

impl Whitelist {
    /// Every egress IP of every cluster: each cluster's own egress IP(s),
    /// and the public IP of every node in a public-IP node pool.
    ///
    /// # Errors
    ///
    /// [`TopologyError::NoClusters`] when the topology has no cluster: see
    /// [`of_allowing_empty`](Self::of_allowing_empty).
    pub fn of(topology: &Topology) -> Result<Self, TopologyError> {
        if topology.clusters().is_empty() {
            return Err(TopologyError::NoClusters);
        }
        Ok(Self::of_allowing_empty(topology))
    }

    /// As [`of`](Self::of), but an empty whitelist for a topology without
    /// clusters: the explicit opt-in for callers who expect that.
    ///
    /// ```
    /// use civo_egress::{Topology, TopologyError, Whitelist};
    /// let empty = Topology::empty();
    /// assert_eq!(Whitelist::of(&empty), Err(TopologyError::NoClusters));
    /// assert!(Whitelist::of_allowing_empty(&empty).is_empty());
    /// ```
    #[must_use]
    pub fn of_allowing_empty(topology: &Topology) -> Self {
        Self::collect(topology, topology.clusters().iter())
    }

    /// The whitelist of the named clusters only.
    ///
    /// # Errors
    ///
    /// [`TopologyError::UnknownCluster`] when a name is not in the topology,
    /// [`TopologyError::NoClusters`] when `names` is empty.
    pub fn of_clusters<S: AsRef<str>>(topology: &Topology, names: &[S]) -> Result<Self, TopologyError> {
        if names.is_empty() {
            return Err(TopologyError::NoClusters);
        }
        let mut chosen = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            chosen.push(topology.cluster(name).ok_or_else(|| TopologyError::UnknownCluster { name: name.to_owned() })?);
        }
        Ok(Self::collect(topology, chosen.into_iter()))
    }

    fn collect<'a>(topology: &'a Topology, clusters: impl Iterator<Item = &'a Cluster>) -> Self {
        let mut ips: Vec<IpAddr> = clusters.flat_map(Cluster::egress_ips).collect();
        ips.sort_unstable();
        ips.dedup();
        let entries = ips
            .into_iter()
            .map(|ip| {
                let answer = topology.classify_ip(ip);
                WhitelistEntry {
                    cidr: IpNet::from(ip),
                    clusters: answer.clusters().to_vec(),
                    reason: answer.reason().to_owned(),
                }
            })
            .collect();
        Self { entries }
    }

    /// The entries, sorted by address, IPv4 first.
    #[must_use]
    pub fn entries(&self) -> &[WhitelistEntry] {
        &self.entries
    }

    /// The IPv4 entries (`/32`).
    #[must_use]
    pub fn v4(&self) -> &[WhitelistEntry] {
        &self.entries[..self.v6_start()]
    }

    /// The IPv6 entries (`/128`).
    #[must_use]
    pub fn v6(&self) -> &[WhitelistEntry] {
        &self.entries[self.v6_start()..]
    }

    fn v6_start(&self) -> usize {
        self.entries.partition_point(|e| e.cidr.addr().is_ipv4())
    }

    /// The entries, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, WhitelistEntry> {
        self.entries.iter()
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing to whitelist.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `ip` is one of the entries.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.entries.binary_search_by(|e| e.cidr.addr().cmp(&ip)).is_ok()
    }

    /// The CIDRs alone.
    pub fn cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.entries.iter().map(|e| e.cidr)
    }
}

impl fmt::Debug for Whitelist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|e| e.cidr)).finish()
    }
}

impl fmt::Display for Whitelist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.iter().try_for_each(|e| writeln!(f, "{}", e.cidr))
    }
}

impl<'de> Deserialize<'de> for Whitelist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut entries = Vec::<WhitelistEntry>::deserialize(deserializer)?;
        entries.sort_by_key(|e| e.cidr.addr());
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].cidr == pair[1].cidr) {
            return Err(serde::de::Error::custom(format_args!("whitelist lists {} twice", pair[0].cidr)));
        }
        Ok(Self { entries })
    }
}

impl<'a> IntoIterator for &'a Whitelist {
    type Item = &'a WhitelistEntry;
    type IntoIter = std::slice::Iter<'a, WhitelistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for Whitelist {
    type Item = WhitelistEntry;
    type IntoIter = std::vec::IntoIter<WhitelistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}
