//! [`LeftOut`]: a cluster discovery saw but could not describe, kept in the
//! snapshot so that its absence is never mistaken for "no such cluster".

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::TopologyError;
use crate::parse;
use crate::warning::{Warning, WarningKind};

/// A cluster the snapshot leaves out, and why: not ACTIVE without a
/// `master_ip`, deleted between the list and the fetch, a value that is no
/// address... Its egress IPs are unknown: a whitelist built from the
/// snapshot warns about it, and a diff does not call it removed.
///
/// Serializes as `{"name", "id"?, "region"?, "kind", "reason"}`, in the
/// snapshot's top-level `left_out` list.
///
/// ```
/// use civo_egress::{LeftOut, Topology, WarningKind};
/// let topology = Topology::from_json(r#"{"clusters": [],
///   "left_out": [{"name": "new", "region": "FRA1", "kind": "no-egress-ip", "reason": "status BUILDING, no master_ip yet"}]}"#)?;
/// let left: &LeftOut = &topology.left_out()[0];
/// assert_eq!((left.label().as_str(), left.kind()), ("FRA1/new", WarningKind::NoEgressIp));
/// assert_eq!(topology.warnings()[0].kind(), WarningKind::LeftOut);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Raw", into = "Raw")]
pub struct LeftOut {
    name: String,
    id: Option<String>,
    region: Option<String>,
    kind: WarningKind,
    reason: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    kind: Option<WarningKind>,
    reason: Option<String>,
}

impl TryFrom<Raw> for LeftOut {
    type Error = TopologyError;

    fn try_from(raw: Raw) -> Result<Self, TopologyError> {
        let name = parse::required("name", raw.name)?;
        let reason = parse::required("reason", raw.reason)?;
        let kind = raw.kind.ok_or_else(|| TopologyError::Missing { field: "kind".into() })?;
        Ok(Self::new(name, kind, reason)?.identified(raw.id, raw.region))
    }
}

impl From<LeftOut> for Raw {
    fn from(left: LeftOut) -> Self {
        Self {
            name: Some(left.name),
            id: left.id,
            region: left.region,
            kind: Some(left.kind),
            reason: Some(left.reason),
        }
    }
}

impl LeftOut {
    /// A cluster named `name`, left out for `reason` (a sentence), of
    /// `kind` (what discovery warned: `cluster-gone`, `no-egress-ip`,
    /// `invalid-value`...).
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] for a blank name or reason.
    pub fn new(name: impl Into<String>, kind: WarningKind, reason: impl Into<String>) -> Result<Self, TopologyError> {
        let name = parse::required("name", Some(name.into()))?;
        let reason = parse::required("reason", Some(reason.into()))?;
        Ok(Self { name, id: None, region: None, kind, reason })
    }

    /// The same, with the Civo id and region if known (blank ones are none).
    #[must_use]
    pub fn identified(mut self, id: Option<String>, region: Option<String>) -> Self {
        self.id = id.filter(|s| !s.trim().is_empty());
        self.region = region.filter(|s| !s.trim().is_empty());
        self
    }

    /// The cluster's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Civo cluster id, if known.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The region, if known.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// `REGION/NAME`, or the name alone.
    #[must_use]
    pub fn label(&self) -> String {
        crate::cluster::label(&self.name, self.region.as_deref())
    }

    /// What discovery warned about it.
    #[must_use]
    pub const fn kind(&self) -> WarningKind {
        self.kind
    }

    /// Why it was left out.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether `query` names it: its id, `REGION/NAME` or its name.
    pub(crate) fn answers_to(&self, query: &str) -> bool {
        crate::cluster::answers_to(query, &self.name, self.id.as_deref(), self.region.as_deref())
    }

    /// The `left-out` warning every command that reads the snapshot shows.
    pub(crate) fn warning(&self) -> Warning {
        Warning::new(
            WarningKind::LeftOut,
            format!(
                "left out of the snapshot ({}: {}): its egress IPs are unknown and in no whitelist built from it",
                self.kind, self.reason
            ),
        )
        .with_cluster(self.label())
    }
}

/// `REGION/NAME: reason`.
impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label(), self.reason)
    }
}
