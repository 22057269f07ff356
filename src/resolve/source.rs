//! [`EgressSource`]: anything that can say which IP a cluster leaves from.

use std::fmt;
use std::net::IpAddr;

use async_trait::async_trait;

use super::evidence::{EvidenceKind, IpFamily, SourceError};
use crate::Topology;

/// A source of evidence about a cluster's egress IP.
///
/// Implement it to add your own (a corporate echo service, a metadata API):
/// the resolver runs every source concurrently, enforces its timeout,
/// cancels it once the outcome is decided, and checks what it returns
/// (observed addresses must be global unicast, unless the resolver's
/// [`AddressPolicy`](crate::AddressPolicy) says otherwise). Object safe, stored as
/// `Arc<dyn EgressSource>`. The trait is async through
/// [`async_trait`](macro@super::async_trait), re-exported here so that your
/// impl uses the same version as the crate.
///
/// ```
/// use std::net::IpAddr;
/// use civo_egress::resolve::{async_trait, EgressSource, EvidenceKind, IpFamily, SourceError};
///
/// #[derive(Debug)]
/// struct FromMyVault;
///
/// #[async_trait]
/// impl EgressSource for FromMyVault {
///     fn name(&self) -> &str { "vault" }
///     fn kind(&self) -> EvidenceKind { EvidenceKind::Expected }
///     async fn gather(&self, _family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
///         Ok(vec![IpAddr::from([212, 2, 253, 151])])
///     }
/// }
///
/// assert_eq!(FromMyVault.name(), "vault");
/// ```
#[async_trait]
pub trait EgressSource: Send + Sync + fmt::Debug {
    /// A short name shown in evidence, e.g. `http:https://ifconfig.me/ip`.
    /// Called for every row of evidence: build it once, return a borrow.
    fn name(&self) -> &str;

    /// Whether the source says what is expected or what was observed.
    fn kind(&self) -> EvidenceKind;

    /// The addresses this source gives for `family`.
    ///
    /// # Errors
    ///
    /// A [`SourceError`] saying why there is no address.
    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError>;

    /// What the source noticed while gathering that the report should
    /// carry (a Civo discovery's warnings: a cluster not ready, a pool
    /// node without its IP yet...), read after [`gather`](Self::gather)
    /// returned. Default: nothing.
    fn warnings(&self) -> Vec<crate::Warning> {
        Vec::new()
    }

    /// The fingerprints of the cluster's CA certificates this source knows
    /// (a snapshot's, the Civo API's, a kubeconfig's), read after
    /// [`gather`](Self::gather) returned: they prove that a pod the
    /// resolver runs in is the cluster's
    /// ([`Vantage::detect_and_prove`](super::Vantage::detect_and_prove)).
    /// Default: none.
    fn cluster_cas(&self) -> Vec<crate::CaFingerprint> {
        Vec::new()
    }
}

/// Fixed addresses: what a service was told its egress IP is (e.g. from
/// `CIVO_EGRESS_IP`), or a test's answer.
///
/// ```
/// use civo_egress::resolve::{EgressSource, EvidenceKind, StaticSource};
/// let source = StaticSource::new("config", EvidenceKind::Expected, ["212.2.253.151".parse()?]);
/// assert_eq!(source.name(), "config");
/// assert_eq!(source.kind(), EvidenceKind::Expected);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticSource {
    name: String,
    kind: EvidenceKind,
    ips: Vec<IpAddr>,
}

impl StaticSource {
    /// A source that always gives `ips`.
    #[must_use]
    pub fn new(name: impl Into<String>, kind: EvidenceKind, ips: impl IntoIterator<Item = IpAddr>) -> Self {
        Self { name: name.into(), kind, ips: ips.into_iter().map(|ip| ip.to_canonical()).collect() }
    }

    /// The expected egress IPs in `CIVO_EGRESS_IP` (comma or space
    /// separated), if the variable is set.
    ///
    /// # Errors
    ///
    /// [`SourceError::Config`] when a value is not an IP address (its
    /// `source()` is the address parser's error).
    pub fn from_env() -> Result<Option<Self>, SourceError> {
        match std::env::var("CIVO_EGRESS_IP") {
            Ok(value) if !value.trim().is_empty() => Self::parse_list("env:CIVO_EGRESS_IP", &value).map(Some),
            _ => Ok(None),
        }
    }

    fn parse_list(name: &str, value: &str) -> Result<Self, SourceError> {
        let ips = value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpAddr>()
                    .map_err(|e| SourceError::config(format!("{name}: {s:?} is not an IP address")).with_source(e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(name, EvidenceKind::Expected, ips))
    }
}

#[async_trait]
impl EgressSource for StaticSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> EvidenceKind {
        self.kind
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        Ok(self.ips.iter().copied().filter(|&ip| family.admits(ip)).collect())
    }
}

/// The egress set a [`Topology`] snapshot gives a cluster: what a service
/// ships as its whitelist.
#[derive(Debug, Clone)]
pub struct TopologySource {
    name: String,
    ips: Vec<IpAddr>,
    /// What the snapshot knew about the cluster: its caveats.
    caveats: Vec<crate::Warning>,
    /// Its CA fingerprint, recorded by discovery.
    ca: Option<crate::CaFingerprint>,
}

impl TopologySource {
    /// The egress set of `cluster` in `topology`.
    ///
    /// # Errors
    ///
    /// [`SourceError::Config`] when the cluster is not in the topology.
    pub fn new(topology: &Topology, cluster: &str) -> Result<Self, SourceError> {
        let found = topology.select(cluster).map_err(|e| SourceError::config(e.to_string()))?;
        Ok(Self {
            name: format!("topology:{cluster}"),
            ips: found.egress_ips(),
            caveats: found.caveats().to_vec(),
            ca: found.ca_fingerprint(),
        })
    }

    /// The egress set of a cluster already chosen (with
    /// [`Topology::select`]), named `topology:REGION/NAME`.
    #[must_use]
    pub fn of(cluster: &crate::Cluster) -> Self {
        Self {
            name: format!("topology:{}", cluster.label()),
            ips: cluster.egress_ips(),
            caveats: cluster.caveats().to_vec(),
            ca: cluster.ca_fingerprint(),
        }
    }
}

#[async_trait]
impl EgressSource for TopologySource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Expected
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        Ok(self.ips.iter().copied().filter(|&ip| family.admits(ip)).collect())
    }

    /// The cluster's caveats, recorded in the snapshot by discovery.
    fn warnings(&self) -> Vec<crate::Warning> {
        self.caveats.clone()
    }

    /// The cluster's CA fingerprint, recorded in the snapshot by discovery.
    fn cluster_cas(&self) -> Vec<crate::CaFingerprint> {
        self.ca.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lists_parse() {
        let s = StaticSource::parse_list("x", "212.2.253.151, 2a00::1  74.220.24.77").unwrap(); // ok: test
        assert_eq!(s.ips.len(), 3);
        assert!(
            matches!(StaticSource::parse_list("x", "1.2.3.4,nope"), Err(SourceError::Config { message, source: Some(_) }) if message.contains("nope"))
        );
    }
}
