//! One finding of an audit: what it is about, how much it matters, and why.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::class::IpClass;
use crate::error::ParseNameError;
use crate::names::{serde_by_name, serialized_names};

/// What a [`Finding`] is about. Its name ([`as_str`](Self::as_str)) is a
/// class name, `too-broad`, `broader-than-needed`, `ipv4-mapped`,
/// `missing-egress`, `missing-node`, `incomplete-egress`,
/// `unverified-egress` or `caveat`; `Display` and `FromStr` round-trip it.
///
/// ```
/// use civo_egress::{FindingKind, IpClass};
/// assert_eq!("pod".parse::<FindingKind>()?, FindingKind::Covers(IpClass::Pod));
/// assert_eq!(FindingKind::MissingEgress.to_string(), "missing-egress");
/// assert_eq!("incomplete-egress".parse::<FindingKind>()?, FindingKind::IncompleteEgress);
/// assert_eq!("broader-than-needed".parse::<FindingKind>()?, FindingKind::BroaderThanNeeded);
/// assert_eq!(FindingKind::Ipv4Mapped.to_string(), "ipv4-mapped");
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// The entry covers addresses of this class (never `egress`).
    Covers(IpClass),
    /// The entry is too broad to mean anything (`0.0.0.0/0`, `::/0`, a /8
    /// or wider, a whole RFC 1918 block, an IPv6 /16 or wider): one
    /// finding, whose reason names the classes it lets in. Severity
    /// `error`.
    TooBroad,
    /// The entry holds an address the allowlist must allow (an egress IP,
    /// or a node IP for a destination inside a cluster's network) and many
    /// others with it (a /24 around the egress IP): those are likely other
    /// tenants'. The finding's clusters are those of the addresses it is
    /// there for. Severity `warning`.
    BroaderThanNeeded,
    /// The entry is written IPv4-mapped (`::ffff:a.b.c.d/128`): only an
    /// application allowlist on a dual-stack socket matches it; nftables
    /// `ip6 saddr`, ip6tables and cloud security groups never match IPv4
    /// packets with it. The audit counts it as the IPv4 network it maps.
    /// Severity `warning`.
    Ipv4Mapped,
    /// An egress IP that no entry covers; the finding's entry is its CIDR.
    MissingEgress,
    /// For a destination inside a cluster's network
    /// ([`AuditBuilder::destination`](crate::AuditBuilder::destination)): a
    /// node private IP that no entry covers; the finding's entry is its
    /// CIDR.
    MissingNode,
    /// A cluster whose public-IP pools have nodes without a public IP yet:
    /// the allowlist cannot be judged complete. The finding's entry is the
    /// cluster's name; its reason names the pools and the count.
    IncompleteEgress,
    /// A cluster whose egress set is in doubt (left out of the snapshot,
    /// not ACTIVE, never measured: Cilium, Talos, a VLAN-connected
    /// network, IPv6 nodes...): the allowlist cannot be judged right. The
    /// entry is the cluster; the reason names the caveat's kind and says
    /// what to do. Severity `error`: an audit never says "ok" when the
    /// snapshot does not know.
    UnverifiedEgress,
    /// Something the snapshot records about a cluster that limits what
    /// the audit can see (LoadBalancers or reserved IPs the key could not
    /// list...). Severity `info`.
    Caveat,
}

/// Every name [`FindingKind::from_str`] reads: the class names, then the
/// kinds of their own.
const NAMES: &[&str] = &[
    "egress",
    "load-balancer",
    "reserved",
    "node",
    "node-network",
    "pod",
    "service",
    "special",
    "private",
    "public",
    "too-broad",
    "broader-than-needed",
    "ipv4-mapped",
    "missing-egress",
    "missing-node",
    "incomplete-egress",
    "unverified-egress",
    "caveat",
];

impl FindingKind {
    /// The serialized name: a class name, `too-broad`,
    /// `broader-than-needed`, `ipv4-mapped`, `missing-egress`,
    /// `missing-node`, `incomplete-egress`, `unverified-egress` or
    /// `caveat`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Covers(class) => class.as_str(),
            Self::TooBroad => "too-broad",
            Self::BroaderThanNeeded => "broader-than-needed",
            Self::Ipv4Mapped => "ipv4-mapped",
            Self::MissingEgress => "missing-egress",
            Self::MissingNode => "missing-node",
            Self::IncompleteEgress => "incomplete-egress",
            Self::UnverifiedEgress => "unverified-egress",
            Self::Caveat => "caveat",
        }
    }

    /// The severity findings of this kind have: `error` for what lets in
    /// the clusters' own addresses, misses one the list must allow, or
    /// cannot be judged; `warning` for an entry that works but lets in
    /// more, or less, than it seems; `info` for what is normal in a
    /// partner's list (unknown public addresses) or only limits what the
    /// audit sees.
    ///
    /// ```
    /// use civo_egress::{FindingKind, IpClass, Severity};
    /// assert_eq!(FindingKind::TooBroad.severity(), Severity::Error);
    /// assert_eq!(FindingKind::BroaderThanNeeded.severity(), Severity::Warning);
    /// assert_eq!(FindingKind::Covers(IpClass::Public).severity(), Severity::Info);
    /// ```
    #[must_use]
    pub const fn severity(self) -> Severity {
        match self {
            Self::Covers(IpClass::Public) | Self::Caveat => Severity::Info,
            Self::BroaderThanNeeded | Self::Ipv4Mapped => Severity::Warning,
            Self::Covers(_)
            | Self::TooBroad
            | Self::MissingEgress
            | Self::MissingNode
            | Self::IncompleteEgress
            | Self::UnverifiedEgress => Severity::Error,
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FindingKind {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "too-broad" => Ok(Self::TooBroad),
            "broader-than-needed" => Ok(Self::BroaderThanNeeded),
            "ipv4-mapped" => Ok(Self::Ipv4Mapped),
            "missing-egress" => Ok(Self::MissingEgress),
            "missing-node" => Ok(Self::MissingNode),
            "incomplete-egress" => Ok(Self::IncompleteEgress),
            "unverified-egress" => Ok(Self::UnverifiedEgress),
            "caveat" => Ok(Self::Caveat),
            class => class.parse().map(Self::Covers).map_err(|_| ParseNameError::new("finding kind", s).known(NAMES)),
        }
    }
}

serde_by_name!(FindingKind);

/// How much a finding matters: `error`, `warning` or `info` (its stable
/// name, which `Display` writes and `FromStr` reads). Only an error fails
/// an audit ([`AuditReport::is_ok`](crate::AuditReport::is_ok)).
///
/// ```
/// use civo_egress::Severity;
/// assert_eq!("error".parse::<Severity>()?, Severity::Error);
/// assert_eq!(Severity::Warning.to_string(), "warning");
/// assert_eq!(Severity::Info.to_string(), "info");
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// The allowlist is wrong: it lets in what it should not, misses an
    /// egress IP, or cannot be judged.
    Error,
    /// The allowlist works, but an entry lets in more than it is there for
    /// (likely other tenants' addresses), or is written in a form most
    /// firewalls do not match.
    Warning,
    /// Worth knowing, normal in a partner's list (unknown public addresses).
    Info,
}

serialized_names!(pub Severity, "severity", { Error => "error", Warning => "warning", Info => "info" });
serde_by_name!(Severity);

/// One problem with one allowlist entry (or one missing egress IP, or one
/// cluster the audit cannot judge).
///
/// Serializes as `{"entry", "line", "kind", "severity", "clusters",
/// "reason"}`, where `line` is the entry's 1-based line in the allowlist,
/// or `null` (see [`line`](Self::line)); an absent `line` reads as `null`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub(super) entry: String,
    #[serde(default)]
    pub(super) line: Option<usize>,
    pub(super) kind: FindingKind,
    pub(super) severity: Severity,
    /// Shared with the index: a pod finding names every K3s cluster, and
    /// 10k of them must not copy 200 names each.
    #[serde(with = "shared_names")]
    pub(super) clusters: Arc<[String]>,
    pub(super) reason: Cow<'static, str>,
}

mod shared_names {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(names: &Arc<[String]>, serializer: S) -> Result<S::Ok, S::Error> {
        names[..].serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<[String]>, D::Error> {
        Vec::<String>::deserialize(deserializer).map(Arc::from)
    }
}

impl Finding {
    /// A finding of `kind`, with the severity the kind has.
    pub(super) fn new(
        entry: impl Into<String>,
        line: Option<usize>,
        kind: FindingKind,
        clusters: Arc<[String]>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self { entry: entry.into(), line, kind, severity: kind.severity(), clusters, reason: reason.into() }
    }

    /// The allowlist entry as written, the missing egress CIDR, or the
    /// cluster a cluster's finding is about.
    #[must_use]
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// The 1-based line of the allowlist entry the finding is about, as
    /// [`AllowlistEntry::line`](crate::AllowlistEntry::line) gives it.
    /// `None` for a finding about no line (`missing-egress`,
    /// `missing-node`, `incomplete-egress`...), and for an entry that came
    /// from no text (built from CIDRs, line 0).
    ///
    /// ```
    /// use civo_egress::{Allowlist, Audit, FindingKind, Topology};
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let report = Audit::builder(&topology).build()?.run(&"# partner\n\n10.42.0.0/16\n".parse::<Allowlist>()?);
    /// let lines: Vec<_> = report.findings().iter().map(|f| (f.kind(), f.line())).collect();
    /// assert_eq!(lines, [(FindingKind::Covers(civo_egress::IpClass::Pod), Some(3)), (FindingKind::MissingEgress, None)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn line(&self) -> Option<usize> {
        self.line
    }

    /// What the finding is about.
    #[must_use]
    pub const fn kind(&self) -> FindingKind {
        self.kind
    }

    /// How much it matters.
    #[must_use]
    pub const fn severity(&self) -> Severity {
        self.severity
    }

    /// The clusters concerned.
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// What is wrong and what to do.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Finding({} {} {} {:?})", self.severity, self.entry, self.kind, &self.clusters[..])
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}: {}", self.severity, self.entry, self.kind, self.reason)
    }
}
