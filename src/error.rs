//! Errors of the pure core.

/// A topology that failed validation: the field, the value and what is wrong.
///
/// Fields are named by their path in the snapshot JSON, for example
/// `clusters[0].egress_ip`, so that a person can find the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The value is not an IP address (a placeholder such as
    /// `"your.cluster.ip.address"`, a typo, a CIDR where an address belongs).
    #[error("{field}: invalid IP address {value:?}")]
    InvalidIp {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// The value is not a CIDR such as `10.42.0.0/16`.
    #[error("{field}: invalid CIDR {value:?}")]
    InvalidCidr {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// The CIDR has bits set after its prefix, which usually means a typo.
    #[error("{field}: CIDR {value} has host bits set (did you mean {network}?)")]
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
    CatchAll {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// An egress IP that the internet never sees as a source (private,
    /// loopback, documentation...), rejected unless the caller opted in.
    #[error("{field}: egress IP {value} is not a global unicast address: {why}")]
    NonGlobalEgress {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
        /// What the address is instead.
        why: String,
    },
    /// A reserved IP assigned to something other than an instance or a
    /// LoadBalancer.
    #[error("{field}: unknown assignment type {value:?} (expected \"loadbalancer\" or \"instance\")")]
    InvalidAssignment {
        /// Path of the field.
        field: String,
        /// The value as given.
        value: String,
    },
    /// A required field is missing or empty.
    #[error("{field}: missing or empty")]
    Missing {
        /// Path of the field.
        field: String,
    },
    /// Two clusters carry the same name.
    #[error("duplicate cluster name {name:?}")]
    DuplicateCluster {
        /// The repeated name.
        name: String,
    },
    /// A cluster named by the caller is not in the topology.
    #[error("no cluster named {name:?} in the topology")]
    UnknownCluster {
        /// The name asked for.
        name: String,
    },
    /// The snapshot is not well-formed JSON of the expected shape.
    #[error("invalid topology JSON at line {line}, column {column}: {message}")]
    Json {
        /// What serde_json reported.
        message: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
    },
}

impl TopologyError {
    /// Prefixes the field path with `prefix`, e.g. `clusters[2]`.
    pub(crate) fn within(self, prefix: &str) -> Self {
        let join = |field: String| format!("{prefix}.{field}");
        match self {
            Self::InvalidIp { field, value } => Self::InvalidIp { field: join(field), value },
            Self::InvalidCidr { field, value } => Self::InvalidCidr { field: join(field), value },
            Self::HostBits { field, value, network } => Self::HostBits { field: join(field), value, network },
            Self::CatchAll { field, value } => Self::CatchAll { field: join(field), value },
            Self::NonGlobalEgress { field, value, why } => Self::NonGlobalEgress { field: join(field), value, why },
            Self::InvalidAssignment { field, value } => Self::InvalidAssignment { field: join(field), value },
            Self::Missing { field } => Self::Missing { field: join(field) },
            other => other,
        }
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
    /// The 1-based line number.
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
