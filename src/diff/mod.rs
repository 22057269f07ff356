//! Comparing two snapshots: what changed, whether egress drifted, and what
//! could not be compared.
//!
//! The files: `change.rs` ([`Change`], [`ChangeKind`] and the sentences a
//! partner reads), `pairing.rs` (which clusters are compared, added,
//! removed or not compared), `identity.rs` (who a cluster is across
//! snapshots, and what a snapshot covers: its recorded selection, or its
//! regions), `cluster.rs` (the changes within one cluster).

mod change;
mod cluster;
mod identity;
#[cfg(feature = "watch")]
pub(crate) use identity::{Identity, Scope};
mod pairing;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::node::{LoadBalancer, ReservedIp};
use crate::topology::Topology;
use crate::warning::{Warning, WarningKind};

pub use change::{Change, ChangeKind};

/// The differences between two snapshots, on what both cover, and what
/// one covers and the other does not.
///
/// Serializes as `{"drift": bool, "complete": bool, "changes": [...],
/// "warnings": [...]}` (`drift` and `complete` are derived, not read back).
/// Its `Display` is the text a partner reads: one line per change, one per
/// cluster not compared (`not compared: cluster ...`), and what to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "DiffShape", into = "DiffShape")]
pub struct TopologyDiff {
    changes: Vec<Change>,
    warnings: Vec<Warning>,
}

#[derive(Serialize, Deserialize)]
struct DiffShape {
    #[serde(default)]
    drift: bool,
    #[serde(default)]
    complete: bool,
    changes: Vec<Change>,
    #[serde(default)]
    warnings: Vec<Warning>,
}

impl From<DiffShape> for TopologyDiff {
    fn from(shape: DiffShape) -> Self {
        Self { changes: shape.changes, warnings: shape.warnings }
    }
}

impl From<TopologyDiff> for DiffShape {
    fn from(diff: TopologyDiff) -> Self {
        Self {
            drift: diff.has_egress_drift(),
            complete: diff.is_complete(),
            changes: diff.changes,
            warnings: diff.warnings,
        }
    }
}

impl TopologyDiff {
    /// The changes: clusters, then within each cluster both snapshots
    /// hold its egress IPs, public-IP pools and caveats, then
    /// LoadBalancers, then reserved IPs.
    #[must_use]
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// What one snapshot covers and the other does not, each a
    /// [`WarningKind::NotCompared`] warning: a cluster one of them left out
    /// ([`Topology::left_out`]) or that lies outside what the other covers
    /// (its regions, or the clusters it was made for:
    /// [`Topology::coverage`]), and the LoadBalancers outside clusters and
    /// reserved IPs of snapshots of different regions. Nothing is said of them: neither
    /// removed nor unchanged.
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Whether nothing changed in what both snapshots cover (see
    /// [`is_complete`](Self::is_complete) for the rest).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether both snapshots cover the same clusters (no
    /// [`warnings`](Self::warnings)): only then does "no drift" speak for
    /// every cluster of either.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.warnings.is_empty()
    }

    /// Whether a whitelist built from the older snapshot is now wrong, short
    /// or stale: see [`Change::is_egress_drift`].
    #[must_use]
    pub fn has_egress_drift(&self) -> bool {
        self.changes.iter().any(Change::is_egress_drift)
    }
}

/// The changes, one per line, the clusters not compared, and what the
/// partner should do: `no changes` when there is nothing to say.
impl fmt::Display for TopologyDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in &self.changes {
            writeln!(f, "{change}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "not compared: {warning}")?;
        }
        if self.has_egress_drift() {
            writeln!(
                f,
                "drift: a whitelist built from the older snapshot no longer matches: allow each new egress IP now; \
                 remove an old one only once the cluster no longer leaves from it"
            )?;
        }
        match (self.changes.is_empty(), self.warnings.len()) {
            (true, 0) => writeln!(f, "no changes"),
            (true, n) => writeln!(f, "no changes in what both snapshots cover; {n} thing(s) not compared (above)"),
            (false, 0) => Ok(()),
            (false, n) => writeln!(f, "compared on what both snapshots cover; {n} thing(s) not compared (above)"),
        }
    }
}

/// Compares two snapshots, on what both cover.
///
/// Clusters are matched by id when both sides have one (a renamed cluster
/// is the same cluster, and its LoadBalancers stay its own), else by name
/// and region. A cluster only one snapshot holds is added or removed only
/// when the other covers it: does not leave it out ([`Topology::left_out`])
/// and would hold it if it existed. A snapshot that recorded its selection
/// ([`Topology::coverage`], as discovery does) covers the regions it read
/// and, when it was made for some clusters (`discover --cluster`), those
/// only: named by id, name or `REGION/NAME`. One without covers the regions
/// of the clusters it holds or left out. Otherwise the cluster is not
/// compared, and said so in [`TopologyDiff::warnings`]: its egress IPs are
/// unknown, not gone.
///
/// ```
/// use civo_egress::{diff, Change, ChangeKind, Topology, WarningKind};
/// let old = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let new = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.160"}]}"#)?;
/// let d = diff(&old, &new);
/// assert!(d.has_egress_drift());
/// assert!(matches!(&d.changes()[0], Change::EgressChanged { cluster, .. } if cluster == "prod"));
///
/// let renamed = Topology::from_json(r#"{"clusters": [{"name": "production", "egress_ip": "212.2.253.151"}]}"#)?;
/// let kinds: Vec<ChangeKind> = diff(&old, &renamed).changes().iter().map(Change::kind).collect();
/// assert_eq!(kinds, [ChangeKind::ClusterRemoved, ChangeKind::ClusterAdded], "no id: matched by name");
///
/// // Left out of the newer snapshot: unknown, not removed.
/// let building = Topology::from_json(r#"{"clusters": [],
///   "left_out": [{"name": "prod", "kind": "not-active", "reason": "status BUILDING"}]}"#)?;
/// let d = diff(&old, &building);
/// assert!(d.changes().is_empty() && !d.has_egress_drift() && !d.is_complete());
/// assert_eq!(d.warnings()[0].kind(), WarningKind::NotCompared);
///
/// // Made with `discover --cluster prod`: the other clusters of LON1 are not compared.
/// let lon1 = Topology::from_json(r#"{"clusters": [
///   {"name": "prod", "region": "LON1", "egress_ip": "212.2.253.151"},
///   {"name": "staging", "region": "LON1", "egress_ip": "212.2.253.152"}]}"#)?;
/// let prod_only = Topology::from_json(r#"{"selection": {"clusters": ["prod"], "regions": ["LON1"]},
///   "clusters": [{"name": "prod", "region": "LON1", "egress_ip": "212.2.253.151"}]}"#)?;
/// let d = diff(&lon1, &prod_only);
/// assert!(d.changes().is_empty() && !d.has_egress_drift());
/// assert_eq!(d.warnings()[0].cluster(), Some("LON1/staging"));
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[must_use]
pub fn diff(old: &Topology, new: &Topology) -> TopologyDiff {
    let pairing = pairing::pair(old, new);
    let mut changes = Vec::new();
    for before in &pairing.removed {
        changes.push(Change::ClusterRemoved { cluster: before.name().to_owned(), egress_ips: before.egress_ips() });
    }
    for after in &pairing.added {
        changes.push(Change::ClusterAdded { cluster: after.name().to_owned(), egress_ips: after.egress_ips() });
    }
    for (before, after) in &pairing.both {
        if before.name() != after.name() {
            changes.push(Change::ClusterRenamed { old: before.name().to_owned(), new: after.name().to_owned() });
        }
        cluster::changes(before, after, &mut changes);
    }
    let mut warnings = pairing.not_compared.clone();
    load_balancers(old, new, &pairing, &mut changes);
    if pairing.same_regions {
        reserved_ips(old.reserved_ips(), new.reserved_ips(), &mut changes);
    } else if [old, new].iter().any(|t| !t.load_balancers().is_empty() || !t.reserved_ips().is_empty()) {
        warnings.push(Warning::new(
            WarningKind::NotCompared,
            "the snapshots cover different regions: their LoadBalancers outside clusters and reserved IPs, which a \
             snapshot does not place in a region, are not compared",
        ));
    }
    TopologyDiff { changes, warnings }
}

/// The LoadBalancers of the clusters compared, added and removed, then
/// those outside clusters when both snapshots cover the same regions (less
/// those of clusters not compared, which discovery keeps outside any
/// cluster when it leaves the cluster out): removals first.
fn load_balancers(old: &Topology, new: &Topology, pairing: &pairing::Pairing<'_>, changes: &mut Vec<Change>) {
    let same = |a: &LoadBalancer, b: &LoadBalancer| a.name() == b.name() && a.public_ip() == b.public_ip();
    let missing = |list: &[LoadBalancer], lb: &LoadBalancer| !list.iter().any(|l| same(l, lb));
    let unknown = |lb: &LoadBalancer| pairing.unknown_lbs.iter().any(|l| same(l, lb));
    let (old_alone, new_alone): (&[LoadBalancer], &[LoadBalancer]) =
        if pairing.same_regions { (old.load_balancers(), new.load_balancers()) } else { (&[], &[]) };
    let mut removed: Vec<(Option<&str>, &LoadBalancer)> = Vec::new();
    let mut added: Vec<(Option<&str>, &LoadBalancer)> = Vec::new();
    for (before, after) in &pairing.both {
        let name = Some(after.name());
        removed.extend(
            before.load_balancers().iter().filter(|lb| missing(after.load_balancers(), lb)).map(|lb| (name, lb)),
        );
        added.extend(
            after.load_balancers().iter().filter(|lb| missing(before.load_balancers(), lb)).map(|lb| (name, lb)),
        );
    }
    // Removals first: the removed clusters' LoadBalancers, the compared
    // clusters', those outside clusters; then additions likewise.
    let mut gone: Vec<(Option<&str>, &LoadBalancer)> =
        pairing.removed.iter().flat_map(|c| c.load_balancers().iter().map(move |lb| (Some(c.name()), lb))).collect();
    gone.append(&mut removed);
    gone.extend(old_alone.iter().filter(|lb| missing(new_alone, lb) && !unknown(lb)).map(|lb| (None, lb)));
    for (cluster, lb) in gone {
        changes.push(Change::LoadBalancerRemoved {
            cluster: cluster.map(str::to_owned),
            name: lb.name().to_owned(),
            ip: lb.public_ip(),
        });
    }
    let mut came: Vec<(Option<&str>, &LoadBalancer)> =
        pairing.added.iter().flat_map(|c| c.load_balancers().iter().map(move |lb| (Some(c.name()), lb))).collect();
    came.append(&mut added);
    came.extend(new_alone.iter().filter(|lb| missing(old_alone, lb) && !unknown(lb)).map(|lb| (None, lb)));
    for (cluster, lb) in came {
        changes.push(Change::LoadBalancerAdded {
            cluster: cluster.map(str::to_owned),
            name: lb.name().to_owned(),
            ip: lb.public_ip(),
        });
    }
}

fn reserved_ips(old: &[ReservedIp], new: &[ReservedIp], changes: &mut Vec<Change>) {
    let same = |a: &ReservedIp, b: &ReservedIp| a.name() == b.name() && a.ip() == b.ip();
    for r in old.iter().filter(|r| !new.iter().any(|n| same(n, r))) {
        changes.push(Change::ReservedIpRemoved { name: r.name().to_owned(), ip: r.ip() });
    }
    for r in new.iter().filter(|r| !old.iter().any(|o| same(o, r))) {
        changes.push(Change::ReservedIpAdded { name: r.name().to_owned(), ip: r.ip() });
    }
}
