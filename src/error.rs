//! Errors of the pure core.
//!
//! The bottom of the crate: every other core file may use these; they use
//! nothing of the crate but [`Cause`], the foreign error kept as `source()`.

use crate::cause::Cause;

/// A topology that failed validation: the field, the value and what is wrong.
///
/// Fields are named by their path in the snapshot JSON, for example
/// `clusters[0].egress_ip`, so that a person can find the line to fix.
/// [`field`](Self::field) gives that path to a program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The value is not an IP address (a placeholder such as
    /// `"your.cluster.ip.address"`, a typo, a CIDR where an address belongs).
    #[error("{field}: invalid IP address {value:?}")]
    #[non_exhaustive]
    InvalidIp {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// The value is not a CIDR such as `10.42.0.0/16`.
    #[error("{field}: invalid CIDR {value:?}")]
    #[non_exhaustive]
    InvalidCidr {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// The CIDR has bits set after its prefix, which usually means a typo.
    #[error("{field}: CIDR {value} has host bits set (did you mean {network}?)")]
    #[non_exhaustive]
    HostBits {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
        /// The network the value truncates to.
        network: String,
    },
    /// A network CIDR so wide (`0.0.0.0/0`, `::/0`) that it would make every
    /// address a node address.
    #[error("{field}: {value} covers every address and cannot be a cluster network")]
    #[non_exhaustive]
    CatchAll {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// An egress IP that the internet never sees as a source (private,
    /// loopback, documentation...), rejected unless the caller opted in.
    #[error("{field}: egress IP {value} is not a global unicast address: {why}")]
    #[non_exhaustive]
    NonGlobalEgress {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
        /// What the address is instead.
        why: String,
    },
    /// A second egress IP of the same address family: a cluster has at most
    /// one IPv4 and one IPv6 egress IP (public-IP-pool nodes bring their own).
    #[error(
        "{field}: egress IP {value} repeats an address family: a cluster has at most one IPv4 and one IPv6 egress IP"
    )]
    #[non_exhaustive]
    DuplicateEgressFamily {
        /// Path of the field.
        field: String,
        /// The second address of the family.
        value: String,
    },
    /// A reserved IP assigned to something other than an instance or a
    /// LoadBalancer.
    #[error("{field}: unknown assignment type {value:?} (expected \"loadbalancer\" or \"instance\")")]
    #[non_exhaustive]
    InvalidAssignment {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// A required field is missing or empty.
    #[error("{field}: missing or empty")]
    #[non_exhaustive]
    Missing {
        /// Path of the field.
        field: String,
    },
    /// A field the snapshot format does not know: usually a typo, which
    /// would otherwise load as an empty or partial topology. Accepted when
    /// [`Validation::allow_unknown_fields`](crate::Validation::allow_unknown_fields)
    /// says so.
    #[error("{field}: unknown field{}", did_you_mean(suggestion.as_deref()))]
    #[non_exhaustive]
    UnknownField {
        /// Path of the field, e.g. `clusters[0].networkCidr`.
        field: String,
        /// The known field it was probably meant to be, if one is close.
        suggestion: Option<String>,
    },
    /// Two public-IP node pools of a cluster carry the same id.
    #[error("{field}: duplicate public-IP pool id {id:?}")]
    #[non_exhaustive]
    DuplicatePublicIpPool {
        /// Path of the second pool's id, e.g. `public_ip_pools[1].id`.
        field: String,
        /// The repeated id.
        id: String,
    },
    /// A whitelist or audit destination that pods of a selected cluster
    /// reach without leaving the cluster (an address of its pod or service
    /// CIDR): no source address is seen from outside, so no whitelist
    /// applies.
    #[error(
        "destination {destination} is a {class} address of cluster {cluster}: its pods reach it without leaving the cluster, so no whitelist applies"
    )]
    #[non_exhaustive]
    DestinationInsideCluster {
        /// The destination as given.
        destination: String,
        /// What the destination is to the cluster: `pod` or `service`.
        class: &'static str,
        /// The cluster.
        cluster: String,
    },
    /// A value of the right JSON type that this format cannot take (a
    /// caveat of an unknown kind, a `format_version` of 0...).
    #[error("{field}: {value} (expected {expected})")]
    #[non_exhaustive]
    InvalidValue {
        /// The field's path.
        field: String,
        /// What was wrong with it.
        value: String,
        /// What the format expects there.
        expected: &'static str,
    },
    /// Two clusters are the same: the same id, or the same name in the
    /// same region (names may repeat across regions).
    #[error("duplicate cluster {name:?} (the same id, or the same name in the same region)")]
    #[non_exhaustive]
    DuplicateCluster {
        /// The repeated name.
        name: String,
    },
    /// A cluster named by the caller is not in the topology.
    #[error("no cluster named {name:?} in the topology")]
    #[non_exhaustive]
    UnknownCluster {
        /// The name asked for.
        name: String,
    },
    /// A cluster the snapshot names only as left out by discovery: its
    /// egress IPs are unknown.
    #[error(
        "cluster {name} was left out of the snapshot ({reason}): its egress IPs are unknown; discover again once it is ACTIVE"
    )]
    #[non_exhaustive]
    ClusterLeftOut {
        /// The cluster, as `REGION/NAME`.
        name: String,
        /// Why discovery left it out.
        reason: String,
    },
    /// A name that several clusters carry (in several regions).
    #[error("cluster name {name:?} is ambiguous: it names {}; name one as REGION/NAME or by its id", candidates.join(", "))]
    #[non_exhaustive]
    AmbiguousCluster {
        /// The name asked for.
        name: String,
        /// Each cluster it names, as `REGION/NAME (ID)`.
        candidates: Vec<String>,
    },
    /// A destination inside the networks of several selected clusters
    /// (two regions, or two networks of one region, with the same CIDR):
    /// which one's nodes it sees cannot be told.
    #[error("destination {destination} is inside the networks of several clusters ({}): choose the one it belongs to (by REGION/NAME or id; --cluster in the CLI)", candidates.join(", "))]
    #[non_exhaustive]
    AmbiguousDestination {
        /// The destination as given.
        destination: String,
        /// Each candidate cluster, with its network.
        candidates: Vec<String>,
    },
    /// A destination that may be inside a selected cluster's private
    /// network, which is not known (the key could not read networks, or
    /// the network has no IPv6 node addresses): the sources it sees cannot
    /// be told, and the egress IPs would be a guess.
    #[error(
        "destination {destination} may be inside the private network of cluster {cluster}, but {why}: the addresses it sees cannot be told; rediscover with a key that may list networks, or choose other clusters"
    )]
    #[non_exhaustive]
    NetworkUnknown {
        /// The destination as given.
        destination: String,
        /// The cluster.
        cluster: String,
        /// What is unknown.
        why: String,
    },
    /// The topology (or the selection of clusters) has no cluster, so there
    /// is no egress IP to whitelist or audit against. Usually a snapshot
    /// that lost its clusters; callers who really want an empty answer say
    /// so with [`Whitelist::of_allowing_empty`](crate::Whitelist::of_allowing_empty)
    /// or [`AuditBuilder::allow_empty`](crate::AuditBuilder::allow_empty).
    #[error("the topology has no cluster, so there is no egress IP to whitelist or audit against")]
    NoClusters,
    /// The snapshot is not well-formed JSON of the expected shape.
    #[error("invalid topology JSON at line {line}, column {column}: {message}")]
    #[non_exhaustive]
    Json {
        /// What serde_json reported.
        message: String,
        /// serde_json's error itself.
        #[source]
        source: Cause,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default()
}

impl TopologyError {
    /// The path of the field at fault (`clusters[0].egress_ip`), for the
    /// variants that have one.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidIp { field, .. }
            | Self::InvalidCidr { field, .. }
            | Self::HostBits { field, .. }
            | Self::CatchAll { field, .. }
            | Self::NonGlobalEgress { field, .. }
            | Self::DuplicateEgressFamily { field, .. }
            | Self::InvalidAssignment { field, .. }
            | Self::Missing { field }
            | Self::DuplicatePublicIpPool { field, .. }
            | Self::InvalidValue { field, .. }
            | Self::UnknownField { field, .. } => Some(field),
            Self::DuplicateCluster { .. }
            | Self::UnknownCluster { .. }
            | Self::AmbiguousCluster { .. }
            | Self::ClusterLeftOut { .. }
            | Self::AmbiguousDestination { .. }
            | Self::NetworkUnknown { .. }
            | Self::DestinationInsideCluster { .. }
            | Self::NoClusters
            | Self::Json { .. } => None,
        }
    }

    /// Prefixes the field path with `prefix`, e.g. `clusters[2]`.
    pub(crate) fn within(mut self, prefix: &str) -> Self {
        match &mut self {
            Self::InvalidIp { field, .. }
            | Self::InvalidCidr { field, .. }
            | Self::HostBits { field, .. }
            | Self::CatchAll { field, .. }
            | Self::NonGlobalEgress { field, .. }
            | Self::DuplicateEgressFamily { field, .. }
            | Self::InvalidAssignment { field, .. }
            | Self::Missing { field }
            | Self::DuplicatePublicIpPool { field, .. }
            | Self::UnknownField { field, .. } => *field = format!("{prefix}.{field}"),
            Self::InvalidValue { field, .. } if field.is_empty() => *field = prefix.to_owned(),
            Self::InvalidValue { field, .. } => *field = format!("{prefix}.{field}"),
            Self::DuplicateCluster { .. }
            | Self::UnknownCluster { .. }
            | Self::AmbiguousCluster { .. }
            | Self::ClusterLeftOut { .. }
            | Self::AmbiguousDestination { .. }
            | Self::NetworkUnknown { .. }
            | Self::DestinationInsideCluster { .. }
            | Self::NoClusters
            | Self::Json { .. } => {}
        }
        self
    }
}

/// A line of an allowlist that is not an IP address or a CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AllowlistError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl AllowlistError {
    /// The 1-based line number (the 1-based position for an allowlist read
    /// from a JSON list).
    #[must_use]
    pub const fn line(&self) -> usize {
        self.line
    }

    /// What is wrong with the line, without the line number.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A string that is not the name of a value of one of the crate's named
/// enums: [`IpClass`](crate::IpClass), [`Severity`](crate::Severity),
/// [`FindingKind`](crate::FindingKind), [`AssignmentKind`](crate::AssignmentKind),
/// [`ChangeKind`](crate::ChangeKind), and the named enums of the network
/// modules (`EgressStatus`, `EvidenceKind`, `IpFamily`, `WarningKind`...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("unknown {what} {value:?}{}", known_names(self.known))]
pub struct ParseNameError {
    what: &'static str,
    value: String,
    known: &'static [&'static str],
}

fn known_names(known: &[&str]) -> String {
    if known.is_empty() { String::new() } else { format!(" (known: {})", known.join(", ")) }
}

impl ParseNameError {
    pub(crate) fn new(what: &'static str, value: &str) -> Self {
        Self { what, value: value.to_owned(), known: &[] }
    }

    /// Names the values that would have parsed, for the message.
    pub(crate) const fn known(mut self, known: &'static [&'static str]) -> Self {
        self.known = known;
        self
    }

    /// What was being parsed, e.g. `address class`.
    #[must_use]
    pub const fn what(&self) -> &'static str {
        self.what
    }

    /// The string as given.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}
