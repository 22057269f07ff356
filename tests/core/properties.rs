//! Properties of the public API over generated topologies and addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use civo_egress::{
    Allowlist, Assignment, AssignmentKind, Audit, Cluster, FindingKind, IpClass, LoadBalancer, Node, ReservedIp,
    Topology, Whitelist, diff,
};
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

fn global_v6() -> impl Strategy<Value = IpAddr> {
    (0u128..512).prop_map(|n| IpAddr::from(Ipv6Addr::from((0x2a00_1450u128 << 96) + n)))
}

fn cluster(i: usize) -> impl Strategy<Value = Cluster> {
    let nodes = prop::collection::vec((0u8..255, prop::option::of(global())), 0..5);
    let lbs = prop::collection::vec((global(), prop::option::of(0u8..255)), 0..3);
    let details = (any::<bool>(), any::<bool>(), prop::option::of(global_v6()), any::<bool>());
    (global(), 0u8..4, nodes, lbs, details).prop_map(move |(egress, net, nodes, lbs, (id, region, v6, pods))| {
        // `global()` may give an IPv6 egress IP: then there is no second one.
        let mut b = Cluster::builder(format!("cluster-{i}"))
            .egress_ip(egress)
            .network_cidr(format!("192.168.{net}.0/24").parse::<ipnet::IpNet>().unwrap());
        if id {
            b = b.id(format!("id-{i}"));
        }
        if region {
            b = b.region("LON1");
        }
        if let Some(v6) = v6.filter(|_| egress.is_ipv4()) {
            b = b.egress_ip(v6).network_cidr("fd12:3456::/64".parse::<ipnet::IpNet>().unwrap());
        }
        if pods {
            b = b.pod_cidr(civo_egress::K3S_POD_CIDR).pod_cidr(civo_egress::K3S_POD_CIDR_V6);
            b = b.service_cidr(civo_egress::K3S_SERVICE_CIDR_V6);
        }
        for (j, (host, public)) in nodes.into_iter().enumerate() {
            let node = Node::new(format!("n{j}"), IpAddr::from(Ipv4Addr::new(192, 168, net, host))).unwrap();
            b = b.node(match public {
                Some(p) => node.with_public_ip(p),
                None => node,
            });
        }
        for (j, (ip, private)) in lbs.into_iter().enumerate() {
            let lb = LoadBalancer::new(format!("lb{j}"), ip).unwrap();
            b = b.load_balancer(match private {
                Some(host) => lb.with_private_ip(IpAddr::from(Ipv4Addr::new(192, 168, net, host))),
                None => lb,
            });
        }
        b.build().unwrap()
    })
}

fn topology() -> impl Strategy<Value = Topology> {
    let clusters = (0usize..5).prop_flat_map(|n| (0..n).map(cluster).collect::<Vec<_>>());
    let reserved = prop::collection::vec((global(), prop::option::of(any::<bool>())), 0..3);
    (clusters, prop::collection::vec(global(), 0..3), reserved).prop_map(|(clusters, lbs, reserved)| {
        let lbs =
            lbs.into_iter().enumerate().map(|(i, ip)| LoadBalancer::new(format!("top-{i}"), ip).unwrap()).collect();
        let reserved = reserved
            .into_iter()
            .enumerate()
            .map(|(i, (ip, assigned))| {
                let r = ReservedIp::new(format!("r-{i}"), ip).unwrap();
                match assigned {
                    Some(true) => r.with_assignment(Assignment::new(AssignmentKind::LoadBalancer, "top-0").unwrap()),
                    Some(false) => r.with_assignment(Assignment::new(AssignmentKind::Instance, "bastion").unwrap()),
                    None => r,
                }
            })
            .collect();
        Topology::new(clusters, lbs, reserved).unwrap()
    })
}

/// A non-empty topology, for what needs one.
fn some_topology() -> impl Strategy<Value = Topology> {
    topology().prop_filter("has a cluster", |t| !t.clusters().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn classify_never_panics_and_whitelistable_iff_egress(t in topology(), ips in prop::collection::vec(any_ip(), 1..32)) {
        for ip in ips {
            let answer = t.classify_ip(ip);
            prop_assert_eq!(answer.is_whitelistable(), answer.class() == IpClass::Egress);
            prop_assert!(!answer.reason().to_string().is_empty());
            let mapped_free = match ip { IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4), v4 => v4 };
            prop_assert_eq!(t.classify_ip(mapped_free).class(), answer.class());
        }
    }

    #[test]
    fn every_whitelist_entry_classifies_as_egress(t in topology()) {
        let w = Whitelist::of_allowing_empty(&t);
        prop_assert_eq!(Whitelist::of(&t).is_ok(), !t.clusters().is_empty());
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
    fn an_audit_of_the_whitelist_is_clean(t in some_topology()) {
        let whitelist = Whitelist::of(&t).unwrap();
        let allowlist: Allowlist = whitelist.cidrs().collect();
        let report = Audit::builder(&t).build().unwrap().run(&allowlist);
        // Clean but for the doubts the topology carries about its egress
        // (a LoadBalancer or reserved IP on an egress IP, a reserved IP on a
        // node: the generator makes such contradictions), which no
        // allowlist can lift.
        let about_entries = |r: &civo_egress::AuditReport| {
            r.findings().iter().filter(|f| f.kind() != FindingKind::UnverifiedEgress).count()
        };
        prop_assert_eq!(report.is_ok(), whitelist.doubts().next().is_none(), "{:?}", report.findings());
        prop_assert_eq!(about_entries(&report), 0, "{:?}", report.findings());
        let reparsed: Allowlist = whitelist.to_string().parse().unwrap();
        prop_assert_eq!(about_entries(&Audit::builder(&t).build().unwrap().run(&reparsed)), 0);
        prop_assert_eq!(about_entries(&Audit::builder(&t).build().unwrap().run(&Allowlist::from(&whitelist))), 0);
    }

    #[test]
    fn snapshots_round_trip(t in topology()) {
        let json = t.to_json();
        let back = Topology::from_json(&json).unwrap();
        prop_assert_eq!(&back, &t);
        prop_assert_eq!(&back.to_json(), &json, "written the same way twice");
        prop_assert_eq!(&serde_json::from_str::<Topology>(&json).unwrap(), &t);
        prop_assert_eq!(&t.to_string().parse::<Topology>().unwrap(), &t);
        prop_assert!(diff(&t, &back).is_empty());
        let whitelist = Whitelist::of_allowing_empty(&t);
        let whitelist_json = serde_json::to_string(&whitelist).unwrap();
        // The JSON is the entries alone (the warnings are not in it).
        let back: Whitelist = serde_json::from_str(&whitelist_json).unwrap();
        prop_assert_eq!(back.entries(), whitelist.entries());
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
        for reserved in t.reserved_ips() {
            if let Some(assignment) = reserved.assigned_to() {
                round_trip(assignment)?;
            }
        }
        round_trip(&Assignment::new(AssignmentKind::Instance, "bastion").unwrap())?;
        let whitelist = Whitelist::of_allowing_empty(&t);
        let json = serde_json::to_string(&whitelist).unwrap();
        let back: Whitelist = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.entries(), whitelist.entries());
        for warning in whitelist.warnings().iter().chain(t.warnings()) {
            round_trip(warning)?;
        }
        for entry in whitelist.entries() {
            round_trip(entry)?;
        }
        let allowlist: Allowlist = ips.iter().map(|&ip| ipnet::IpNet::from(ip.to_canonical())).collect();
        round_trip(&allowlist)?;
        let report = Audit::builder(&t).allow_empty(true).build().unwrap().run(&allowlist);
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
            round_trip(&t.classify_ip(ip).into_owned())?;
        }
    }
}

#[cfg(feature = "civo-api")]
#[test]
fn small_enums_round_trip_through_serde() {
    use civo_egress::WarningKind;
    use civo_egress::resolve::{EgressStatus, EvidenceKind, IpFamily};
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
