//! What became of each cluster between two snapshots: compared (in both),
//! added or removed (absent from one that covers it), or not compared (left
//! out of one, or outside what it covers: its regions, the clusters it was
//! made for): the decision that keeps a diff from calling "removed" a
//! cluster it knows nothing about.

use std::net::IpAddr;

use crate::cluster::Cluster;
use crate::left_out::LeftOut;
use crate::node::LoadBalancer;
use crate::topology::Topology;
use crate::warning::{Warning, WarningKind};

use super::change::ips;
use super::identity::{Identity, Lookup, Outside, Scope};

/// The clusters of two snapshots, paired.
pub(super) struct Pairing<'a> {
    /// In both: (older, newer), in the newer snapshot's order.
    pub(super) both: Vec<(&'a Cluster, &'a Cluster)>,
    /// Only in the older, which the newer covers (its region, and its
    /// selection's clusters) and does not leave out.
    pub(super) removed: Vec<&'a Cluster>,
    /// Only in the newer, which the older covers and does not leave out.
    pub(super) added: Vec<&'a Cluster>,
    /// `not-compared` warnings: what one snapshot covers and the other
    /// does not.
    pub(super) not_compared: Vec<Warning>,
    /// The LoadBalancers of the clusters not compared: discovery keeps
    /// those of a cluster it left out outside any cluster, so they are not
    /// compared either.
    pub(super) unknown_lbs: Vec<&'a LoadBalancer>,
    /// Whether both snapshots cover the same regions, so that their
    /// LoadBalancers outside clusters and reserved IPs (which a snapshot
    /// does not place in a region) compare.
    pub(super) same_regions: bool,
}

/// Which snapshot, in a sentence.
#[derive(Clone, Copy)]
enum Side {
    Older,
    Newer,
}

impl Side {
    const fn name(self) -> &'static str {
        match self {
            Self::Older => "older",
            Self::Newer => "newer",
        }
    }
}

/// Why a cluster one snapshot holds is unknown to the other.
#[derive(Clone, Copy)]
enum Unknown<'l> {
    /// The other left it out.
    LeftOut(&'l LeftOut),
    /// The other does not cover it.
    Outside(Outside),
}

impl<'l> Unknown<'l> {
    /// Why, if the cluster is unknown to the other snapshot: `left` out of
    /// it, or `outside` what it covers (a cluster left out names itself).
    fn why(left: Option<&'l LeftOut>, outside: Option<Outside>) -> Option<Self> {
        left.map(Self::LeftOut).or(outside.map(Self::Outside))
    }
}

/// Pairs the clusters of `old` and `new`.
pub(super) fn pair<'a>(old: &'a Topology, new: &'a Topology) -> Pairing<'a> {
    let (old_scope, new_scope) = (Scope::of(old), Scope::of(new));
    let old_lookup = Lookup::new(old.clusters().iter().map(Identity::of).collect());
    let mut taken = vec![false; old.clusters().len()];
    // For each newer cluster, the older one it is (one to one).
    let matched: Vec<Option<usize>> = new
        .clusters()
        .iter()
        .map(|after| {
            let found = old_lookup.find(Identity::of(after)).find(|&i| !taken[i]);
            if let Some(i) = found {
                taken[i] = true;
            }
            found
        })
        .collect();
    let mut pairing = Pairing {
        both: Vec::new(),
        removed: Vec::new(),
        added: Vec::new(),
        not_compared: Vec::new(),
        unknown_lbs: Vec::new(),
        same_regions: old_scope.same_regions(&new_scope),
    };
    let old_left = Lookup::new(old.left_out().iter().map(Identity::left).collect());
    let new_left = Lookup::new(new.left_out().iter().map(Identity::left).collect());
    for (before, _) in old.clusters().iter().zip(&taken).filter(|(_, taken)| !**taken) {
        let left = new_left.find(Identity::of(before)).next().map(|i| &new.left_out()[i]);
        match Unknown::why(left, new_scope.outside(Identity::of(before))) {
            None => pairing.removed.push(before),
            Some(why) => pairing.unknown(before, Side::Newer, why, &new_scope),
        }
    }
    for (after, m) in new.clusters().iter().zip(&matched) {
        match m {
            Some(i) => pairing.both.push((&old.clusters()[*i], after)),
            None => {
                let left = old_left.find(Identity::of(after)).next().map(|i| &old.left_out()[i]);
                match Unknown::why(left, old_scope.outside(Identity::of(after))) {
                    None => pairing.added.push(after),
                    Some(why) => pairing.unknown(after, Side::Older, why, &old_scope),
                }
            }
        }
    }
    // The clusters left out, and absent from the other snapshot (those
    // present in it were said above).
    let new_lookup = Lookup::new(new.clusters().iter().map(Identity::of).collect());
    for left in old.left_out() {
        if new_lookup.find(Identity::left(left)).next().is_some() {
            continue;
        }
        let also = new_left.find(Identity::left(left)).next().map(|i| &new.left_out()[i]);
        let message = match also {
            Some(newer) => format!(
                "left out of both snapshots (the newer: {}: {}): its egress IPs are unknown",
                newer.kind(),
                newer.reason()
            ),
            None => format!(
                "left out of the older snapshot ({}: {}) and absent from the newer: its egress IPs were never known",
                left.kind(),
                left.reason()
            ),
        };
        pairing.not_compared.push(Warning::new(WarningKind::NotCompared, message).with_cluster(left.label()));
    }
    for left in new.left_out() {
        let who = Identity::left(left);
        if old_lookup.find(who).next().is_some() || old_left.find(who).next().is_some() {
            continue;
        }
        pairing.not_compared.push(
            Warning::new(
                WarningKind::NotCompared,
                format!(
                    "left out of the newer snapshot ({}: {}) and absent from the older: its egress IPs are unknown \
                     yet; if its pods will call you, allow them once a snapshot shows them",
                    left.kind(),
                    left.reason()
                ),
            )
            .with_cluster(left.label()),
        );
    }
    pairing
}

impl<'a> Pairing<'a> {
    /// `cluster`, of one snapshot, is not compared: `other` (of `scope`)
    /// left it out, or does not cover it.
    fn unknown(&mut self, cluster: &'a Cluster, other: Side, why: Unknown<'_>, scope: &Scope<'_>) {
        let egress: Vec<IpAddr> = cluster.egress_ips();
        let side = other.name();
        let why = match why {
            Unknown::LeftOut(left) => format!("left out of the {side} snapshot ({}: {})", left.kind(), left.reason()),
            Unknown::Outside(Outside::Cluster) => format!(
                "outside the {side} snapshot, which covers only cluster(s) {} of {}",
                scope.clusters(),
                scope.regions()
            ),
            Unknown::Outside(Outside::Region) => {
                format!("outside the {side} snapshot, which covers {}", scope.regions())
            }
        };
        let advice = match other {
            Side::Newer => format!(
                "its egress IPs are unknown now: keep allowing {} until a snapshot that covers it says otherwise",
                ips(&egress)
            ),
            Side::Older => format!("not compared; if its pods call you, allow {}", ips(&egress)),
        };
        self.not_compared
            .push(Warning::new(WarningKind::NotCompared, format!("{why}: {advice}")).with_cluster(cluster.label()));
        self.unknown_lbs.extend(cluster.load_balancers());
    }
}
