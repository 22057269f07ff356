//! A Civo Kubernetes cluster and its builder.

use std::fmt;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::TopologyError;
use crate::node::{LoadBalancer, Node};
use crate::parse;
use crate::validation::Validation;

/// K3s's default pod CIDR (IPv4); every node takes a /24 of it.
pub const K3S_POD_CIDR: IpNet = IpNet::V4(Ipv4Net::new_assert(std::net::Ipv4Addr::new(10, 42, 0, 0), 16));
/// K3s's default service CIDR (IPv4).
pub const K3S_SERVICE_CIDR: IpNet = IpNet::V4(Ipv4Net::new_assert(std::net::Ipv4Addr::new(10, 43, 0, 0), 16));
/// K3s's default pod CIDR on IPv6 nodes.
pub const K3S_POD_CIDR_V6: IpNet =
    IpNet::V6(Ipv6Net::new_assert(std::net::Ipv6Addr::new(0xfd00, 0x42, 0, 0, 0, 0, 0, 0), 56));
/// K3s's default service CIDR on IPv6 nodes.
pub const K3S_SERVICE_CIDR_V6: IpNet =
    IpNet::V6(Ipv6Net::new_assert(std::net::Ipv6Addr::new(0xfd00, 0x43, 0, 0, 0, 0, 0, 0), 112));
/// The cluster DNS service address K3s assigns in its default service CIDR.
pub const K3S_CLUSTER_DNS: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 43, 0, 10));

/// One Civo Kubernetes cluster: its egress IP, its private network, the K3s
/// pod and service CIDRs, its nodes and LoadBalancers.
///
/// Built with [`Cluster::builder`], which validates everything at
/// [`build`](ClusterBuilder::build):
///
/// ```
/// use civo_egress::{Cluster, Node};
/// let cluster = Cluster::builder("prod")
///     .egress_ip("212.2.253.151")
///     .network_cidr("192.168.1.0/24")
///     .node(Node::new("w-1", "192.168.1.4".parse()?))
///     .build()?;
/// assert_eq!(cluster.egress_ips(), ["212.2.253.151".parse::<std::net::IpAddr>()?]);
/// assert_eq!(cluster.pod_cidrs(), [civo_egress::K3S_POD_CIDR]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cluster {
    pub(crate) name: String,
    pub(crate) id: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) egress_ip: IpAddr,
    pub(crate) network_cidrs: Vec<IpNet>,
    pub(crate) pod_cidrs: Vec<IpNet>,
    pub(crate) service_cidrs: Vec<IpNet>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) load_balancers: Vec<LoadBalancer>,
}

impl Cluster {
    /// Starts a cluster named `name`.
    pub fn builder(name: impl Into<String>) -> ClusterBuilder {
        ClusterBuilder { validation: Validation::strict(), inner: Ok(Parts { name: name.into(), ..Parts::default() }) }
    }

    /// The cluster's name, unique within a topology.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
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

    /// The cluster IP (the Civo API's `master_ip`), from which pods leave.
    #[must_use]
    pub const fn egress_ip(&self) -> IpAddr {
        self.egress_ip
    }

    /// Every address the cluster's pods may leave from: the egress IP, then
    /// the public IP of each public-IP-pool node, without repeats.
    #[must_use]
    pub fn egress_ips(&self) -> Vec<IpAddr> {
        let mut ips = vec![self.egress_ip];
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

    /// Nodes with their own public IP: pods on them do not leave from the
    /// cluster IP.
    pub fn public_ip_nodes(&self) -> impl Iterator<Item = &Node> {
        let egress = self.egress_ip;
        self.nodes.iter().filter(move |n| n.public_ip().is_some_and(|ip| ip != egress))
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("egress_ip", &format_args!("{}", self.egress_ip))
            .field("network_cidrs", &self.network_cidrs)
            .field("nodes", &self.nodes.len())
            .field("load_balancers", &self.load_balancers.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Parts {
    name: String,
    id: Option<String>,
    region: Option<String>,
    egress_ip: Option<IpAddr>,
    network_cidrs: Vec<IpNet>,
    pod_cidrs: Option<Vec<IpNet>>,
    service_cidrs: Option<Vec<IpNet>>,
    nodes: Vec<Node>,
    load_balancers: Vec<LoadBalancer>,
}

/// Builds a [`Cluster`]; every setter is checked, the first error is
/// reported by [`build`](Self::build).
///
/// Addresses and CIDRs are taken as anything that displays as one (`&str`,
/// `IpAddr`, `IpNet`...), so a typo is an error at `build()`, not a panic.
#[must_use]
#[derive(Debug)]
pub struct ClusterBuilder {
    validation: Validation,
    inner: Result<Parts, TopologyError>,
}

impl ClusterBuilder {
    fn and_then(mut self, f: impl FnOnce(&mut Parts) -> Result<(), TopologyError>) -> Self {
        if let Ok(parts) = &mut self.inner
            && let Err(e) = f(parts)
        {
            self.inner = Err(e);
        }
        self
    }

    /// Sets the Civo cluster id.
    pub fn id(self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.and_then(|p| {
            p.id = Some(id).filter(|id| !id.trim().is_empty());
            Ok(())
        })
    }

    /// Sets the Civo region code.
    pub fn region(self, region: impl Into<String>) -> Self {
        let region = region.into();
        self.and_then(|p| {
            p.region = Some(region).filter(|r| !r.trim().is_empty());
            Ok(())
        })
    }

    /// Sets the cluster IP (`master_ip`).
    pub fn egress_ip(self, ip: impl fmt::Display) -> Self {
        let text = ip.to_string();
        self.and_then(|p| {
            p.egress_ip = Some(parse::ip("egress_ip", &text)?);
            Ok(())
        })
    }

    /// Adds a private network CIDR.
    pub fn network_cidr(self, cidr: impl fmt::Display) -> Self {
        let text = cidr.to_string();
        self.and_then(|p| {
            let field = format!("network_cidr[{}]", p.network_cidrs.len());
            p.network_cidrs.push(parse::network(&field, &text)?);
            Ok(())
        })
    }

    /// Adds a pod CIDR; the first call replaces K3s's default.
    pub fn pod_cidr(self, cidr: impl fmt::Display) -> Self {
        let text = cidr.to_string();
        self.and_then(|p| push_cidr(p.pod_cidrs.get_or_insert_with(Vec::new), "pod_cidr", &text))
    }

    /// Adds a service CIDR; the first call replaces K3s's default.
    pub fn service_cidr(self, cidr: impl fmt::Display) -> Self {
        let text = cidr.to_string();
        self.and_then(|p| push_cidr(p.service_cidrs.get_or_insert_with(Vec::new), "service_cidr", &text))
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

    /// Chooses how strictly egress addresses are checked (default: strict).
    pub fn validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }

    /// Records an error found while reading the cluster from elsewhere.
    pub(crate) fn fail(mut self, error: TopologyError) -> Self {
        if self.inner.is_ok() {
            self.inner = Err(error);
        }
        self
    }

    /// Checks and returns the cluster.
    ///
    /// # Errors
    ///
    /// The first invalid value given to a setter ([`TopologyError::InvalidIp`],
    /// [`TopologyError::InvalidCidr`], [`TopologyError::HostBits`],
    /// [`TopologyError::CatchAll`]), a missing name or egress IP
    /// ([`TopologyError::Missing`]), or an egress IP or node public IP that is
    /// not global unicast ([`TopologyError::NonGlobalEgress`]) unless the
    /// [`Validation`] allows it.
    pub fn build(self) -> Result<Cluster, TopologyError> {
        let p = self.inner?;
        let allow = self.validation.allows_non_global();
        let name = parse::required("name", Some(p.name))?;
        let egress_ip = p.egress_ip.ok_or_else(|| TopologyError::Missing { field: "egress_ip".into() })?;
        parse::egress("egress_ip", egress_ip, allow)?;
        for (i, node) in p.nodes.iter().enumerate() {
            if let Some(public) = node.public_ip() {
                parse::egress(&format!("nodes[{i}].public_ip"), public, allow)?;
            }
        }
        Ok(Cluster {
            name,
            id: p.id,
            region: p.region,
            egress_ip,
            network_cidrs: p.network_cidrs,
            pod_cidrs: p.pod_cidrs.unwrap_or_else(|| vec![K3S_POD_CIDR]),
            service_cidrs: p.service_cidrs.unwrap_or_else(|| vec![K3S_SERVICE_CIDR]),
            nodes: p.nodes,
            load_balancers: p.load_balancers,
        })
    }
}

fn push_cidr(list: &mut Vec<IpNet>, name: &str, text: &str) -> Result<(), TopologyError> {
    let field = format!("{name}[{}]", list.len());
    list.push(parse::network(&field, text)?);
    Ok(())
}
