//! What an address is: [`IpClass`] and [`Classification`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::index::Answer;
use crate::topology::Topology;

/// What an address is to a Civo account, in order of precedence: when an
/// address is several things, the first in this list wins (and `Ord` follows
/// it: `Egress < LoadBalancer < ... < Public`).
///
/// The serialized names are stable (see [`as_str`](Self::as_str)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum IpClass {
    /// A cluster's egress IP, or the public IP of a public-IP-pool node:
    /// whitelist it.
    Egress,
    /// A LoadBalancer's public or private IP: inbound traffic only.
    LoadBalancer,
    /// A reserved IP: pinned to an instance or LoadBalancer, not pod egress.
    Reserved,
    /// A node's private IP: never seen on the internet.
    Node,
    /// Inside a cluster's private network, not a known node or LoadBalancer.
    NodeNetwork,
    /// Inside a cluster's pod CIDR.
    Pod,
    /// Inside a cluster's service CIDR.
    Service,
    /// IANA special-purpose and not private: loopback, link-local, CGNAT,
    /// multicast, documentation...
    Special,
    /// RFC 1918 or IPv6 unique-local, claimed by no cluster.
    Private,
    /// Globally routable and unknown to the topology.
    Public,
}

impl IpClass {
    /// Every class, in order of precedence.
    pub const ALL: [Self; 10] = [
        Self::Egress,
        Self::LoadBalancer,
        Self::Reserved,
        Self::Node,
        Self::NodeNetwork,
        Self::Pod,
        Self::Service,
        Self::Special,
        Self::Private,
        Self::Public,
    ];

    /// The stable name: `egress`, `load-balancer`, `reserved`, `node`,
    /// `node-network`, `pod`, `service`, `special`, `private` or `public`.
    #[must_use]
    #[inline]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Egress => "egress",
            Self::LoadBalancer => "load-balancer",
            Self::Reserved => "reserved",
            Self::Node => "node",
            Self::NodeNetwork => "node-network",
            Self::Pod => "pod",
            Self::Service => "service",
            Self::Special => "special",
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    /// Whether a partner may whitelist addresses of this class: only
    /// [`IpClass::Egress`].
    #[must_use]
    #[inline]
    pub const fn is_whitelistable(self) -> bool {
        matches!(self, Self::Egress)
    }
}

impl fmt::Display for IpClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`IpClass`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown address class {0:?}")]
pub struct ParseIpClassError(String);

impl FromStr for IpClass {
    type Err = ParseIpClassError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| ParseIpClassError(s.to_owned()))
    }
}

/// The answer of [`classify_ip`]: what the address is, to which cluster(s)
/// it belongs, whether to whitelist it, and why.
///
/// It borrows from the [`Topology`] it came from, so classifying allocates
/// nothing. Serializes as
/// `{"ip", "class", "clusters", "whitelistable", "reason"}`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Classification<'t> {
    ip: IpAddr,
    answer: &'t Answer,
}

impl<'t> Classification<'t> {
    #[inline]
    pub(crate) const fn new(ip: IpAddr, answer: &'t Answer) -> Self {
        Self { ip, answer }
    }

    /// The address as it was asked about (an IPv4-mapped IPv6 address stays
    /// as given, though it is classified as its IPv4 address).
    #[must_use]
    #[inline]
    pub const fn ip(&self) -> IpAddr {
        self.ip
    }

    /// What the address is.
    #[must_use]
    #[inline]
    pub const fn class(&self) -> IpClass {
        self.answer.class
    }

    /// The clusters the address belongs to, in topology order. Empty for
    /// `special`, `private` and `public`; several for a pod or service address,
    /// since every K3s cluster shares the same default CIDRs.
    #[must_use]
    #[inline]
    pub fn clusters(&self) -> &'t [String] {
        &self.answer.clusters
    }

    /// Whether a partner should whitelist it (only egress addresses).
    #[must_use]
    #[inline]
    pub const fn is_whitelistable(&self) -> bool {
        self.answer.class.is_whitelistable()
    }

    /// One sentence a person can act on.
    #[must_use]
    #[inline]
    pub fn reason(&self) -> &'t str {
        &self.answer.reason
    }
}

impl fmt::Debug for Classification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Classification({} {} {:?})", self.ip, self.class(), self.clusters())
    }
}

/// `IP CLASS [clusters]: reason`.
impl fmt::Display for Classification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ip, self.class())?;
        if !self.clusters().is_empty() {
            write!(f, " [{}]", self.clusters().join(", "))?;
        }
        write!(f, ": {}", self.reason())
    }
}

impl Serialize for Classification<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Classification", 5)?;
        s.serialize_field("ip", &self.ip)?;
        s.serialize_field("class", &self.class())?;
        s.serialize_field("clusters", self.clusters())?;
        s.serialize_field("whitelistable", &self.is_whitelistable())?;
        s.serialize_field("reason", self.reason())?;
        s.end()
    }
}

/// Classifies `ip` against `topology`: the same as
/// [`Topology::classify_ip`].
///
/// Infallible and allocation-free: one hash probe and one binary search in an
/// index the topology built once.
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
