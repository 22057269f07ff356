//! The pure step's promises over any sequence of refreshes (proptest): a
//! failure changes no cluster; an IP is reported removed only for a cluster
//! the refresh listed, and a cluster forgotten only when said deleted; the
//! same outcome twice tells nothing new; clear means known and well.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::state::Refreshed;
use super::{EventKind, WatchState};
use crate::{Allowlist, Cluster, LeftOut, Node, PublicIpPool, Topology, WarningKind};

/// One cluster of three, as a refresh may see it: absent, left out, or
/// listed with a gateway of four, a pool of 0-2 pending nodes and 0-2 node IPs.
#[derive(Debug, Clone)]
enum Seen {
    Absent,
    LeftOut,
    Listed { gateway: u8, pending: u32, nodes: u8 },
}

fn seen() -> impl Strategy<Value = Seen> {
    prop_oneof![
        1 => Just(Seen::Absent),
        1 => Just(Seen::LeftOut),
        4 => (0u8..4, 0u32..3, 0u8..3).prop_map(|(gateway, pending, nodes)| Seen::Listed { gateway, pending, nodes }),
    ]
}

/// A refresh: `None` failed, else each cluster as seen.
fn outcome() -> impl Strategy<Value = Option<[Seen; 3]>> {
    prop_oneof![1 => Just(None), 5 => [seen(), seen(), seen()].prop_map(Some)]
}

fn ip(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(74, 220, a, b))
}

fn topology(seen: &[Seen; 3]) -> Topology {
    let mut clusters = Vec::new();
    let mut left = Vec::new();
    for (i, s) in (0u8..).zip(seen) {
        let name = format!("c{i}");
        match s {
            Seen::Absent => {}
            Seen::LeftOut => {
                let why = LeftOut::new(&name, WarningKind::ClusterGone, "gone").expect("a name and a reason");
                left.push(why.identified(None, Some("LON1".into())));
            }
            Seen::Listed { gateway, pending, nodes } => {
                let mut b = Cluster::builder(&name).region("LON1").egress_ip(ip(i, *gateway));
                b = b.public_ip_pool(PublicIpPool::new("pool", *pending).expect("an id"));
                for n in 0..*nodes {
                    let node = Node::new(format!("n{n}"), IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10 + n)));
                    b = b.node(node.expect("a name").with_public_ip(ip(i, 100 + n)));
                }
                clusters.push(b.build().expect("a valid cluster"));
            }
        }
    }
    Topology::new(clusters, vec![], vec![]).expect("distinct names").with_left_out(left)
}

fn at(i: usize) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 60 * i as u64)
}

proptest! {
    #[test]
    fn any_sequence_keeps_the_promises(outcomes in proptest::collection::vec(outcome(), 1..12)) {
        let lists = vec![("partner".to_owned(), Allowlist::parse("74.220.0.0/24\n74.220.1.0/24\n").expect("valid"))];
        let mut state = WatchState::default();
        for (i, outcome) in outcomes.iter().enumerate() {
            let before = state.clone();
            let Some(seen) = outcome else {
                let events = state.failed("down".into(), Duration::ZERO);
                prop_assert_eq!(events.len(), 1);
                prop_assert_eq!(state.clusters(), before.clusters(), "a failure changes no cluster");
                prop_assert!(!state.is_clear());
                continue;
            };
            let t = topology(seen);
            let refresh = |state: &mut WatchState| state.refreshed(Refreshed {
                topology: &t, cluster_warnings: vec![], stale_allowlists: vec![], warnings: vec![], allowlists: &lists, verdicts: vec![],
                observing: false, now: at(i), took: Duration::ZERO,
            });
            let events = refresh(&mut state);
            let listed: Vec<String> = t.clusters().iter().map(Cluster::label).collect();
            for event in &events {
                if let EventKind::EgressChanged { cluster, removed, .. } = event {
                    prop_assert!(removed.is_empty() || listed.contains(cluster),
                        "{} reported removed for {} which the refresh did not list", removed.len(), cluster);
                }
            }
            // Every IP known before stays known unless the refresh listed its
            // cluster, or said it deleted (absent from regions all read).
            for old in before.clusters().iter().filter(|c| !listed.iter().any(|l| l == c.cluster())) {
                let now = state.clusters().iter().find(|c| c.cluster() == old.cluster());
                let deleted = events.iter().any(|e| matches!(e,
                    EventKind::ClusterLeftOut { cluster, reason_kind: WarningKind::ClusterGone, .. } if cluster == old.cluster()));
                prop_assert!(now.map(|c| c.egress_ips()) == Some(old.egress_ips()) || (now.is_none() && deleted));
            }
            if state.is_clear() {
                for c in state.clusters() {
                    prop_assert!(c.pending() == 0 && c.status().is_ok() && c.left_out_kind().is_none());
                    prop_assert!(c.allowlists().iter().all(|a| a.is_covered()));
                }
            }
            let again = refresh(&mut state);
            prop_assert!(again.is_empty(), "the same outcome twice told {:?}", again);
        }
    }
}
