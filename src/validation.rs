//! How strictly a topology is checked.

/// How strictly a topology is checked when it is built or loaded.
///
/// Strict by default:
///
/// - an egress IP (or a node's public IP) must be global unicast, because the
///   internet never sees a private, loopback or documentation address as a
///   source. Labs and tests that simulate a cluster on such addresses opt in
///   with [`allow_non_global`](Self::allow_non_global);
/// - a snapshot field the format does not know is an error naming the field
///   (and the known field it was probably meant to be), since a typo would
///   otherwise load as an empty topology. Readers of snapshots written by a
///   newer version opt in with [`allow_unknown_fields`](Self::allow_unknown_fields).
///
/// ```
/// use civo_egress::{Topology, TopologyError, Validation};
/// let json = r#"{"clusters": [{"name": "lab", "egress_ip": "203.0.113.10"}]}"#;
/// assert!(matches!(Topology::from_json(json), Err(TopologyError::NonGlobalEgress { .. })));
/// let lab = Topology::from_json_with(json, Validation::strict().allow_non_global(true))?;
/// assert_eq!(lab.clusters().len(), 1);
///
/// let newer = r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "colour": "blue"}]}"#;
/// assert!(matches!(Topology::from_json(newer), Err(TopologyError::UnknownField { .. })));
/// let read = Topology::from_json_with(newer, Validation::strict().allow_unknown_fields(true))?;
/// assert_eq!(read.clusters()[0].name(), "prod");
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct Validation {
    allow_non_global: bool,
    allow_unknown_fields: bool,
}

impl Validation {
    /// The default: egress addresses must be global unicast, unknown fields
    /// are errors.
    pub const fn strict() -> Self {
        Self { allow_non_global: false, allow_unknown_fields: false }
    }

    /// Accepts non-global egress addresses (private, CGNAT, documentation...)
    /// when `allow` is true. For labs and tests only.
    pub const fn allow_non_global(self, allow: bool) -> Self {
        Self { allow_non_global: allow, ..self }
    }

    /// Ignores snapshot fields the format does not know when `allow` is
    /// true, for forward compatibility with snapshots of newer versions.
    pub const fn allow_unknown_fields(self, allow: bool) -> Self {
        Self { allow_unknown_fields: allow, ..self }
    }

    /// Whether non-global egress addresses are accepted.
    #[must_use]
    pub const fn allows_non_global(self) -> bool {
        self.allow_non_global
    }

    /// Whether unknown snapshot fields are ignored.
    #[must_use]
    pub const fn allows_unknown_fields(self) -> bool {
        self.allow_unknown_fields
    }
}

/// Which addresses the resolver, the probe and the echo sources accept as
/// an observed egress IP, and which echo URLs they may ask: what
/// [`Validation`] is to a snapshot, this is to observations (a snapshot's
/// unknown fields mean nothing to an echo source).
///
/// By default ([`GlobalOnly`](Self::GlobalOnly)) an observed address must
/// be global unicast (a private, CGNAT, loopback or documentation answer
/// comes from a proxy, NAT or a liar, not from the egress), and an echo URL
/// must be HTTPS to a name or a global address (plain `http://` only to
/// loopback). Labs that simulate the internet on such addresses say
/// [`AllowNonGlobal`](Self::AllowNonGlobal).
///
/// ```
/// use civo_egress::AddressPolicy;
/// assert_eq!(AddressPolicy::default(), AddressPolicy::GlobalOnly);
/// assert!(AddressPolicy::AllowNonGlobal.allows_non_global());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressPolicy {
    /// Only global unicast addresses, and echo URLs on them (the default).
    #[default]
    GlobalOnly,
    /// Any address, and plain `http://` to any IP literal: for labs and
    /// tests only.
    AllowNonGlobal,
}

impl AddressPolicy {
    /// Whether non-global addresses are accepted.
    #[must_use]
    pub const fn allows_non_global(self) -> bool {
        matches!(self, Self::AllowNonGlobal)
    }
}
