//! Who a cluster is across two snapshots, and what a snapshot covers.
//!
//! A snapshot made by discovery records the selection it was made with
//! ([`Coverage`]: the regions read, the clusters asked for); this is the one
//! place that reads it. What an older snapshot, written without it, covers
//! is read from what it holds: the regions of its clusters and of the
//! clusters it left out.

use std::collections::{HashMap, HashSet};

use crate::cluster::Cluster;
use crate::left_out::LeftOut;
use crate::snapshot::Coverage;
use crate::topology::Topology;

/// How a cluster, present or left out, is named in a snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity<'a> {
    name: &'a str,
    id: Option<&'a str>,
    region: Option<&'a str>,
}

impl<'a> Identity<'a> {
    pub(super) fn of(cluster: &'a Cluster) -> Self {
        Self { name: cluster.name(), id: cluster.id(), region: cluster.region() }
    }

    pub(super) fn left(left: &'a LeftOut) -> Self {
        Self { name: left.name(), id: left.id(), region: left.region() }
    }

    /// A cluster known by its parts (the watcher's, of a refresh before).
    #[cfg(feature = "watch")]
    pub(crate) const fn named(name: &'a str, id: Option<&'a str>, region: Option<&'a str>) -> Self {
        Self { name, id, region }
    }

    /// Whether `query`, as discovery was asked for a cluster, names this
    /// one exactly: its id, its name or `REGION/NAME` (names and regions in
    /// any case, as discovery matches them). A part of a name, which
    /// discovery also accepts, names nothing here: the cluster is then
    /// not compared rather than called removed.
    fn named_by(self, query: &str) -> bool {
        let query = query.trim();
        self.id == Some(query)
            || self.name.eq_ignore_ascii_case(query)
            || query.split_once('/').is_some_and(|(region, name)| {
                self.region.is_some_and(|own| own.eq_ignore_ascii_case(region)) && self.name.eq_ignore_ascii_case(name)
            })
    }

    /// One cluster in both snapshots: the same id when both have one, else
    /// the same name in the same region (names repeat across regions; an
    /// unknown region matches any, as snapshots written without regions
    /// do). The rule of `Topology::new`.
    fn same(self, other: Self) -> bool {
        match (self.id, other.id) {
            (Some(a), Some(b)) => a == b,
            _ => self.name == other.name && same_region(self.region, other.region),
        }
    }
}

/// Two regions that may be one: equal in any case, or one unknown.
fn same_region(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

/// The identities of one snapshot's clusters (or left-out records), looked
/// up by id and by name, so that pairing two snapshots is linear.
pub(super) struct Lookup<'a> {
    items: Vec<Identity<'a>>,
    by_id: HashMap<&'a str, Vec<usize>>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Lookup<'a> {
    pub(super) fn new(items: Vec<Identity<'a>>) -> Self {
        let (mut by_id, mut by_name) = (HashMap::<_, Vec<usize>>::new(), HashMap::<_, Vec<usize>>::new());
        for (i, item) in items.iter().enumerate() {
            if let Some(id) = item.id {
                by_id.entry(id).or_default().push(i);
            }
            by_name.entry(item.name).or_default().push(i);
        }
        Self { items, by_id, by_name }
    }

    /// The items that are `who`, those of its id first (a renamed cluster
    /// is matched by id before a namesake).
    pub(super) fn find(&self, who: Identity<'_>) -> impl Iterator<Item = usize> {
        let by_id = who.id.and_then(|id| self.by_id.get(id)).into_iter().flatten();
        // Those with an id of their own were found above, or are others.
        let by_name = self
            .by_name
            .get(who.name)
            .into_iter()
            .flatten()
            .filter(move |&&i| who.id.is_none() || self.items[i].id.is_none());
        by_id.chain(by_name).copied().filter(move |&i| self.items[i].same(who))
    }
}

/// What a snapshot covers: the selection it recorded, or, for one written
/// without it, the regions of its clusters and of the clusters it left out
/// (a cluster of unknown region then covers every region: the snapshot was
/// written without regions).
pub(crate) struct Scope<'a> {
    /// Upper-cased region codes, in first-seen order.
    codes: Vec<String>,
    any: bool,
    empty: bool,
    /// The recorded selection, if any.
    recorded: Option<&'a Coverage>,
}

/// Why a cluster is outside what a snapshot covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outside {
    /// Its region is not among the snapshot's.
    Region,
    /// The snapshot was made for other clusters.
    Cluster,
}

impl<'a> Scope<'a> {
    pub(crate) fn of(topology: &'a Topology) -> Self {
        let (mut codes, mut seen, mut any, mut empty) = (Vec::new(), HashSet::new(), false, true);
        let recorded = topology.coverage();
        let regions: Vec<Option<&str>> = match recorded {
            Some(coverage) => coverage.regions().iter().map(|r| Some(r.as_str())).collect(),
            None => topology
                .clusters()
                .iter()
                .map(Cluster::region)
                .chain(topology.left_out().iter().map(LeftOut::region))
                .collect(),
        };
        for region in regions {
            empty = false;
            match region {
                Some(code) if seen.insert(code.to_ascii_uppercase()) => codes.push(code.to_ascii_uppercase()),
                Some(_) => {}
                None => any = true,
            }
        }
        Self { codes, any, empty, recorded }
    }

    /// Why a cluster `who` would not be in the snapshot if it existed, or
    /// `None` when it would. With a recorded selection: its region is not
    /// among those read (an unknown region is not), or the snapshot was
    /// made for clusters that do not name it. Without: its region is not
    /// among those of what the snapshot holds (a snapshot made with
    /// `discover --cluster` before the selection was recorded leaves out
    /// the other clusters of its regions, and cannot say so).
    pub(crate) fn outside(&self, who: Identity<'_>) -> Option<Outside> {
        let in_region = match who.region {
            _ if self.any => true,
            None => !self.empty && self.recorded.is_none(),
            Some(code) => self.codes.iter().any(|c| c.eq_ignore_ascii_case(code)),
        };
        let named =
            self.recorded.is_none_or(|c| c.clusters().is_empty() || c.clusters().iter().any(|q| who.named_by(q)));
        match (in_region, named) {
            (false, _) => Some(Outside::Region),
            (true, false) => Some(Outside::Cluster),
            (true, true) => None,
        }
    }

    /// Whether both snapshots cover the same regions (as far as known: a
    /// snapshot without regions may be of any), so that what a snapshot
    /// does not place in a region (LoadBalancers outside clusters, reserved
    /// IPs) compares. A snapshot made for some clusters still holds every
    /// LoadBalancer outside clusters and reserved IP of its regions.
    pub(super) fn same_regions(&self, other: &Self) -> bool {
        if self.empty || other.empty {
            return self.empty == other.empty;
        }
        self.any
            || other.any
            || self.codes.len() == other.codes.len() && self.codes.iter().all(|c| other.codes.contains(c))
    }

    /// What the snapshot covers, after "which covers": `LON1, FRA1`, or
    /// what stands for none.
    pub(super) fn regions(&self) -> String {
        match (self.codes.as_slice(), self.any) {
            (_, true) => "clusters without a region".to_owned(),
            ([], false) if self.recorded.is_some() => "no region".to_owned(),
            ([], false) => "no cluster".to_owned(),
            (codes, false) => codes.join(", "),
        }
    }

    /// The clusters the snapshot was made for: `prod, LON1/api`.
    pub(super) fn clusters(&self) -> String {
        self.recorded.map(|c| c.clusters().join(", ")).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(clusters: &str, left_out: &str, selection: &str) -> Topology {
        let selection = if selection.is_empty() { String::new() } else { format!(r#""selection": {selection}, "#) };
        let json = format!(r#"{{{selection}"clusters": [{clusters}], "left_out": [{left_out}]}}"#);
        Topology::from_json(&json).unwrap()
    }

    fn who(name: &'static str, region: Option<&'static str>) -> Identity<'static> {
        Identity { name, id: Some("5e0c"), region }
    }

    const LON: &str = r#"{"name": "a", "region": "LON1", "egress_ip": "74.220.24.10"}"#;
    const FRA: &str = r#"{"name": "b", "region": "fra1", "egress_ip": "74.220.26.44"}"#;
    const NOWHERE: &str = r#"{"name": "c", "egress_ip": "74.220.24.30"}"#;
    const LEFT_FRA: &str = r#"{"name": "d", "region": "FRA1", "kind": "not-active", "reason": "BUILDING"}"#;

    #[test]
    fn what_a_snapshot_without_a_selection_covers() {
        let cases: &[(&str, &str, Option<&str>, bool)] = &[
            (LON, "", Some("LON1"), true),
            (LON, "", Some("lon1"), true),
            (LON, "", Some("FRA1"), false),
            (LON, "", None, true),
            (LON, LEFT_FRA, Some("FRA1"), true),
            (FRA, "", Some("FRA1"), true),
            (NOWHERE, "", Some("NYC1"), true),
            ("", "", None, false),
            ("", "", Some("LON1"), false),
            ("", LEFT_FRA, Some("FRA1"), true),
        ];
        for &(clusters, left_out, region, covered) in cases {
            let t = topology(clusters, left_out, "");
            let outside = Scope::of(&t).outside(Identity { name: "x", id: None, region });
            assert_eq!(outside.is_none(), covered, "{clusters} {left_out} {region:?}");
        }
    }

    #[test]
    fn what_a_snapshot_with_a_selection_covers() {
        let region = Some(Outside::Region);
        let cluster = Some(Outside::Cluster);
        // (selection, who, why outside)
        let cases: &[(&str, Identity<'_>, Option<Outside>)] = &[
            (r#"{"regions": ["LON1"]}"#, who("prod", Some("LON1")), None),
            (r#"{"regions": ["lon1"]}"#, who("prod", Some("LON1")), None),
            (r#"{"regions": ["LON1"]}"#, who("prod", Some("FRA1")), region),
            (r#"{"regions": ["LON1"]}"#, who("prod", None), region),
            (r#"{"regions": []}"#, who("prod", Some("LON1")), region),
            (r#"{"regions": ["LON1"], "clusters": ["prod"]}"#, who("prod", Some("LON1")), None),
            (r#"{"regions": ["LON1"], "clusters": ["PROD"]}"#, who("prod", Some("LON1")), None),
            (r#"{"regions": ["LON1"], "clusters": ["5e0c"]}"#, who("renamed", Some("LON1")), None),
            (r#"{"regions": ["LON1"], "clusters": ["lon1/prod"]}"#, who("prod", Some("LON1")), None),
            (r#"{"regions": ["LON1"], "clusters": ["prod"]}"#, who("staging", Some("LON1")), cluster),
            (r#"{"regions": ["LON1"], "clusters": ["FRA1/prod"]}"#, who("prod", Some("LON1")), cluster),
            (r#"{"regions": ["LON1"], "clusters": ["pro"]}"#, who("prod", Some("LON1")), cluster),
            (r#"{"regions": ["LON1"], "clusters": ["prod"]}"#, who("prod", Some("FRA1")), region),
        ];
        for (selection, who, outside) in cases {
            // The clusters it holds do not matter once it says what it covers.
            let t = topology(FRA, "", selection);
            assert_eq!(Scope::of(&t).outside(*who), *outside, "{selection} {who:?}");
        }
    }

    #[test]
    fn same_regions() {
        let two = format!("{LON}, {FRA}");
        // (clusters, left out, selection) of each snapshot, and whether they cover the same regions.
        type Side<'a> = (&'a str, &'a str, &'a str);
        let lon_fra = r#"{"regions": ["LON1", "FRA1"]}"#;
        let cases: &[(Side<'_>, Side<'_>, bool)] = &[
            ((LON, "", ""), (LON, "", ""), true),
            ((LON, "", ""), (&two, "", ""), false),
            ((LON, LEFT_FRA, ""), (&two, "", ""), true),
            ((LON, "", ""), (NOWHERE, "", ""), true),
            (("", "", ""), ("", "", ""), true),
            (("", "", ""), (LON, "", ""), false),
            // A region read and found empty is covered all the same.
            ((LON, "", lon_fra), (&two, "", ""), true),
            ((LON, "", lon_fra), (LON, "", ""), false),
            ((LON, "", r#"{"regions": ["lon1"], "clusters": ["a"]}"#), (&two, "", r#"{"regions": ["LON1"]}"#), true),
            (("", "", r#"{"regions": []}"#), ("", "", ""), true),
        ];
        for &((a, la, sa), (b, lb, sb), same) in cases {
            let (a, b) = (topology(a, la, sa), topology(b, lb, sb));
            assert_eq!(Scope::of(&a).same_regions(&Scope::of(&b)), same, "{a:?} / {b:?}");
            assert_eq!(Scope::of(&b).same_regions(&Scope::of(&a)), same, "{b:?} / {a:?}");
        }
    }

    #[test]
    fn a_renamed_cluster_is_found_by_id_before_a_namesake() {
        let t = Topology::from_json(
            r#"{"clusters": [{"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10"},
                {"name": "old-name", "id": "x", "region": "LON1", "egress_ip": "74.220.24.11"}]}"#,
        )
        .unwrap();
        let lookup = Lookup::new(t.clusters().iter().map(Identity::of).collect());
        let who = Identity { name: "prod", id: Some("x"), region: Some("LON1") };
        assert_eq!(lookup.find(who).collect::<Vec<_>>(), [1, 0]);
        let other = Identity { name: "prod", id: Some("y"), region: Some("FRA1") };
        assert_eq!(lookup.find(other).count(), 0, "another region");
    }
}
