//! [`IpClass`]: what an address is to a Civo account, with its stable names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ParseNameError;

/// What an address is to a Civo account, in order of precedence: when an
/// address is several things, the first in this list wins (and `Ord` follows
/// it: `Egress < LoadBalancer < ... < Public`).
///
/// The serialized names are stable (see [`as_str`](Self::as_str)); `Display`
/// writes them and `FromStr` reads them back.
///
/// ```
/// use civo_egress::IpClass;
/// assert_eq!(IpClass::NodeNetwork.to_string(), "node-network");
/// assert_eq!("load-balancer".parse::<IpClass>()?, IpClass::LoadBalancer);
/// assert!("gateway".parse::<IpClass>().is_err());
/// assert_eq!(IpClass::ALL.first(), Some(&IpClass::Egress));
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
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
    /// A node's private IP: not seen by destinations outside the cluster's
    /// network (they see the egress IP); a destination inside it does.
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
    /// Every class, in order of precedence. A slice, since the enum may grow.
    pub const ALL: &'static [Self] = &[
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

impl FromStr for IpClass {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| ParseNameError::new("address class", s))
    }
}
