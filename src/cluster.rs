//! A Civo Kubernetes cluster, its builder, and the K3s defaults.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::TopologyError;
use crate::fingerprint::CaFingerprint;
use crate::node::{LoadBalancer, Node, PublicIpPool};
use crate::parse;
use crate::validation::Validation;
use crate::warning::{Warning, WarningKind};

/// K3s's default pod CIDR (IPv4); every node takes a /24 of it.
pub const K3S_POD_CIDR: IpNet = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(10, 42, 0, 0), 16));
/// K3s's default service CIDR (IPv4).
pub const K3S_SERVICE_CIDR: IpNet = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(10, 43, 0, 0), 16));
/// K3s's default pod CIDR on IPv6 nodes.
pub const K3S_POD_CIDR_V6: IpNet = IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::new(0xfd00, 0x42, 0, 0, 0, 0, 0, 0), 56));
/// K3s's default service CIDR on IPv6 nodes.
pub const K3S_SERVICE_CIDR_V6: IpNet =
    IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::new(0xfd00, 0x43, 0, 0, 0, 0, 0, 0), 112));
/// The cluster DNS service address K3s assigns in its default service CIDR.
pub const K3S_CLUSTER_DNS: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 43, 0, 10));
/// Upstream Talos's default pod CIDR, for Civo Talos clusters: Civo
/// documents none, so this is the upstream default, not a measured value.
///
/// ```
/// use civo_egress::{Cluster, IpClass, Topology, TALOS_POD_CIDR, TALOS_SERVICE_CIDR};
/// let talos = Cluster::builder("talos")
///     .egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?)
///     .pod_cidr(TALOS_POD_CIDR)
///     .service_cidr(TALOS_SERVICE_CIDR)
///     .build()?;
/// let topology = Topology::new(vec![talos], vec![], vec![])?;
/// assert_eq!(topology.classify_ip("10.244.1.7".parse()?).class(), IpClass::Pod);
/// assert_eq!(topology.classify_ip("10.96.0.10".parse()?).class(), IpClass::Service);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const TALOS_POD_CIDR: IpNet = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(10, 244, 0, 0), 16));
/// Upstream Talos's default service CIDR, for Civo Talos clusters (Civo
/// documents none; see [`TALOS_POD_CIDR`]).
pub const TALOS_SERVICE_CIDR: IpNet = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(10, 96, 0, 0), 12));

/// One Civo Kubernetes cluster: its egress IP(s), its private network, the
/// K3s pod and service CIDRs, its nodes and LoadBalancers.
///
/// Built with [`Cluster::builder`], which validates everything at
/// [`build`](ClusterBuilder::build):
///
/// ```
/// use std::net::IpAddr;
/// use civo_egress::{Cluster, Node};
/// let cluster = Cluster::builder("prod")
///     .egress_ip("212.2.253.151".parse::<IpAddr>()?)
///     .egress_ip("2a00:1450::10".parse::<IpAddr>()?) // dual stack: one per family
///     .network_cidr("192.168.1.0/24".parse::<ipnet::IpNet>()?)
///     .node(Node::new("w-1", "192.168.1.4".parse()?)?)
///     .build()?;
/// assert_eq!(cluster.egress_ip(), "212.2.253.151".parse::<IpAddr>()?);
/// assert_eq!(cluster.cluster_egress_ips().len(), 2);
/// assert_eq!(cluster.pod_cidrs(), [civo_egress::K3S_POD_CIDR]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cluster {
    name: String,
    id: Option<String>,
    region: Option<String>,
    /// One or two addresses (at most one per family), IPv4 first.
    egress: Vec<IpAddr>,
    network_cidrs: Vec<IpNet>,
    pod_cidrs: Vec<IpNet>,
    service_cidrs: Vec<IpNet>,
    nodes: Vec<Node>,
    load_balancers: Vec<LoadBalancer>,
    public_ip_pools: Vec<PublicIpPool>,
    network: Option<NetworkId>,
    /// What discovery knew about the cluster and the snapshot keeps, each
    /// with this cluster's name.
    caveats: Vec<Warning>,
    ca_fingerprint: Option<CaFingerprint>,
}

/// The identity of a cluster's private network (the Civo API's network id
/// and name): two networks may share a CIDR, in two regions or in one, so a
/// destination is matched to a network by identity, not by CIDR alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetworkId {
    id: String,
    name: Option<String>,
}

impl NetworkId {
    /// A network by its id, with its name if known (a blank name is none).
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] for a blank id.
    pub fn new(id: impl Into<String>, name: Option<String>) -> Result<Self, TopologyError> {
        let id = parse::required("id", Some(id.into()))?;
        Ok(Self { id, name: name.filter(|n| !n.trim().is_empty()) })
    }

    /// The Civo network id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The network's name (the API's `label`, else `name`), if known.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// `NAME (ID)`, or the id alone.
impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.id),
            None => f.write_str(&self.id),
        }
    }
}

impl Cluster {
    /// Starts a cluster named `name`.
    pub fn builder(name: impl Into<String>) -> ClusterBuilder {
        ClusterBuilder { validation: Validation::strict(), inner: Ok(Draft { name: name.into(), ..Draft::default() }) }
    }

    /// The cluster's name. Names repeat across regions: a cluster is
    /// identified by its [`id`](Self::id), or its region and name
    /// ([`label`](Self::label)).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How a person names this cluster unambiguously: `REGION/NAME`, or the
    /// name alone when the region is unknown. What
    /// [`Topology::select`](crate::Topology::select) accepts, with the id
    /// and, when it is unique, the name.
    #[must_use]
    pub fn label(&self) -> String {
        label(&self.name, self.region.as_deref())
    }

    /// Whether `query` names this cluster: its id, `REGION/NAME` (the region
    /// in any case), or its name.
    pub(crate) fn answers_to(&self, query: &str) -> bool {
        answers_to(query, &self.name, self.id.as_deref(), self.region.as_deref())
    }

    /// The name as a one-name list: what a host answer of this cluster
    /// lists, without a list of its own.
    pub(crate) fn name_as_slice(&self) -> &[String] {
        std::slice::from_ref(&self.name)
    }

    /// The Civo cluster id, if known.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The Civo region code (e.g. `LON1`), if known.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The cluster IP (the Civo API's `master_ip`), from which pods leave:
    /// the IPv4 one on a dual-stack cluster, see
    /// [`cluster_egress_ips`](Self::cluster_egress_ips) for both.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn egress_ip(&self) -> IpAddr {
        *self.egress.first().expect("a built cluster has at least one egress IP") // ok: `build()` checks it
    }

    /// The cluster's own egress IPs (the snapshot's `egress_ip`): one, or
    /// one per address family on a dual-stack cluster, IPv4 first. Nodes of
    /// a public-IP pool add theirs in [`egress_ips`](Self::egress_ips).
    #[must_use]
    pub fn cluster_egress_ips(&self) -> &[IpAddr] {
        &self.egress
    }

    /// Every address the cluster's pods may leave from: the cluster's own
    /// egress IPs, then the public IP of each public-IP-pool node, without
    /// repeats.
    #[must_use]
    pub fn egress_ips(&self) -> Vec<IpAddr> {
        let mut ips = self.egress.clone();
        for ip in self.nodes.iter().filter_map(Node::public_ip) {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        ips
    }

    /// The private network(s) of the cluster's nodes and LoadBalancers.
    #[must_use]
    pub fn network_cidrs(&self) -> &[IpNet] {
        &self.network_cidrs
    }

    /// The pod CIDR(s); K3s's defaults unless set.
    #[must_use]
    pub fn pod_cidrs(&self) -> &[IpNet] {
        &self.pod_cidrs
    }

    /// The service CIDR(s); K3s's defaults unless set.
    #[must_use]
    pub fn service_cidrs(&self) -> &[IpNet] {
        &self.service_cidrs
    }

    /// The nodes.
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The LoadBalancers linked to the cluster.
    #[must_use]
    pub fn load_balancers(&self) -> &[LoadBalancer] {
        &self.load_balancers
    }

    /// Nodes with their own public IP (other than a cluster egress IP): pods
    /// on them do not leave from the cluster IP.
    pub fn public_ip_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.public_ip().is_some_and(|ip| !self.egress.contains(&ip)))
    }

    /// The cluster's public-IP node pools, in the order given: each of
    /// their nodes egresses from its own IP, so the egress set grows with
    /// them.
    ///
    /// ```
    /// use civo_egress::{Cluster, PublicIpPool};
    /// let cluster = Cluster::builder("prod")
    ///     .egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?)
    ///     .public_ip_pool(PublicIpPool::new("edge", 1)?)
    ///     .public_ip_pool(PublicIpPool::new("burst", 2)?)
    ///     .build()?;
    /// assert_eq!(cluster.public_ip_pools().len(), 2);
    /// assert_eq!(cluster.pending_public_nodes(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn public_ip_pools(&self) -> &[PublicIpPool] {
        &self.public_ip_pools
    }

    /// The identity of the cluster's private network, if known.
    #[must_use]
    pub const fn network(&self) -> Option<&NetworkId> {
        self.network.as_ref()
    }

    /// What discovery knew about the cluster that its resources cannot
    /// say (not ACTIVE, a VLAN-connected network, lists the key could not
    /// read, pool nodes without an IP yet...), each a [`Warning`] with this
    /// cluster's name. The snapshot keeps them (`caveats`).
    #[must_use]
    pub fn caveats(&self) -> &[Warning] {
        &self.caveats
    }

    /// The fingerprint of the cluster's Kubernetes CA certificate, if
    /// known: discovery records it from the kubeconfig the Civo API holds
    /// for the cluster (the snapshot's `ca_fingerprint`). A pod whose
    /// service-account `ca.crt` has this fingerprint is in this cluster
    /// (see `resolve::prove`, feature `resolve`).
    ///
    /// ```
    /// use civo_egress::{CaFingerprint, Cluster};
    /// let ca: CaFingerprint = "sha256:7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429".parse()?;
    /// let cluster = Cluster::builder("prod")
    ///     .egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?)
    ///     .ca_fingerprint(ca)
    ///     .build()?;
    /// assert_eq!(cluster.ca_fingerprint(), Some(ca));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn ca_fingerprint(&self) -> Option<CaFingerprint> {
        self.ca_fingerprint
    }

    /// Whether a caveat of `kind` is recorded.
    #[must_use]
    pub fn has_caveat(&self, kind: WarningKind) -> bool {
        self.caveats.iter().any(|c| c.kind() == kind)
    }

    /// Whether the cluster's private network is known: nothing says it
    /// could not be read (`networks-unknown`), or that one of its CIDRs is
    /// missing or absurd (`network`). When not, an address may be inside
    /// the cluster's network without the topology knowing it.
    #[must_use]
    pub fn network_known(&self) -> bool {
        !(self.has_caveat(WarningKind::NetworksUnknown) || self.has_caveat(WarningKind::Network))
    }

    /// Whether the cluster's network is known for the family of `ip`: a
    /// CIDR of that family is recorded, or nothing says any is unknown.
    #[must_use]
    pub fn network_known_for(&self, ip: IpAddr) -> bool {
        self.network_cidrs.iter().any(|n| n.addr().is_ipv4() == ip.is_ipv4())
            && !self.has_caveat(WarningKind::NetworksUnknown)
            || self.network_known()
    }

    /// How many nodes of the cluster's public-IP pools have no public IP
    /// yet (the sum of [`PublicIpPool::pending`], saturating): above zero,
    /// the cluster's egress set is incomplete.
    #[must_use]
    pub fn pending_public_nodes(&self) -> u32 {
        self.public_ip_pools.iter().fold(0u32, |sum, p| sum.saturating_add(p.pending()))
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("egress_ips", &self.egress)
            .field("network_cidrs", &self.network_cidrs)
            .field("nodes", &self.nodes.len())
            .field("load_balancers", &self.load_balancers.len())
            .field("public_ip_pools", &self.public_ip_pools)
            .field("caveats", &self.caveats.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Draft {
    name: String,
    id: Option<String>,
    region: Option<String>,
    egress: Vec<IpAddr>,
    network_cidrs: Vec<IpNet>,
    pod_cidrs: Option<Vec<IpNet>>,
    service_cidrs: Option<Vec<IpNet>>,
    nodes: Vec<Node>,
    load_balancers: Vec<LoadBalancer>,
    public_ip_pools: Vec<PublicIpPool>,
    network: Option<NetworkId>,
    caveats: Vec<Warning>,
    ca_fingerprint: Option<CaFingerprint>,
}

/// Builds a [`Cluster`]; every setter is checked, the first error is
/// reported by [`build`](Self::build).
///
/// Setters take typed values (`IpAddr`, `IpNet`, or what converts into
/// them): parse text first, so that a typo names its own field. A number is
/// not an address:
///
/// ```compile_fail
/// let builder = civo_egress::Cluster::builder("prod").egress_ip(42); // an integer is no IpAddr
/// ```
#[must_use]
#[derive(Debug)]
pub struct ClusterBuilder {
    validation: Validation,
    inner: Result<Draft, TopologyError>,
}

impl ClusterBuilder {
    fn and_then(mut self, f: impl FnOnce(&mut Draft) -> Result<(), TopologyError>) -> Self {
        if let Ok(parts) = &mut self.inner
            && let Err(e) = f(parts)
        {
            self.inner = Err(e);
        }
        self
    }

    /// Sets the Civo cluster id (a blank id is none).
    pub fn id(self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.and_then(|p| {
            p.id = Some(id).filter(|id| !id.trim().is_empty());
            Ok(())
        })
    }

    /// Sets the Civo region code (a blank code is none).
    pub fn region(self, region: impl Into<String>) -> Self {
        let region = region.into();
        self.and_then(|p| {
            p.region = Some(region).filter(|r| !r.trim().is_empty());
            Ok(())
        })
    }

    /// Sets the cluster IP (`master_ip`); call it once per address family
    /// for a dual-stack cluster. IPv4-mapped addresses are stored as IPv4.
    ///
    /// A second address of the same family is a
    /// [`TopologyError::DuplicateEgressFamily`] at [`build`](Self::build).
    pub fn egress_ip(self, ip: impl Into<IpAddr>) -> Self {
        let ip = ip.into().to_canonical();
        self.and_then(|p| {
            if p.egress.iter().any(|e| e.is_ipv4() == ip.is_ipv4()) {
                return Err(TopologyError::DuplicateEgressFamily { field: "egress_ip".into(), value: ip.to_string() });
            }
            p.egress.push(ip);
            p.egress.sort_by_key(IpAddr::is_ipv6);
            Ok(())
        })
    }

    /// Adds a private network CIDR.
    ///
    /// One with host bits ([`TopologyError::HostBits`]) or covering every
    /// address ([`TopologyError::CatchAll`]) is an error at
    /// [`build`](Self::build).
    pub fn network_cidr(self, cidr: impl Into<IpNet>) -> Self {
        let cidr = cidr.into();
        self.and_then(|p| push_cidr(&mut p.network_cidrs, "network_cidr", cidr))
    }

    /// Adds a pod CIDR; the first call replaces K3s's default. Checked as
    /// [`network_cidr`](Self::network_cidr).
    pub fn pod_cidr(self, cidr: impl Into<IpNet>) -> Self {
        let cidr = cidr.into();
        self.and_then(|p| push_cidr(p.pod_cidrs.get_or_insert_with(Vec::new), "pod_cidr", cidr))
    }

    /// Adds a service CIDR; the first call replaces K3s's default. Checked as
    /// [`network_cidr`](Self::network_cidr).
    pub fn service_cidr(self, cidr: impl Into<IpNet>) -> Self {
        let cidr = cidr.into();
        self.and_then(|p| push_cidr(p.service_cidrs.get_or_insert_with(Vec::new), "service_cidr", cidr))
    }

    /// Adds a node.
    pub fn node(self, node: Node) -> Self {
        self.and_then(|p| {
            p.nodes.push(node);
            Ok(())
        })
    }

    /// Adds a LoadBalancer linked to the cluster.
    pub fn load_balancer(self, lb: LoadBalancer) -> Self {
        self.and_then(|p| {
            p.load_balancers.push(lb);
            Ok(())
        })
    }

    /// Adds a public-IP node pool (repeatable). Two pools with the same id
    /// are a [`TopologyError::DuplicatePublicIpPool`] at
    /// [`build`](Self::build).
    pub fn public_ip_pool(self, pool: PublicIpPool) -> Self {
        self.and_then(|p| {
            p.public_ip_pools.push(pool);
            Ok(())
        })
    }

    /// Sets the identity of the cluster's private network.
    pub fn network(self, network: NetworkId) -> Self {
        self.and_then(|p| {
            p.network = Some(network);
            Ok(())
        })
    }

    /// Records a caveat (repeatable): what discovery knew about the cluster
    /// that its resources cannot say. Its cluster becomes this cluster's
    /// name.
    ///
    /// ```
    /// use civo_egress::{Cluster, Warning, WarningKind};
    /// let cluster = Cluster::builder("prod")
    ///     .egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?)
    ///     .caveat(Warning::new(WarningKind::NetworksUnknown, "the key may not list networks"))
    ///     .build()?;
    /// assert_eq!(cluster.caveats()[0].cluster(), Some("prod"));
    /// assert!(!cluster.network_known());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn caveat(self, caveat: Warning) -> Self {
        self.and_then(|p| {
            p.caveats.push(caveat);
            Ok(())
        })
    }

    /// Sets the fingerprint of the cluster's Kubernetes CA certificate
    /// ([`Cluster::ca_fingerprint`]).
    pub fn ca_fingerprint(self, fingerprint: CaFingerprint) -> Self {
        self.and_then(|p| {
            p.ca_fingerprint = Some(fingerprint);
            Ok(())
        })
    }

    /// Chooses how strictly egress addresses are checked (default: strict).
    pub fn validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }

    /// Checks and returns the cluster.
    ///
    /// # Errors
    ///
    /// The first invalid value given to a setter ([`TopologyError::HostBits`],
    /// [`TopologyError::CatchAll`], [`TopologyError::DuplicateEgressFamily`]),
    /// a missing name or egress IP ([`TopologyError::Missing`]), an egress
    /// IP or node public IP that is not global unicast
    /// ([`TopologyError::NonGlobalEgress`]) unless the [`Validation`] allows
    /// it, or two public-IP pools with the same id
    /// ([`TopologyError::DuplicatePublicIpPool`]).
    pub fn build(self) -> Result<Cluster, TopologyError> {
        let p = self.inner?;
        let allow = self.validation.allows_non_global();
        let name = parse::required("name", Some(p.name))?;
        if p.egress.is_empty() {
            return Err(TopologyError::Missing { field: "egress_ip".into() });
        }
        for (i, &ip) in p.egress.iter().enumerate() {
            let field = if p.egress.len() == 1 { "egress_ip".to_owned() } else { format!("egress_ip[{i}]") };
            parse::egress(&field, ip, allow)?;
        }
        for (i, node) in p.nodes.iter().enumerate() {
            if let Some(public) = node.public_ip() {
                parse::egress(&format!("nodes[{i}].public_ip"), public, allow)?;
            }
        }
        for (i, pool) in p.public_ip_pools.iter().enumerate() {
            if p.public_ip_pools[..i].iter().any(|earlier| earlier.id() == pool.id()) {
                return Err(TopologyError::DuplicatePublicIpPool {
                    field: format!("public_ip_pools[{i}].id"),
                    id: pool.id().to_owned(),
                });
            }
        }
        // Caveats name the cluster as a person names it: REGION/NAME.
        let label = label(&name, p.region.as_deref());
        Ok(Cluster {
            id: p.id,
            region: p.region,
            egress: p.egress,
            network_cidrs: p.network_cidrs,
            pod_cidrs: p.pod_cidrs.unwrap_or_else(|| vec![K3S_POD_CIDR]),
            service_cidrs: p.service_cidrs.unwrap_or_else(|| vec![K3S_SERVICE_CIDR]),
            nodes: p.nodes,
            load_balancers: p.load_balancers,
            public_ip_pools: p.public_ip_pools,
            network: p.network,
            caveats: p.caveats.into_iter().map(|c| c.with_cluster(label.clone())).collect(),
            ca_fingerprint: p.ca_fingerprint,
            name,
        })
    }
}

/// `REGION/NAME`, or the name alone: how a person names a cluster (present
/// or left out) without ambiguity.
pub(crate) fn label(name: &str, region: Option<&str>) -> String {
    match region {
        Some(region) => format!("{region}/{name}"),
        None => name.to_owned(),
    }
}

/// Whether `query` names a cluster of this name, id and region: its id,
/// `REGION/NAME` (the region in any case), or its name.
pub(crate) fn answers_to(query: &str, name: &str, id: Option<&str>, region: Option<&str>) -> bool {
    let query = query.trim();
    id == Some(query)
        || name == query
        || region
            .is_some_and(|own| query.split_once('/').is_some_and(|(r, n)| n == name && r.eq_ignore_ascii_case(own)))
}

fn push_cidr(list: &mut Vec<IpNet>, name: &str, cidr: IpNet) -> Result<(), TopologyError> {
    let field = format!("{name}[{}]", list.len());
    list.push(parse::checked_network(&field, &cidr.to_string(), cidr)?);
    Ok(())
}
