//! Auditing an allowlist against a topology.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::allowlist::{Allowlist, AllowlistEntry};
use crate::class::IpClass;
use crate::classify::Reason;
use crate::error::{ParseNameError, TopologyError};
use crate::topology::Topology;
use crate::warning::{Warning, WarningKind};
use crate::whitelist::Whitelist;

/// What a [`Finding`] is about. Its name ([`as_str`](Self::as_str)) is a
/// class name, `too-broad`, `missing-egress`, `missing-node` or
/// `incomplete-egress`; `Display` and `FromStr` round-trip it.
///
/// ```
/// use civo_egress::{FindingKind, IpClass};
/// assert_eq!("pod".parse::<FindingKind>()?, FindingKind::Covers(IpClass::Pod));
/// assert_eq!(FindingKind::MissingEgress.to_string(), "missing-egress");
/// assert_eq!("incomplete-egress".parse::<FindingKind>()?, FindingKind::IncompleteEgress);
/// assert_eq!("missing-node".parse::<FindingKind>()?, FindingKind::MissingNode);
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// The entry covers addresses of this class (never `egress`).
    Covers(IpClass),
    /// The entry is too broad to mean anything (`0.0.0.0/0`, `::/0`, a whole
    /// RFC 1918 block or wider).
    TooBroad,
    /// An egress IP that no entry covers; the finding's entry is its CIDR.
    MissingEgress,
    /// For a destination inside a cluster's network ([`audit_for`]): a
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

impl FindingKind {
    /// The serialized name: a class name, `too-broad`, `missing-egress`,
    /// `missing-node` or `incomplete-egress`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Covers(class) => class.as_str(),
            Self::TooBroad => "too-broad",
            Self::MissingEgress => "missing-egress",
            Self::MissingNode => "missing-node",
            Self::IncompleteEgress => "incomplete-egress",
            Self::UnverifiedEgress => "unverified-egress",
            Self::Caveat => "caveat",
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
            "missing-egress" => Ok(Self::MissingEgress),
            "missing-node" => Ok(Self::MissingNode),
            "incomplete-egress" => Ok(Self::IncompleteEgress),
            "unverified-egress" => Ok(Self::UnverifiedEgress),
            "caveat" => Ok(Self::Caveat),
            class => class.parse().map(Self::Covers).map_err(|_| ParseNameError::new("finding kind", s)),
        }
    }
}

impl Serialize for FindingKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How much a finding matters: `error` or `info` (its stable name, which
/// `Display` writes and `FromStr` reads).
///
/// ```
/// use civo_egress::Severity;
/// assert_eq!("error".parse::<Severity>()?, Severity::Error);
/// assert_eq!(Severity::Info.to_string(), "info");
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The allowlist is wrong: it lets in what it should not, or misses an
    /// egress IP.
    Error,
    /// Worth knowing, normal in a partner's list (unknown public addresses).
    Info,
}

impl Severity {
    /// Every severity, the gravest first.
    pub const ALL: &'static [Self] = &[Self::Error, Self::Info];

    /// The stable name: `error` or `info`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| ParseNameError::new("severity", s))
    }
}

/// One problem with one allowlist entry (or one missing egress IP).
///
/// Serializes as `{"entry", "line", "kind", "severity", "clusters",
/// "reason"}`, where `line` is the entry's 1-based line in the allowlist,
/// or `null` (see [`line`](Self::line)); an absent `line` reads as `null`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    entry: String,
    #[serde(default)]
    line: Option<usize>,
    kind: FindingKind,
    severity: Severity,
    /// Shared with the index: a pod finding names every K3s cluster, and
    /// 10k of them must not copy 200 names each.
    #[serde(with = "shared_names")]
    clusters: Arc<[String]>,
    reason: Cow<'static, str>,
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
    /// The allowlist entry as written, or the missing egress CIDR.
    #[must_use]
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// The 1-based line of the allowlist entry the finding is about, as
    /// [`AllowlistEntry::line`](crate::AllowlistEntry::line) gives it.
    /// `None` for a finding about no line (`missing-egress`,
    /// `missing-node`, `incomplete-egress`), and for an entry that came
    /// from no text (built from CIDRs, line 0).
    ///
    /// ```
    /// use civo_egress::{audit, Allowlist, FindingKind, Topology};
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let report = audit(&topology, &"# partner\n\n10.42.0.0/16\n".parse::<Allowlist>()?)?;
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

/// The outcome of [`audit`]. Serializes as `{"ok": bool, "findings": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "ReportShape", into = "ReportShape")]
pub struct AuditReport {
    findings: Vec<Finding>,
}

#[derive(Serialize, Deserialize)]
struct ReportShape {
    #[serde(default)]
    ok: bool,
    findings: Vec<Finding>,
}

impl From<ReportShape> for AuditReport {
    fn from(shape: ReportShape) -> Self {
        // `ok` is derived from the findings, never trusted from input.
        Self { findings: shape.findings }
    }
}

impl From<AuditReport> for ReportShape {
    fn from(report: AuditReport) -> Self {
        Self { ok: report.is_ok(), findings: report.findings }
    }
}

impl AuditReport {
    /// True when no finding has severity [`Severity::Error`].
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }

    /// The findings: entries in file order, then missing egress (or node)
    /// IPs, then clusters whose egress set is incomplete.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The findings as a compiler writes its diagnostics, so that editors
    /// and CI annotations jump to the line: one line per finding,
    /// `PATH:LINE: SEVERITY: REASON`, or `PATH: SEVERITY: REASON` for a
    /// finding about no line ([`Finding::line`] is `None`). `path` is
    /// written as given.
    ///
    /// ```
    /// use civo_egress::{audit, Allowlist, Topology};
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let report = audit(&topology, &"# partner\n10.0.0.0/8\n".parse::<Allowlist>()?)?;
    /// let text = report.display_with_path("partner.txt").to_string();
    /// let mut lines = text.lines();
    /// assert!(lines.next().is_some_and(|l| l.starts_with("partner.txt:2: error: 10.0.0.0/8 is too broad")));
    /// assert!(lines.any(|l| l.starts_with("partner.txt: error: no entry allows egress IP 212.2.253.151")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn display_with_path<'a>(&'a self, path: &'a str) -> AuditDisplay<'a> {
        AuditDisplay { report: self, path }
    }
}

/// An [`AuditReport`] written like a compiler's diagnostics: made by
/// [`AuditReport::display_with_path`]. Its `Display` writes one line per
/// finding, each ending with a newline (nothing for a report without
/// findings).
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct AuditDisplay<'a> {
    report: &'a AuditReport,
    path: &'a str,
}

impl fmt::Display for AuditDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.report.findings {
            match finding.line {
                Some(line) => writeln!(f, "{}:{line}: {}: {}", self.path, finding.severity, finding.reason)?,
                None => writeln!(f, "{}: {}: {}", self.path, finding.severity, finding.reason)?,
            }
        }
        Ok(())
    }
}

const RFC1918: [Ipv4Net; 3] = [
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
];
const ULA: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7);

/// An entry is too broad when it is a /8 or wider (IPv4), a /16 or wider
/// (IPv6), or holds a whole private block.
fn is_too_broad(net: IpNet) -> bool {
    match net {
        IpNet::V4(n) => n.prefix_len() <= 8 || RFC1918.iter().any(|block| n.contains(block)),
        IpNet::V6(n) => n.prefix_len() <= 16 || n.contains(&ULA),
    }
}

/// Audits `allowlist` against `topology`: entries that let in pod, service,
/// node, node-network, LoadBalancer, reserved, special or private addresses,
/// entries too broad to mean anything, unknown public entries (as `info`),
/// every egress IP the list fails to cover (`missing-egress`), and every
/// cluster whose egress set is incomplete now (`incomplete-egress`: nodes of
/// a public-IP pool without a public IP yet, so no allowlist can be judged
/// complete). IPv4-mapped entries (`::ffff:10.0.0.0/104`) count as the IPv4
/// networks they map. For a destination outside every cluster network; see
/// [`audit_for`] for one inside.
///
/// ```
/// use civo_egress::{audit, Allowlist, FindingKind, IpClass, Topology, Whitelist};
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let report = audit(&topology, &"10.42.0.0/16\n".parse::<Allowlist>()?)?;
/// assert!(!report.is_ok());
/// let kinds: Vec<_> = report.findings().iter().map(|f| f.kind()).collect();
/// assert_eq!(kinds, [FindingKind::Covers(IpClass::Pod), FindingKind::MissingEgress]);
/// assert!(audit(&topology, &Allowlist::from(&Whitelist::of(&topology)?))?.is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`TopologyError::NoClusters`] when the topology has no cluster (an
/// allowlist cannot be right or wrong about nothing): see
/// [`audit_allowing_empty`].
pub fn audit(topology: &Topology, allowlist: &Allowlist) -> Result<AuditReport, TopologyError> {
    if topology.clusters().is_empty() {
        return Err(TopologyError::NoClusters);
    }
    Ok(audit_allowing_empty(topology, allowlist))
}

/// As [`audit`], but also for a topology without clusters: the explicit
/// opt-in for callers who expect that. Every entry is then judged by the
/// IANA tables alone, and no egress IP can be missing.
///
/// ```
/// use civo_egress::{audit, audit_allowing_empty, Allowlist, Topology, TopologyError};
/// let list: Allowlist = "10.0.0.0/8\n".parse()?;
/// assert_eq!(audit(&Topology::empty(), &list), Err(TopologyError::NoClusters));
/// assert!(!audit_allowing_empty(&Topology::empty(), &list).is_ok(), "still too broad");
/// # Ok::<(), civo_egress::AllowlistError>(())
/// ```
#[must_use]
pub fn audit_allowing_empty(topology: &Topology, allowlist: &Allowlist) -> AuditReport {
    run(topology, allowlist, &Whitelist::of_allowing_empty(topology))
}

/// As [`audit`], for the allowlist of `destination`: what it must allow is
/// what [`Whitelist::builder`]`(topology).destination(destination)` lists.
/// For a destination inside a cluster's network (a Civo database on the
/// same private network), that is the cluster's node private IPs: each one
/// the list misses is a `missing-node` finding, and an entry covering them
/// is no error (entries covering the network's other addresses still are).
/// For any other destination, the same as [`audit`].
///
/// ```
/// use civo_egress::{audit_for, Allowlist, FindingKind, Topology};
/// let topology = Topology::from_json(r#"{"clusters": [{
///   "name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
///   "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}, {"name": "w-2", "private_ip": "192.168.1.5"}]}]}"#)?;
/// let database = "192.168.1.50".parse::<std::net::IpAddr>()?;
/// let report = audit_for(&topology, &"192.168.1.4\n".parse::<Allowlist>()?, database)?;
/// let kinds: Vec<_> = report.findings().iter().map(|f| (f.kind(), f.entry())).collect();
/// assert_eq!(kinds, [(FindingKind::MissingNode, "192.168.1.5/32")]);
/// assert!(audit_for(&topology, &"192.168.1.4\n192.168.1.5\n".parse::<Allowlist>()?, database)?.is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`TopologyError::NoClusters`] when the topology has no cluster, and
/// [`TopologyError::DestinationInsideCluster`] for a destination in a
/// cluster's pod or service CIDR (see [`WhitelistBuilder::destination`](crate::WhitelistBuilder::destination)).
pub fn audit_for(
    topology: &Topology,
    allowlist: &Allowlist,
    destination: IpAddr,
) -> Result<AuditReport, TopologyError> {
    let wanted = Whitelist::builder(topology).destination(destination).build()?;
    Ok(run(topology, allowlist, &wanted))
}

/// The audit of `allowlist` against what it should allow, `wanted`.
fn run(topology: &Topology, allowlist: &Allowlist, wanted: &Whitelist) -> AuditReport {
    // For a destination inside some clusters' networks, their node IPs are
    // what must be allowed: covering them is no finding.
    let node_mode = wanted.warnings().iter().any(|w| w.kind() == WarningKind::FollowsNodes);
    let allowed_nodes: Vec<&str> = if node_mode {
        wanted
            .warnings()
            .iter()
            .filter(|w| w.kind() == WarningKind::FollowsNodes)
            .filter_map(Warning::cluster)
            // Warnings name clusters REGION/NAME; answers name them by name.
            .filter_map(|label| topology.clusters().iter().find(|c| c.label() == label))
            .map(crate::Cluster::name)
            .collect()
    } else {
        Vec::new()
    };
    let mut findings = Vec::new();
    let mut inside = Vec::new();
    for entry in allowlist.entries() {
        let net = entry.net();
        if is_too_broad(net) {
            findings.push(Finding {
                entry: entry.text().to_owned(),
                line: line_of(entry),
                kind: FindingKind::TooBroad,
                severity: Severity::Error,
                clusters: Arc::from([]),
                reason: format!("{net} is too broad to restrict anything: allow the egress IPs alone, as /32 or /128")
                    .into(),
            });
        }
        topology.index().within(net, &mut inside);
        covered(topology, entry, &inside, &allowed_nodes, &mut findings);
    }
    let allowed = merged(allowlist);
    let (kind, what) =
        if node_mode { (FindingKind::MissingNode, "node IP") } else { (FindingKind::MissingEgress, "egress IP") };
    for wanted in wanted.entries() {
        if !covers(&allowed, wanted.cidr()) {
            findings.push(Finding {
                entry: wanted.cidr().to_string(),
                line: None,
                kind,
                severity: Severity::Error,
                clusters: wanted.clusters().into(),
                reason: format!("no entry allows {what} {}: {}", wanted.ip(), wanted.reason()).into(),
            });
        }
    }
    for warning in wanted.warnings() {
        let cluster = warning.cluster().unwrap_or("the account");
        let (kind, severity, reason) = match warning.kind() {
            WarningKind::Incomplete => (
                FindingKind::IncompleteEgress,
                Severity::Error,
                format!(
                    "the allowlist cannot be judged complete: the egress set of cluster {cluster} is {}",
                    warning.message()
                ),
            ),
            // Said by `incomplete` above, from the same pools.
            WarningKind::PublicIpPending | WarningKind::GrowsWithPool | WarningKind::FollowsNodes => continue,
            k if k.doubts_egress() => (
                FindingKind::UnverifiedEgress,
                Severity::Error,
                format!("the allowlist cannot be judged right: cluster {cluster}: {k}: {}", warning.message()),
            ),
            k
            @ (WarningKind::LoadBalancersUnknown | WarningKind::ReservedIpsUnknown | WarningKind::NetworksUnknown) => {
                (FindingKind::Caveat, Severity::Info, format!("cluster {cluster}: {k}: {}", warning.message()))
            }
            _ => continue,
        };
        findings.push(Finding {
            entry: cluster.to_owned(),
            line: None,
            kind,
            severity,
            clusters: warning.cluster().map_or_else(|| Arc::from([]), |c| Arc::from([c.to_owned()])),
            reason: reason.into(),
        });
    }
    AuditReport { findings }
}

/// One finding per class (other than egress, and node addresses of the
/// clusters in `allowed_nodes`) among the answers `inside` an entry, sorted
/// by class.
fn covered(
    topology: &Topology,
    entry: &AllowlistEntry,
    inside: &[(IpAddr, u32)],
    allowed_nodes: &[&str],
    findings: &mut Vec<Finding>,
) {
    let first = findings.len();
    for &(example, id) in inside {
        let answer = topology.answer(id);
        let (class, clusters) = (answer.class(), answer.clusters());
        if class == IpClass::Egress {
            continue;
        }
        if class == IpClass::Node && clusters.iter().any(|c| allowed_nodes.contains(&c.as_str())) {
            continue;
        }
        let kind = FindingKind::Covers(class);
        if let Some(existing) = findings[first..].iter_mut().find(|f| f.kind == kind) {
            if clusters.iter().any(|c| !existing.clusters.contains(c)) {
                let missing = clusters.iter().filter(|c| !existing.clusters.contains(c));
                existing.clusters = existing.clusters.iter().chain(missing).cloned().collect();
            }
            continue;
        }
        let (severity, reason) = match class {
            // Normal in a partner's list: one shared sentence, no allocation.
            IpClass::Public => (Severity::Info, Cow::Borrowed(PUBLIC_REASON)),
            class => {
                (Severity::Error, Cow::Owned(format!("covers {class} address {example}: {}", Reason::new(answer))))
            }
        };
        findings.push(Finding {
            entry: entry.text().to_owned(),
            line: line_of(entry),
            kind,
            severity,
            clusters: answer.cluster_list(),
            reason,
        });
    }
    findings[first..].sort_by_key(|f| f.kind);
}

/// The entry's line, `None` for line 0 (an entry from no text).
fn line_of(entry: &AllowlistEntry) -> Option<usize> {
    Some(entry.line()).filter(|&line| line > 0)
}

const PUBLIC_REASON: &str = "covers public addresses unknown to this topology: normal for other callers, but none of these clusters leaves from them";

/// The allowlist as disjoint sorted networks.
fn merged(allowlist: &Allowlist) -> Vec<IpNet> {
    IpNet::aggregate(&allowlist.entries().iter().map(|e| e.net()).collect())
}

fn covers(allowed: &[IpNet], cidr: IpNet) -> bool {
    let pos = allowed.partition_point(|net| net.network() <= cidr.network());
    pos > 0 && allowed.get(pos - 1).is_some_and(|net| net.contains(&cidr))
}
