//! Who a cluster is across two snapshots, and which regions a snapshot
//! covers.
//!
//! A snapshot does not record the selection it was made with, so what it
//! covers is read from what it holds: the regions of its clusters and of
//! the clusters it left out.

use std::collections::{HashMap, HashSet};

use crate::cluster::Cluster;
use crate::left_out::LeftOut;
use crate::topology::Topology;

/// How a cluster, present or left out, is named in a snapshot.
#[derive(Debug, Clone, Copy)]
pub(super) struct Identity<'a> {
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

/// The regions a snapshot covers: those of its clusters and of the
/// clusters it left out. A cluster of unknown region covers every region
/// (the snapshot was written without regions).
pub(super) struct Regions {
    /// Upper-cased codes, in first-seen order.
    codes: Vec<String>,
    any: bool,
    empty: bool,
}

impl Regions {
    pub(super) fn of(topology: &Topology) -> Self {
        let all =
            topology.clusters().iter().map(Cluster::region).chain(topology.left_out().iter().map(LeftOut::region));
        let (mut codes, mut seen, mut any, mut empty) = (Vec::new(), HashSet::new(), false, true);
        for region in all {
            empty = false;
            match region {
                Some(code) if seen.insert(code.to_ascii_uppercase()) => codes.push(code.to_ascii_uppercase()),
                Some(_) => {}
                None => any = true,
            }
        }
        Self { codes, any, empty }
    }

    /// Whether a cluster of `region` would be in the snapshot if it
    /// existed (as far as its regions tell: a snapshot made with
    /// `discover --cluster` leaves out the other clusters of its regions).
    pub(super) fn covers(&self, region: Option<&str>) -> bool {
        match region {
            _ if self.any => true,
            None => !self.empty,
            Some(code) => self.codes.iter().any(|c| c.eq_ignore_ascii_case(code)),
        }
    }

    /// Whether both snapshots cover the same regions (as far as known: a
    /// snapshot without regions may be of any).
    pub(super) fn same_as(&self, other: &Self) -> bool {
        if self.empty || other.empty {
            return self.empty == other.empty;
        }
        self.any
            || other.any
            || self.codes.len() == other.codes.len() && self.codes.iter().all(|c| other.codes.contains(c))
    }

    /// `LON1, FRA1`, or what stands for none.
    pub(super) fn describe(&self) -> String {
        match (self.codes.as_slice(), self.any) {
            (_, true) => "clusters without a region".to_owned(),
            ([], false) => "no cluster".to_owned(),
            (codes, false) => codes.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(clusters: &str, left_out: &str) -> Regions {
        let json = format!(r#"{{"clusters": [{clusters}], "left_out": [{left_out}]}}"#);
        Regions::of(&Topology::from_json(&json).unwrap())
    }

    const LON: &str = r#"{"name": "a", "region": "LON1", "egress_ip": "74.220.24.10"}"#;
    const FRA: &str = r#"{"name": "b", "region": "fra1", "egress_ip": "74.220.26.44"}"#;
    const NOWHERE: &str = r#"{"name": "c", "egress_ip": "74.220.24.30"}"#;
    const LEFT_FRA: &str = r#"{"name": "d", "region": "FRA1", "kind": "not-active", "reason": "BUILDING"}"#;

    #[test]
    fn what_a_snapshot_covers() {
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
            assert_eq!(regions(clusters, left_out).covers(region), covered, "{clusters} {left_out} {region:?}");
        }
    }

    #[test]
    fn same_regions() {
        let two = format!("{LON}, {FRA}");
        // (clusters, left out) of each snapshot, and whether they cover the same regions.
        type Side<'a> = (&'a str, &'a str);
        let cases: &[(Side<'_>, Side<'_>, bool)] = &[
            ((LON, ""), (LON, ""), true),
            ((LON, ""), (&two, ""), false),
            ((LON, LEFT_FRA), (&two, ""), true),
            ((LON, ""), (NOWHERE, ""), true),
            (("", ""), ("", ""), true),
            (("", ""), (LON, ""), false),
        ];
        for &((a, la), (b, lb), same) in cases {
            assert_eq!(regions(a, la).same_as(&regions(b, lb)), same, "{a} {la} / {b} {lb}");
            assert_eq!(regions(b, lb).same_as(&regions(a, la)), same, "{b} {lb} / {a} {la}");
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
