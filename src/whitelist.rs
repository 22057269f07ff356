//! The whitelist a partner needs: every egress IP, as host CIDRs.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::TopologyError;
use crate::topology::Topology;

/// One address to whitelist, with the clusters that leave from it and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// Every egress address of some clusters, deduplicated and sorted (IPv4
/// first). Serializes as a JSON array of `{"cidr", "clusters", "reason"}`;
/// displays as one CIDR per line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Whitelist {
    entries: Vec<WhitelistEntry>,
}

impl Whitelist {
    /// The entries, sorted by address.
    #[must_use]
    pub fn entries(&self) -> &[WhitelistEntry] {
        &self.entries
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
        self.entries.iter().any(|e| e.cidr.addr() == ip)
    }

    /// The CIDRs alone.
    pub fn cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.entries.iter().map(|e| e.cidr)
    }
}

impl fmt::Display for Whitelist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.iter().try_for_each(|e| writeln!(f, "{}", e.cidr))
    }
}

impl<'a> IntoIterator for &'a Whitelist {
    type Item = &'a WhitelistEntry;
    type IntoIter = std::slice::Iter<'a, WhitelistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl Topology {
    /// Every egress IP of every cluster: each cluster IP, and the public IP of
    /// every node in a public-IP node pool.
    ///
    /// ```
    /// use civo_egress::Topology;
    /// let topology = Topology::from_json(r#"{"clusters": [
    ///   {"name": "prod", "egress_ip": "74.220.24.10",
    ///    "nodes": [{"name": "edge", "private_ip": "192.168.10.6", "public_ip": "74.220.24.77"}]},
    ///   {"name": "staging", "egress_ip": "74.220.26.44"}]}"#)?;
    /// assert_eq!(topology.whitelist().to_string(), "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n");
    /// # Ok::<(), civo_egress::TopologyError>(())
    /// ```
    #[must_use]
    pub fn whitelist(&self) -> Whitelist {
        self.whitelist_of(self.clusters().iter().map(|c| c.name()))
    }

    /// The whitelist of the named clusters only.
    ///
    /// # Errors
    ///
    /// [`TopologyError::UnknownCluster`] when a name is not in the topology.
    pub fn whitelist_for<S: AsRef<str>>(&self, names: &[S]) -> Result<Whitelist, TopologyError> {
        for name in names {
            if self.cluster(name.as_ref()).is_none() {
                return Err(TopologyError::UnknownCluster { name: name.as_ref().to_owned() });
            }
        }
        Ok(self.whitelist_of(names.iter().map(AsRef::as_ref)))
    }

    fn whitelist_of<'a>(&'a self, names: impl Iterator<Item = &'a str>) -> Whitelist {
        let mut ips: Vec<IpAddr> = names.filter_map(|n| self.cluster(n)).flat_map(|c| c.egress_ips()).collect();
        ips.sort_unstable();
        ips.dedup();
        let entries = ips
            .into_iter()
            .map(|ip| {
                let answer = self.classify_ip(ip);
                WhitelistEntry {
                    cidr: IpNet::from(ip),
                    clusters: answer.clusters().to_vec(),
                    reason: answer.reason().to_owned(),
                }
            })
            .collect();
        Whitelist { entries }
    }
}
