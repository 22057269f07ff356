//! Nodes, LoadBalancers and reserved IPs: the addresses a cluster or an
//! account owns. Their snapshot JSON lives in `snapshot.rs`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ParseNameError, TopologyError};
use crate::parse;

/// A cluster node: its private IP in the cluster network and, for nodes of a
/// public-IP node pool (and the gateway node), a public IP.
///
/// A node with a public IP sends its pods' traffic from that IP, so the
/// public IP belongs to the cluster's egress set. A node of a public-IP
/// pool that is still BUILDING may have its public IP before its private
/// one ([`Node::building`]): its public IP is in the egress set all the
/// same, since its pods will leave from it.
///
/// ```
/// use civo_egress::Node;
/// let node = Node::new("w-1", "192.168.1.4".parse()?)?.with_public_ip("212.2.253.151".parse()?);
/// assert_eq!(node.public_ip(), Some("212.2.253.151".parse()?));
/// assert!(Node::new(" ", "192.168.1.4".parse()?).is_err(), "a node has a name");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    name: String,
    private_ip: Option<IpAddr>,
    public_ip: Option<IpAddr>,
}

impl Node {
    /// A node with a private IP only (the usual Civo worker). IPv4-mapped
    /// addresses are stored as IPv4.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] (field `name`) when `name` is empty or
    /// blank: the snapshot format requires a name.
    pub fn new(name: impl Into<String>, private_ip: IpAddr) -> Result<Self, TopologyError> {
        let name = parse::required("name", Some(name.into()))?;
        Ok(Self { name, private_ip: Some(private_ip.to_canonical()), public_ip: None })
    }

    /// A node that has its public IP but no private IP yet (a public-IP
    /// pool node still BUILDING): in the egress set, in no destination
    /// whitelist of the cluster's network until its private IP is known.
    ///
    /// ```
    /// use civo_egress::{Cluster, Node};
    /// let building = Node::building("edge-3", "74.220.24.78".parse()?)?;
    /// assert_eq!((building.private_ip(), building.public_ip()), (None, Some("74.220.24.78".parse()?)));
    /// let cluster = Cluster::builder("prod").egress_ip("74.220.24.10".parse::<std::net::IpAddr>()?).node(building).build()?;
    /// assert_eq!(cluster.egress_ips().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] (field `name`) for a blank name.
    pub fn building(name: impl Into<String>, public_ip: IpAddr) -> Result<Self, TopologyError> {
        let name = parse::required("name", Some(name.into()))?;
        Ok(Self { name, private_ip: None, public_ip: Some(public_ip.to_canonical()) })
    }

    /// Gives the node a public IP (the gateway node, or a public-IP pool node).
    #[must_use]
    pub fn with_public_ip(mut self, public_ip: IpAddr) -> Self {
        self.public_ip = Some(public_ip.to_canonical());
        self
    }

    /// The node's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's address in the cluster network; `None` only for a
    /// [`building`](Self::building) node, which has a public IP.
    #[must_use]
    pub const fn private_ip(&self) -> Option<IpAddr> {
        self.private_ip
    }

    /// The node's own public IP, if it has one.
    #[must_use]
    pub const fn public_ip(&self) -> Option<IpAddr> {
        self.public_ip
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node({}", self.name)?;
        if let Some(private) = self.private_ip {
            write!(f, " {private}")?;
        }
        if let Some(public) = self.public_ip {
            write!(f, " public {public}")?;
        }
        f.write_str(")")
    }
}

/// A Civo LoadBalancer: a public IP for inbound traffic, never a source of
/// pod egress.
///
/// ```
/// use civo_egress::LoadBalancer;
/// let lb = LoadBalancer::new("ingress", "212.2.251.1".parse()?)?;
/// assert_eq!(lb.private_ip(), None);
/// assert!(LoadBalancer::new("", "212.2.251.1".parse()?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoadBalancer {
    name: String,
    public_ip: IpAddr,
    private_ip: Option<IpAddr>,
}

impl LoadBalancer {
    /// A LoadBalancer with its public IP.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] (field `name`) when `name` is empty or blank.
    pub fn new(name: impl Into<String>, public_ip: IpAddr) -> Result<Self, TopologyError> {
        let name = parse::required("name", Some(name.into()))?;
        Ok(Self { name, public_ip: public_ip.to_canonical(), private_ip: None })
    }

    /// Sets the LoadBalancer's address in the cluster network.
    #[must_use]
    pub fn with_private_ip(mut self, private_ip: IpAddr) -> Self {
        self.private_ip = Some(private_ip.to_canonical());
        self
    }

    /// The LoadBalancer's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public IP clients connect to.
    #[must_use]
    pub const fn public_ip(&self) -> IpAddr {
        self.public_ip
    }

    /// The LoadBalancer's address in the cluster network, if known.
    #[must_use]
    pub const fn private_ip(&self) -> Option<IpAddr> {
        self.private_ip
    }
}

impl fmt::Debug for LoadBalancer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoadBalancer({} {}", self.name, self.public_ip)?;
        if let Some(private) = self.private_ip {
            write!(f, " private {private}")?;
        }
        f.write_str(")")
    }
}

/// What a reserved IP is assigned to.
///
/// ```
/// use civo_egress::AssignmentKind;
/// assert_eq!("loadbalancer".parse::<AssignmentKind>()?, AssignmentKind::LoadBalancer);
/// assert_eq!(AssignmentKind::Instance.to_string(), "instance");
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AssignmentKind {
    /// A LoadBalancer (inbound traffic).
    #[serde(rename = "loadbalancer")]
    LoadBalancer,
    /// An instance (not a Kubernetes node's egress).
    Instance,
}

impl AssignmentKind {
    /// Every kind.
    pub const ALL: &'static [Self] = &[Self::LoadBalancer, Self::Instance];

    /// The name used in the snapshot JSON and by the Civo API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoadBalancer => "loadbalancer",
            Self::Instance => "instance",
        }
    }
}

impl fmt::Display for AssignmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AssignmentKind {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| ParseNameError::new("assignment type", s))
    }
}

/// The resource a reserved IP is assigned to.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Assignment {
    kind: AssignmentKind,
    name: String,
}

impl Assignment {
    /// An assignment to the resource `name` of kind `kind`.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] (field `name`) when `name` is empty or blank.
    pub fn new(kind: AssignmentKind, name: impl Into<String>) -> Result<Self, TopologyError> {
        let name = parse::required("name", Some(name.into()))?;
        Ok(Self { kind, name })
    }

    /// What kind of resource holds the IP.
    #[must_use]
    pub const fn kind(&self) -> AssignmentKind {
        self.kind
    }

    /// The name of the resource holding the IP.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Assignment({} {})", self.kind, self.name)
    }
}

/// An account-level reserved IP: pinned to an instance or a LoadBalancer,
/// never the source of a cluster's pod egress.
///
/// ```
/// use civo_egress::{Assignment, AssignmentKind, ReservedIp};
/// let spare = ReservedIp::new("spare", "74.220.27.5".parse()?)?;
/// assert!(spare.assigned_to().is_none());
/// let pinned = spare.with_assignment(Assignment::new(AssignmentKind::Instance, "bastion")?);
/// assert_eq!(pinned.assigned_to().map(Assignment::name), Some("bastion"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservedIp {
    name: String,
    ip: IpAddr,
    assigned_to: Option<Assignment>,
}

impl ReservedIp {
    /// An unassigned reserved IP.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] (field `name`) when `name` is empty or blank.
    pub fn new(name: impl Into<String>, ip: IpAddr) -> Result<Self, TopologyError> {
        let name = parse::required("name", Some(name.into()))?;
        Ok(Self { name, ip: ip.to_canonical(), assigned_to: None })
    }

    /// Records what the IP is assigned to.
    #[must_use]
    pub fn with_assignment(mut self, assignment: Assignment) -> Self {
        self.assigned_to = Some(assignment);
        self
    }

    /// The reserved IP's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address.
    #[must_use]
    pub const fn ip(&self) -> IpAddr {
        self.ip
    }

    /// What holds the IP, if anything.
    #[must_use]
    pub const fn assigned_to(&self) -> Option<&Assignment> {
        self.assigned_to.as_ref()
    }
}

impl fmt::Debug for ReservedIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReservedIp({} {}", self.name, self.ip)?;
        if let Some(a) = &self.assigned_to {
            write!(f, " -> {} {}", a.kind, a.name)?;
        }
        f.write_str(")")
    }
}

/// A Civo node pool whose nodes each get their own public IP (the API's
/// `pools[].public_ip_node_pool`): pods on those nodes leave from that IP,
/// so the cluster's egress set grows with each node of the pool.
///
/// [`pending`](Self::pending) counts the pool's nodes that have no public
/// IP yet (BUILDING, or a pool scaling up): while it is above zero the
/// egress set is incomplete, and [`Whitelist`](crate::Whitelist),
/// [`classify_ip`](crate::classify_ip) and [`Audit`](crate::Audit) say so.
/// The nodes that have their IP are ordinary [`Node`]s with a public IP.
///
/// ```
/// use civo_egress::PublicIpPool;
/// let pool = PublicIpPool::new("e7b2c1d0-pool", 1)?;
/// assert_eq!((pool.id(), pool.pending()), ("e7b2c1d0-pool", 1));
/// assert_eq!(format!("{pool:?}"), "PublicIpPool(e7b2c1d0-pool pending 1)");
/// assert!(PublicIpPool::new(" ", 0).is_err(), "a pool has an id");
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PublicIpPool {
    id: String,
    pending: u32,
}

impl PublicIpPool {
    /// The pool `id` (the Civo pool id), with `pending` nodes that have no
    /// public IP yet.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] (field `id`) when `id` is empty or blank.
    pub fn new(id: impl Into<String>, pending: u32) -> Result<Self, TopologyError> {
        let id = parse::required("id", Some(id.into()))?;
        Ok(Self { id, pending })
    }

    /// The pool's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many of the pool's nodes have no public IP yet.
    #[must_use]
    pub const fn pending(&self) -> u32 {
        self.pending
    }
}

impl fmt::Debug for PublicIpPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicIpPool({} pending {})", self.id, self.pending)
    }
}

/// Reads `{"id", "pending"}` (`pending` defaults to 0), checked as
/// [`PublicIpPool::new`]; unknown fields are refused.
impl<'de> Deserialize<'de> for PublicIpPool {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            id: String,
            #[serde(default)]
            pending: u32,
        }
        let Shape { id, pending } = Shape::deserialize(deserializer)?;
        Self::new(id, pending).map_err(serde::de::Error::custom)
    }
}
