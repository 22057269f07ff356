//! Auditing an allowlist against a topology: [`Audit::builder`] chooses
//! the clusters and the destination, [`Audit::run`] judges an allowlist.
//!
//! `finding.rs` holds what one finding is, `report.rs` what an audit
//! returns, `rules.rs` the pure rules that judge one entry by itself; this
//! file asks the topology and puts them together.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::allowlist::{Allowlist, AllowlistEntry};
use crate::class::IpClass;
use crate::classify::Reason;
use crate::cluster::Cluster;
use crate::error::TopologyError;
use crate::topology::Topology;
use crate::warning::{Warning, WarningKind};
use crate::whitelist::Whitelist;

mod finding;
mod report;
mod rules;
#[cfg(test)]
mod tests;

pub use finding::{Finding, FindingKind, Severity};
pub use report::{AuditDisplay, AuditReport};
use rules::{EntryFacts, Wanted};

/// An audit ready to judge allowlists: what they must allow, for the
/// clusters and the destination chosen by [`Audit::builder`].
///
/// [`run`](Self::run) finds entries that let in pod, service, node,
/// node-network, LoadBalancer, reserved, special or private addresses
/// (`error`); entries too broad to mean anything (`too-broad`, one
/// `error`); entries around an egress IP that let in many other addresses
/// (`broader-than-needed`, a `warning`); entries written IPv4-mapped, which
/// firewalls do not match (`ipv4-mapped`, a `warning`); unknown public
/// entries (`info`); every egress IP the list fails to cover
/// (`missing-egress`); and every audited cluster whose egress set is
/// incomplete or in doubt (`incomplete-egress`, `unverified-egress`: an
/// audit never says "ok" when the snapshot does not know).
///
/// ```
/// use civo_egress::{Allowlist, Audit, FindingKind, IpClass, Topology, Whitelist};
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let audit = Audit::builder(&topology).build()?;
/// let report = audit.run(&"10.42.0.0/16\n".parse::<Allowlist>()?);
/// assert!(!report.is_ok());
/// let kinds: Vec<_> = report.findings().iter().map(|f| f.kind()).collect();
/// assert_eq!(kinds, [FindingKind::Covers(IpClass::Pod), FindingKind::MissingEgress]);
/// assert!(audit.run(&Allowlist::from(&Whitelist::of(&topology)?)).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Audit<'t> {
    topology: &'t Topology,
    whitelist: Whitelist,
    clusters: Vec<String>,
    wanted: Wanted,
    /// The clusters (by name, as answers name them) whose node IPs the
    /// allowlist must allow: covering them is no finding.
    allowed_nodes: Vec<String>,
}

/// Chooses the clusters, the destination and whether an empty selection
/// is an error, then [`build`](Self::build)s the [`Audit`]; made by
/// [`Audit::builder`]. It chooses as [`WhitelistBuilder`](crate::WhitelistBuilder)
/// does: the audit judges an allowlist against that whitelist.
///
/// ```
/// use civo_egress::{Allowlist, Audit, Topology};
/// let topology = Topology::from_json(r#"{"clusters": [
///   {"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10"},
///   {"name": "staging", "region": "LON1", "egress_ip": "74.220.26.44"}]}"#)?;
/// let partner: Allowlist = "74.220.24.10  # prod calls this partner\n".parse()?;
/// // For every cluster, staging's egress IP is missing:
/// assert!(!Audit::builder(&topology).build()?.run(&partner).is_ok());
/// // For the cluster the partner serves, the list is right:
/// let report = Audit::builder(&topology).cluster("prod").build()?.run(&partner);
/// assert!(report.is_ok(), "{:?}", report.findings());
/// assert_eq!(report.clusters(), ["LON1/prod"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AuditBuilder<'t> {
    topology: &'t Topology,
    clusters: Option<Vec<String>>,
    destination: Option<IpAddr>,
    allow_empty: bool,
}

impl<'t> AuditBuilder<'t> {
    /// Adds one cluster to the audit: its id, `REGION/NAME` or a name no
    /// other cluster carries, as [`Topology::select`] takes it (default:
    /// every cluster). Only the selected clusters' egress IPs must be
    /// allowed, and only their caveats can fail the audit; an entry that
    /// lets in another cluster's pods, nodes or LoadBalancers is still an
    /// error.
    pub fn cluster(mut self, name: impl Into<String>) -> Self {
        self.clusters.get_or_insert_with(Vec::new).push(name.into());
        self
    }

    /// Adds these clusters, as [`cluster`](Self::cluster) does each (default:
    /// every cluster). An empty list still makes an explicit, empty
    /// selection.
    pub fn clusters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clusters.get_or_insert_with(Vec::new).extend(names.into_iter().map(Into::into));
        self
    }

    /// The address whose allowlist this is (default: a destination outside
    /// every cluster network, such as a partner on the internet): what it
    /// must allow is what
    /// [`WhitelistBuilder::destination`](crate::WhitelistBuilder::destination)
    /// lists. For a destination inside a cluster's network (a Civo database
    /// on the same private network), that is the cluster's node private
    /// IPs: each one the list misses is a `missing-node` finding, and an
    /// entry covering them is no error (entries covering the network's
    /// other addresses still are).
    ///
    /// ```
    /// use civo_egress::{Allowlist, Audit, FindingKind, Topology};
    /// let topology = Topology::from_json(r#"{"clusters": [{
    ///   "name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
    ///   "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}, {"name": "w-2", "private_ip": "192.168.1.5"}]}]}"#)?;
    /// let database = Audit::builder(&topology).destination("192.168.1.50".parse::<std::net::IpAddr>()?).build()?;
    /// let report = database.run(&"192.168.1.4\n".parse::<Allowlist>()?);
    /// let kinds: Vec<_> = report.findings().iter().map(|f| (f.kind(), f.entry())).collect();
    /// assert_eq!(kinds, [(FindingKind::MissingNode, "192.168.1.5/32")]);
    /// assert!(database.run(&"192.168.1.4\n192.168.1.5\n".parse::<Allowlist>()?).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn destination(mut self, destination: impl Into<IpAddr>) -> Self {
        self.destination = Some(destination.into());
        self
    }

    /// Whether an empty selection (a topology without clusters, or an
    /// empty list of names) audits against nothing rather than failing:
    /// the explicit opt-in for callers who expect that. Every entry is then
    /// judged by the IANA tables alone, and no egress IP can be missing.
    ///
    /// ```
    /// use civo_egress::{Allowlist, Audit, Topology, TopologyError};
    /// let list: Allowlist = "10.0.0.0/8\n".parse()?;
    /// let empty = Topology::empty();
    /// assert!(matches!(Audit::builder(&empty).build(), Err(TopologyError::NoClusters)));
    /// assert!(!Audit::builder(&empty).allow_empty(true).build()?.run(&list).is_ok(), "still too broad");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allow_empty(mut self, allow: bool) -> Self {
        self.allow_empty = allow;
        self
    }

    /// Resolves the selection and computes what the allowlists must allow.
    ///
    /// # Errors
    ///
    /// As [`WhitelistBuilder::build`](crate::WhitelistBuilder::build):
    /// [`TopologyError::UnknownCluster`], [`TopologyError::AmbiguousCluster`]
    /// or [`TopologyError::ClusterLeftOut`] for a name that selects no one
    /// cluster; [`TopologyError::NoClusters`] when the selection is empty
    /// (an allowlist cannot be right or wrong about nothing), unless
    /// [`allow_empty`](Self::allow_empty); and, for a
    /// [`destination`](Self::destination),
    /// [`TopologyError::DestinationInsideCluster`],
    /// [`TopologyError::AmbiguousDestination`] or
    /// [`TopologyError::NetworkUnknown`].
    pub fn build(self) -> Result<Audit<'t>, TopologyError> {
        let topology = self.topology;
        let mut whitelist = Whitelist::builder(topology).allow_empty(self.allow_empty);
        if let Some(names) = &self.clusters {
            whitelist = whitelist.clusters(names.iter().cloned());
        }
        if let Some(destination) = self.destination {
            whitelist = whitelist.destination(destination);
        }
        let whitelist = whitelist.build()?;
        let clusters = match &self.clusters {
            None => topology.clusters().iter().map(Cluster::label).collect(),
            Some(names) => {
                let mut labels: Vec<String> = Vec::with_capacity(names.len());
                for name in names {
                    let label = topology.select(name)?.label();
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
                labels
            }
        };
        // For a destination inside some clusters' networks, their node IPs
        // are what must be allowed. Warnings name clusters REGION/NAME;
        // answers name them by name.
        let follows: Vec<&Warning> =
            whitelist.warnings().iter().filter(|w| w.kind() == WarningKind::FollowsNodes).collect();
        let allowed_nodes = follows
            .iter()
            .filter_map(|w| w.cluster())
            .filter_map(|label| topology.clusters().iter().find(|c| c.label() == label))
            .map(|c| c.name().to_owned())
            .collect();
        let wanted = if follows.is_empty() { Wanted::Egress } else { Wanted::Nodes };
        Ok(Audit { topology, whitelist, clusters, wanted, allowed_nodes })
    }
}

impl<'t> Audit<'t> {
    /// Chooses the clusters and the destination: see [`AuditBuilder`].
    /// Without a choice, the audit is for every cluster of the topology and
    /// a destination outside every cluster network.
    pub fn builder(topology: &'t Topology) -> AuditBuilder<'t> {
        AuditBuilder { topology, clusters: None, destination: None, allow_empty: false }
    }

    /// The audited clusters, as `REGION/NAME` ([`Cluster::label`]).
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// What the allowlists must allow, with the warnings that say where
    /// that is not the whole story: the whitelist of the audited clusters
    /// for the destination.
    #[must_use]
    pub const fn whitelist(&self) -> &Whitelist {
        &self.whitelist
    }

    /// Judges `allowlist`: see [`Audit`].
    #[must_use]
    pub fn run(&self, allowlist: &Allowlist) -> AuditReport {
        let wanted = self.whitelist.entries();
        let mut findings = Vec::new();
        let mut inside = Vec::new();
        for entry in allowlist.entries() {
            let net = entry.net();
            let verdict = rules::judge(EntryFacts::of(entry.text(), net, wanted));
            if verdict.too_broad || verdict.classes {
                self.topology.index().within(net, &mut inside);
            }
            if verdict.too_broad {
                let mut classes: Vec<IpClass> =
                    inside.iter().map(|&(_, id)| self.topology.answer(id).class()).collect();
                classes.sort_unstable();
                classes.dedup();
                let reason = rules::too_broad_reason(net, &classes, self.wanted);
                findings.push(Finding::new(entry.text(), line_of(entry), FindingKind::TooBroad, Arc::from([]), reason));
            }
            if verdict.classes {
                self.covered(entry, &inside, verdict.public, &mut findings);
            }
            if verdict.broader || verdict.mapped {
                let held = rules::wanted_inside(net, wanted);
                let mut clusters: Vec<String> = Vec::new();
                for name in held.iter().flat_map(|e| e.clusters()) {
                    if !clusters.contains(name) {
                        clusters.push(name.clone());
                    }
                }
                let clusters: Arc<[String]> = clusters.into();
                if verdict.broader {
                    let reason = rules::broader_reason(net, held, self.wanted);
                    let kind = FindingKind::BroaderThanNeeded;
                    findings.push(Finding::new(entry.text(), line_of(entry), kind, Arc::clone(&clusters), reason));
                }
                if verdict.mapped {
                    let reason = rules::mapped_reason(entry.text(), net);
                    findings.push(Finding::new(
                        entry.text(),
                        line_of(entry),
                        FindingKind::Ipv4Mapped,
                        clusters,
                        reason,
                    ));
                }
            }
        }
        let allowed = rules::merged(allowlist.entries().iter().map(AllowlistEntry::net));
        for wanted in wanted.iter().filter(|w| !rules::covers(&allowed, w.cidr())) {
            findings.push(Finding::new(
                wanted.cidr().to_string(),
                None,
                self.wanted.missing(),
                wanted.clusters().into(),
                format!("no entry allows {} {}: {}", self.wanted.what(), wanted.ip(), wanted.reason()),
            ));
        }
        findings.extend(self.whitelist.warnings().iter().filter_map(about_cluster));
        AuditReport { clusters: self.clusters.clone(), findings }
    }

    /// One finding per class (other than egress, node addresses of the
    /// clusters whose nodes are wanted, and public when `public` is false)
    /// among the answers `inside` an entry, sorted by class.
    fn covered(&self, entry: &AllowlistEntry, inside: &[(IpAddr, u32)], public: bool, findings: &mut Vec<Finding>) {
        let first = findings.len();
        for &(example, id) in inside {
            let answer = self.topology.answer(id);
            let (class, clusters) = (answer.class(), answer.clusters());
            if class == IpClass::Egress || (class == IpClass::Public && !public) {
                continue;
            }
            if class == IpClass::Node && clusters.iter().any(|c| self.allowed_nodes.contains(c)) {
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
            let reason = match class {
                // Normal in a partner's list: one shared sentence, no allocation.
                IpClass::Public => Cow::Borrowed(PUBLIC_REASON),
                class => Cow::Owned(format!("covers {class} address {example}: {}", Reason::new(answer))),
            };
            findings.push(Finding::new(entry.text(), line_of(entry), kind, answer.cluster_list(), reason));
        }
        findings[first..].sort_by_key(|f| f.kind);
    }
}

/// The finding a whitelist's warning about a cluster makes, if any.
fn about_cluster(warning: &Warning) -> Option<Finding> {
    let cluster = warning.cluster().unwrap_or("the account");
    let (kind, reason) = match warning.kind() {
        WarningKind::Incomplete => (
            FindingKind::IncompleteEgress,
            format!(
                "the allowlist cannot be judged complete: the egress set of cluster {cluster} is {}",
                warning.message()
            ),
        ),
        // Said by `incomplete` above, from the same pools.
        WarningKind::PublicIpPending | WarningKind::GrowsWithPool | WarningKind::FollowsNodes => return None,
        k if k.doubts_egress() => (
            FindingKind::UnverifiedEgress,
            format!("the allowlist cannot be judged right: cluster {cluster}: {k}: {}", warning.message()),
        ),
        k @ (WarningKind::LoadBalancersUnknown | WarningKind::ReservedIpsUnknown | WarningKind::NetworksUnknown) => {
            (FindingKind::Caveat, format!("cluster {cluster}: {k}: {}", warning.message()))
        }
        _ => return None,
    };
    let clusters = warning.cluster().map_or_else(|| Arc::from([]), |c| Arc::from([c.to_owned()]));
    Some(Finding::new(cluster, None, kind, clusters, reason))
}

impl fmt::Debug for Audit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audit")
            .field("clusters", &self.clusters)
            .field("whitelist", &self.whitelist)
            .finish_non_exhaustive()
    }
}

/// The entry's line, `None` for line 0 (an entry from no text).
fn line_of(entry: &AllowlistEntry) -> Option<usize> {
    Some(entry.line()).filter(|&line| line > 0)
}

const PUBLIC_REASON: &str = "covers public addresses unknown to this topology: normal for other callers, but none of these clusters leaves from them";
