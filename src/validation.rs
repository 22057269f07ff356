//! How strictly a topology is checked.

/// How strictly egress addresses are checked when a topology is built or
/// loaded.
///
/// Strict by default: an egress IP (or a node's public IP) must be global
/// unicast, because the internet never sees a private, loopback or
/// documentation address as a source. Labs and tests that simulate a cluster
/// on such addresses opt in with [`allow_non_global`](Self::allow_non_global).
///
/// ```
/// use civo_egress::{Topology, Validation};
/// let json = r#"{"clusters": [{"name": "lab", "egress_ip": "203.0.113.10"}]}"#;
/// assert!(Topology::from_json(json).is_err());
/// let lab = Topology::from_json_with(json, Validation::strict().allow_non_global(true))?;
/// assert_eq!(lab.clusters().len(), 1);
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct Validation {
    allow_non_global: bool,
}

impl Validation {
    /// The default: egress addresses must be global unicast.
    pub const fn strict() -> Self {
        Self { allow_non_global: false }
    }

    /// Accepts non-global egress addresses (private, CGNAT, documentation...)
    /// when `allow` is true. For labs and tests only.
    pub const fn allow_non_global(self, allow: bool) -> Self {
        Self { allow_non_global: allow }
    }

    /// Whether non-global egress addresses are accepted.
    #[must_use]
    pub const fn allows_non_global(self) -> bool {
        self.allow_non_global
    }
}
