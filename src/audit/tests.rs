//! The audit's rules, as tables.

#![allow(clippy::unwrap_used)]

use ipnet::IpNet;

use super::rules::{self, EntryFacts, EntryVerdict, Wanted};
use super::{FindingKind, Severity};
use crate::class::IpClass;
use crate::topology::Topology;
use crate::whitelist::{Whitelist, WhitelistEntry};

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

/// Egress IPs 74.220.24.10 and .77, 2a00:1450::10, sorted as a whitelist is.
fn wanted() -> Vec<WhitelistEntry> {
    let topology = Topology::from_json(
        r#"{"clusters": [
          {"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"]},
          {"name": "edge", "egress_ip": "74.220.24.77"}]}"#,
    )
    .unwrap();
    Whitelist::of(&topology).unwrap().entries().to_vec()
}

#[test]
fn too_broad_is_a_slash_8_a_private_block_or_an_ipv6_slash_16() {
    let table = [
        ("0.0.0.0/0", true),
        ("::/0", true),
        ("74.0.0.0/8", true),
        ("10.0.0.0/8", true),
        ("10.0.0.0/7", true),
        ("172.16.0.0/12", true),
        ("172.0.0.0/9", true),
        ("192.168.0.0/16", true),
        ("192.168.0.0/15", true),
        ("fc00::/7", true),
        ("2000::/3", true),
        ("2a00::/16", true),
        ("74.220.0.0/16", false),
        ("74.220.24.0/24", false),
        ("172.16.0.0/13", false),
        ("192.168.1.0/24", false),
        ("10.42.0.0/16", false),
        ("2a00:1450::/32", false),
        ("fd00::/16", true),
        ("fd12:3456::/32", false),
        ("74.220.24.10/32", false),
    ];
    for (entry, want) in table {
        assert_eq!(rules::is_too_broad(net(entry)), want, "{entry}");
    }
}

#[test]
fn ipv4_mapped_is_an_ipv6_text_for_an_ipv4_network() {
    let table = [
        ("::ffff:74.220.24.10", "74.220.24.10/32", true),
        ("::ffff:74.220.24.10/128", "74.220.24.10/32", true),
        ("::ffff:10.42.0.0/112", "10.42.0.0/16", true),
        ("74.220.24.10", "74.220.24.10/32", false),
        ("2a00:1450::10", "2a00:1450::10/128", false),
        ("::ffff:0:0/95", "::ffff:0:0/95", false),
    ];
    for (text, entry_net, want) in table {
        assert_eq!(rules::is_ipv4_mapped(text, net(entry_net)), want, "{text}");
    }
}

#[test]
fn wanted_inside_is_the_run_of_wanted_addresses_an_entry_holds() {
    let wanted = wanted();
    let table: [(&str, &[&str]); 9] = [
        ("74.220.24.0/24", &["74.220.24.10", "74.220.24.77"]),
        ("74.220.24.0/26", &["74.220.24.10"]),
        ("74.220.24.64/26", &["74.220.24.77"]),
        ("74.220.24.10/32", &["74.220.24.10"]),
        ("74.220.24.11/32", &[]),
        ("74.220.25.0/24", &[]),
        ("0.0.0.0/0", &["74.220.24.10", "74.220.24.77"]),
        ("2a00:1450::/64", &["2a00:1450::10"]),
        ("::/0", &["2a00:1450::10"]),
    ];
    for (entry, want) in table {
        let got: Vec<String> = rules::wanted_inside(net(entry), &wanted).iter().map(|e| e.ip().to_string()).collect();
        assert_eq!(got, want, "{entry}");
    }
}

#[test]
fn the_verdict_of_an_entry_follows_from_its_facts() {
    let facts = |too_broad, host, mapped, holds_wanted| EntryFacts { too_broad, host, mapped, holds_wanted };
    let verdict =
        |too_broad, classes, public, broader, mapped| EntryVerdict { too_broad, classes, public, broader, mapped };
    let table = [
        // A catch-all is one finding, whatever else is true of it.
        (facts(true, false, false, false), verdict(true, false, false, false, false)),
        (facts(true, false, true, true), verdict(true, false, false, false, false)),
        // A single address: its classes, and public is said as info.
        (facts(false, true, false, false), verdict(false, true, true, false, false)),
        (facts(false, true, false, true), verdict(false, true, true, false, false)),
        (facts(false, true, true, true), verdict(false, true, true, false, true)),
        // A network around a wanted address: broader than needed, and that
        // says what public says.
        (facts(false, false, false, true), verdict(false, true, false, true, false)),
        (facts(false, false, true, true), verdict(false, true, false, true, true)),
        // A network around none: its classes, public included.
        (facts(false, false, false, false), verdict(false, true, true, false, false)),
        (facts(false, false, true, false), verdict(false, true, true, false, true)),
    ];
    for (facts, want) in table {
        assert_eq!(rules::judge(facts), want, "{facts:?}");
    }
}

#[test]
fn entry_facts_of_real_entries() {
    let wanted = wanted();
    let table = [
        ("74.220.24.10", "74.220.24.10/32", (false, true, false, true)),
        ("::ffff:74.220.24.10", "74.220.24.10/32", (false, true, true, true)),
        ("74.220.24.0/24", "74.220.24.0/24", (false, false, false, true)),
        ("::ffff:74.220.24.0/120", "74.220.24.0/24", (false, false, true, true)),
        ("8.8.8.0/24", "8.8.8.0/24", (false, false, false, false)),
        ("0.0.0.0/0", "0.0.0.0/0", (true, false, false, true)),
    ];
    for (text, entry_net, (too_broad, host, mapped, holds_wanted)) in table {
        assert_eq!(
            EntryFacts::of(text, net(entry_net), &wanted),
            EntryFacts { too_broad, host, mapped, holds_wanted },
            "{text}"
        );
    }
}

#[test]
fn other_addresses_are_counted_exactly_up_to_2_pow_32() {
    let table = [
        ("74.220.24.0/24", 1, "255 other addresses"),
        ("74.220.24.0/24", 2, "254 other addresses"),
        ("74.220.24.10/31", 1, "1 other address"),
        ("1.0.0.0/9", 1, "8388607 other addresses"),
        ("2a00:1450::/96", 1, "4294967295 other addresses"),
        ("2a00:1450::/64", 1, "about 2^64 other addresses"),
        ("2a00:1450::/48", 1, "about 2^80 other addresses"),
    ];
    for (entry, wanted, want) in table {
        assert_eq!(rules::other_addresses(net(entry), wanted), want, "{entry}");
    }
}

#[test]
fn the_sentences_name_what_to_allow_instead() {
    let wanted = wanted();
    let both = rules::wanted_inside(net("74.220.24.0/24"), &wanted);
    let table = [
        (
            rules::broader_reason(net("74.220.24.0/26"), &both[..1], Wanted::Egress),
            "74.220.24.0/26 lets in 63 other addresses beside egress IP 74.220.24.10 (likely other tenants'): allow it alone, as 74.220.24.10/32",
        ),
        (
            rules::broader_reason(net("74.220.24.0/24"), both, Wanted::Egress),
            "74.220.24.0/24 lets in 254 other addresses beside egress IPs 74.220.24.10, 74.220.24.77 (likely other tenants'): allow them alone, as 74.220.24.10/32, 74.220.24.77/32",
        ),
        (
            rules::too_broad_reason(
                net("10.0.0.0/8"),
                &[IpClass::Pod, IpClass::Service, IpClass::Private],
                Wanted::Egress,
            ),
            "10.0.0.0/8 is too broad to restrict anything: it lets in pod, service and private addresses; allow the egress IPs alone, as /32 or /128",
        ),
        (
            rules::too_broad_reason(net("192.168.0.0/16"), &[IpClass::Egress, IpClass::Node], Wanted::Nodes),
            "192.168.0.0/16 is too broad to restrict anything: it lets in node addresses; allow the node IPs alone, as /32 or /128",
        ),
        (
            rules::too_broad_reason(net("::/0"), &[], Wanted::Egress),
            "::/0 is too broad to restrict anything; allow the egress IPs alone, as /32 or /128",
        ),
    ];
    for (got, want) in table {
        assert_eq!(got, want);
    }
    let mapped = rules::mapped_reason("::ffff:74.220.24.10", net("74.220.24.10/32"));
    assert!(mapped.starts_with("::ffff:74.220.24.10 is the IPv4-mapped form of 74.220.24.10/32: "), "{mapped}");
    assert!(mapped.ends_with(": write 74.220.24.10/32"), "{mapped}");
    assert!(mapped.contains("ip6tables"), "{mapped}");
}

#[test]
fn more_than_three_wanted_addresses_are_summed_up() {
    let topology = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
          "nodes": [{"name": "a", "private_ip": "192.168.1.4"}, {"name": "b", "private_ip": "192.168.1.5"},
                    {"name": "c", "private_ip": "192.168.1.6"}, {"name": "d", "private_ip": "192.168.1.7"},
                    {"name": "e", "private_ip": "192.168.1.8"}]}]}"#,
    )
    .unwrap();
    let nodes =
        Whitelist::builder(&topology).destination("192.168.1.50".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let reason = rules::broader_reason(net("192.168.1.0/24"), nodes.entries(), Wanted::Nodes);
    assert_eq!(
        reason,
        "192.168.1.0/24 lets in 251 other addresses beside node IPs 192.168.1.4, 192.168.1.5, 192.168.1.6 and 2 more (other machines on the network): allow them alone, as 192.168.1.4/32, 192.168.1.5/32, 192.168.1.6/32 and 2 more"
    );
}

#[test]
fn each_kind_has_its_severity_and_its_name() {
    let table = [
        (FindingKind::Covers(IpClass::Pod), "pod", Severity::Error),
        (FindingKind::Covers(IpClass::LoadBalancer), "load-balancer", Severity::Error),
        (FindingKind::Covers(IpClass::Public), "public", Severity::Info),
        (FindingKind::TooBroad, "too-broad", Severity::Error),
        (FindingKind::BroaderThanNeeded, "broader-than-needed", Severity::Warning),
        (FindingKind::Ipv4Mapped, "ipv4-mapped", Severity::Warning),
        (FindingKind::MissingEgress, "missing-egress", Severity::Error),
        (FindingKind::MissingNode, "missing-node", Severity::Error),
        (FindingKind::IncompleteEgress, "incomplete-egress", Severity::Error),
        (FindingKind::UnverifiedEgress, "unverified-egress", Severity::Error),
        (FindingKind::Caveat, "caveat", Severity::Info),
    ];
    for (kind, name, severity) in table {
        assert_eq!((kind.as_str(), kind.severity()), (name, severity), "{kind:?}");
        assert_eq!(name.parse::<FindingKind>().unwrap(), kind);
    }
    // Every name the error lists parses, and every class is one.
    let error = "gateway".parse::<FindingKind>().unwrap_err();
    let listed = error.to_string();
    for class in IpClass::ALL {
        assert!(listed.contains(class.as_str()), "{listed}");
    }
    for (_, name, _) in table {
        assert!(listed.contains(name), "{listed}");
    }
}
