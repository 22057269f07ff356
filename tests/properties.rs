//! Properties of the public API over generated topologies and addresses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use civo_egress::{Allowlist, Cluster, IpClass, LoadBalancer, Node, ReservedIp, Topology, audit, diff};
use proptest::prelude::*;

/// Global addresses near each other (so facts collide), private ones, and
/// anything at all.
fn global() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u32..512).prop_map(|n| IpAddr::from(Ipv4Addr::from(0x4adc_1800 + n))),
        (0u128..512).prop_map(|n| IpAddr::from(Ipv6Addr::from((0x2a00_1450u128 << 96) + n))),
    ]
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        global(),
        any::<u32>().prop_map(|n| IpAddr::from(Ipv4Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::from(Ipv6Addr::from(n))),
        any::<u32>().prop_map(|n| IpAddr::from(Ipv4Addr::from(n).to_ipv6_mapped())),
        (0u32..65536).prop_map(|n| IpAddr::from(Ipv4Addr::from(0x0a2a_0000 + n))),
        (0u32..256).prop_map(|n| IpAddr::from(Ipv4Addr::from(0xc0a8_0100 + n))),
    ]
}

fn cluster(i: usize) -> impl Strategy<Value = Cluster> {
    let nodes = prop::collection::vec((0u8..255, prop::option::of(global())), 0..5);
    let lbs = prop::collection::vec(global(), 0..3);
    (global(), 0u8..4, nodes, lbs).prop_map(move |(egress, net, nodes, lbs)| {
        let mut b = Cluster::builder(format!("cluster-{i}"))
            .id(format!("id-{i}"))
            .egress_ip(egress)
            .network_cidr(format!("192.168.{net}.0/24"));
        for (j, (host, public)) in nodes.into_iter().enumerate() {
            let node = Node::new(format!("n{j}"), IpAddr::from(Ipv4Addr::new(192, 168, net, host)));
            b = b.node(match public {
                Some(p) => node.with_public_ip(p),
                None => node,
            });
        }
        for (j, ip) in lbs.into_iter().enumerate() {
            b = b.load_balancer(LoadBalancer::new(format!("lb{j}"), ip));
        }
        b.build().unwrap()
    })
}

fn topology() -> impl Strategy<Value = Topology> {
    let clusters = (0usize..5).prop_flat_map(|n| (0..n).map(cluster).collect::<Vec<_>>());
    (clusters, prop::collection::vec(global(), 0..3), prop::collection::vec(global(), 0..3)).prop_map(
        |(clusters, lbs, reserved)| {
            let lbs = lbs.into_iter().enumerate().map(|(i, ip)| LoadBalancer::new(format!("top-{i}"), ip)).collect();
            let reserved =
                reserved.into_iter().enumerate().map(|(i, ip)| ReservedIp::new(format!("r-{i}"), ip)).collect();
            Topology::new(clusters, lbs, reserved).unwrap()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn classify_never_panics_and_whitelistable_iff_egress(t in topology(), ips in prop::collection::vec(any_ip(), 1..32)) {
        for ip in ips {
            let answer = t.classify_ip(ip);
            prop_assert_eq!(answer.is_whitelistable(), answer.class() == IpClass::Egress);
            prop_assert!(!answer.reason().is_empty());
            let mapped_free = match ip { IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4), v4 => v4 };
            prop_assert_eq!(t.classify_ip(mapped_free).class(), answer.class());
        }
    }

    #[test]
    fn every_whitelist_entry_classifies_as_egress(t in topology()) {
        let w = t.whitelist();
        let mut expected: Vec<IpAddr> = t.clusters().iter().flat_map(Cluster::egress_ips).collect();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(w.entries().iter().map(|e| e.ip()).collect::<Vec<_>>(), expected);
        for entry in w.entries() {
            let answer = t.classify_ip(entry.ip());
            prop_assert_eq!(answer.class(), IpClass::Egress);
            prop_assert_eq!(answer.clusters(), entry.clusters());
            prop_assert_eq!(entry.cidr().prefix_len(), entry.cidr().max_prefix_len());
        }
    }

    #[test]
    fn an_audit_of_the_whitelist_is_clean(t in topology()) {
        let allowlist: Allowlist = t.whitelist().cidrs().collect();
        let report = audit(&t, &allowlist);
        prop_assert!(report.is_ok(), "{:?}", report.findings());
        prop_assert!(report.findings().is_empty());
        let reparsed: Allowlist = t.whitelist().to_string().parse().unwrap();
        prop_assert!(audit(&t, &reparsed).findings().is_empty());
    }

    #[test]
    fn snapshots_round_trip(t in topology()) {
        let back = Topology::from_json(&t.to_json()).unwrap();
        prop_assert_eq!(&back, &t);
        prop_assert!(diff(&t, &back).is_empty());
        let whitelist_json = serde_json::to_string(&t.whitelist()).unwrap();
        prop_assert_eq!(serde_json::from_str::<civo_egress::Whitelist>(&whitelist_json).unwrap(), t.whitelist());
    }

    #[test]
    fn arbitrary_text_never_panics_the_parsers(text in "\\PC{0,200}") {
        let _ = Topology::from_json(&text);
        let _ = Allowlist::parse(&text);
    }
}

/// Serializes and reads back, and must get the same value.
fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_public_type_round_trips_through_serde(t in topology(), other in topology(), ips in prop::collection::vec(any_ip(), 0..8)) {
        round_trip(&t)?;
        for cluster in t.clusters() {
            round_trip(cluster)?;
            for node in cluster.nodes() {
                round_trip(node)?;
            }
            for lb in cluster.load_balancers() {
                round_trip(lb)?;
            }
        }
        for reserved in t.reserved_ips() {
            round_trip(reserved)?;
        }
        round_trip(&civo_egress::Assignment::new(civo_egress::AssignmentKind::Instance, "bastion"))?;
        let whitelist = t.whitelist();
        round_trip(&whitelist)?;
        for entry in whitelist.entries() {
            round_trip(entry)?;
        }
        let allowlist: Allowlist = ips.iter().map(|&ip| ipnet::IpNet::from(ip.to_canonical())).collect();
        let report = audit(&t, &allowlist);
        round_trip(&report)?;
        for finding in report.findings() {
            round_trip(finding)?;
            round_trip(&finding.kind())?;
            round_trip(&finding.severity())?;
        }
        let changes = diff(&t, &other);
        round_trip(&changes)?;
        for change in changes.changes() {
            round_trip(change)?;
        }
        for ip in ips {
            round_trip(&t.classify_ip(ip).class())?;
        }
    }
}

#[cfg(feature = "civo-api")]
#[test]
fn small_enums_round_trip_through_serde() {
    use civo_egress::{EgressStatus, EvidenceKind, IpFamily, WarningKind};
    for status in [
        EgressStatus::Confirmed,
        EgressStatus::Expected,
        EgressStatus::Observed,
        EgressStatus::Mismatch,
        EgressStatus::Unknown,
    ] {
        round_trip(&status).unwrap();
        assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{status}\""));
    }
    for kind in [EvidenceKind::Expected, EvidenceKind::Observed] {
        round_trip(&kind).unwrap();
    }
    for family in [IpFamily::V4, IpFamily::V6, IpFamily::Both] {
        round_trip(&family).unwrap();
    }
    for kind in [
        WarningKind::NotActive,
        WarningKind::NoEgressIp,
        WarningKind::Legacy,
        WarningKind::EgressUnmeasured,
        WarningKind::PublicIpNodePool,
        WarningKind::Network,
        WarningKind::InvalidValue,
    ] {
        round_trip(&kind).unwrap();
    }
}
