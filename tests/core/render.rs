//! `Whitelist::render`: the exact text of each format (golden strings),
//! and the audit's line numbers and compiler-like text. The real tools
//! (`nft`, `iptables-restore`, an HCL parser) judge the same outputs in
//! tests/oracles.rs.

use civo_egress::{
    Allowlist, Audit, AuditReport, FindingKind, IpClass, ParseNameError, Topology, Whitelist, WhitelistFormat,
};

/// The article's cluster, as the CLI's `--example` embeds it.
const ARTICLE: &str = include_str!("../../examples/topology.json");

fn article() -> Whitelist {
    Whitelist::of(&Topology::from_json(ARTICLE).unwrap()).unwrap()
}

fn dual_stack() -> Whitelist {
    let topology = Topology::from_json(
        r#"{"clusters": [
          {"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"],
           "nodes": [{"name": "edge", "private_ip": "192.168.10.6", "public_ip": "74.220.24.77"}]},
          {"name": "staging", "egress_ip": "2a00:1450::44"}]}"#,
    )
    .unwrap();
    Whitelist::of(&topology).unwrap()
}

fn render(w: &Whitelist, format: WhitelistFormat) -> String {
    w.render(format).to_string()
}

const ARTICLE_NFTABLES: &str = "\
# civo-egress: the whitelist of cluster my-cluster: 1 IPv4 and 0 IPv6 addresses.
# Load it with `nft -f FILE`: it defines the sets egress_v4 and egress_v6 of table inet civo_egress
# and replaces their elements with exactly these addresses, in one transaction. It adds no rule.
# A set is visible to the rules of its own table only: match them from a chain of inet civo_egress,
# e.g. `ip saddr @egress_v4 accept` and `ip6 saddr @egress_v6 accept`.
table inet civo_egress {
\tset egress_v4 {
\t\ttype ipv4_addr
\t\tcomment \"civo-egress whitelist\"
\t}
\tset egress_v6 {
\t\ttype ipv6_addr
\t\tcomment \"civo-egress whitelist\"
\t}
}
flush set inet civo_egress egress_v4
flush set inet civo_egress egress_v6
add element inet civo_egress egress_v4 {
\t212.2.253.151
}
";

const ARTICLE_IPTABLES: &str = "\
# civo-egress: the whitelist of cluster my-cluster: 1 IPv4 and 0 IPv6 addresses.
# For both `iptables-restore --noflush FILE` and `ip6tables-restore --noflush FILE`: each loads its own
# family's rules (-4 or -6) and skips the other's. Without --noflush a restore replaces the whole filter
# table. The chain CIVO-EGRESS-ALLOW accepts exactly these addresses and drops nothing: jump to it from
# your own rules, then drop, e.g. `-A INPUT -p tcp --dport 443 -j CIVO-EGRESS-ALLOW` and
# `-A INPUT -p tcp --dport 443 -j DROP`.
*filter
:CIVO-EGRESS-ALLOW - [0:0]
-4 -A CIVO-EGRESS-ALLOW -s 212.2.253.151/32 -j ACCEPT
COMMIT
";

const ARTICLE_TERRAFORM: &str = "\
# civo-egress: the whitelist of cluster my-cluster: 1 IPv4 and 0 IPv6 addresses.
# For a firewall or security group rule: `cidr_blocks = local.civo_egress_cidr_blocks`,
# `ipv6_cidr_blocks = local.civo_egress_ipv6_cidr_blocks`.
locals {
  civo_egress_cidr_blocks      = [\"212.2.253.151/32\"]
  civo_egress_ipv6_cidr_blocks = []
}
";

#[test]
fn article_topology_renders_the_golden_text_of_each_format() {
    let w = article();
    assert_eq!(render(&w, WhitelistFormat::Text), "212.2.253.151/32\n");
    assert_eq!(render(&w, WhitelistFormat::Nftables), ARTICLE_NFTABLES);
    assert_eq!(render(&w, WhitelistFormat::Iptables), ARTICLE_IPTABLES);
    assert_eq!(render(&w, WhitelistFormat::Terraform), ARTICLE_TERRAFORM);
}

#[test]
fn json_is_the_pretty_binding_array_with_a_newline() {
    let w = article();
    let json = render(&w, WhitelistFormat::Json);
    assert_eq!(json, format!("{}\n", serde_json::to_string_pretty(&w).unwrap()));
    let back: Whitelist = serde_json::from_str(&json).unwrap();
    assert_eq!(back.cidrs().collect::<Vec<_>>(), w.cidrs().collect::<Vec<_>>());
    assert_eq!(render(&Whitelist::default(), WhitelistFormat::Json), "[]\n");
}

#[test]
fn dual_stack_puts_each_family_in_its_own_set_rule_and_list() {
    let w = dual_stack();
    let nft = render(&w, WhitelistFormat::Nftables);
    assert!(nft.starts_with("# civo-egress: the whitelist of clusters prod, staging: 2 IPv4 and 2 IPv6 addresses.\n"));
    assert!(nft.ends_with(concat!(
        "flush set inet civo_egress egress_v4\n",
        "flush set inet civo_egress egress_v6\n",
        "add element inet civo_egress egress_v4 {\n\t74.220.24.10,\n\t74.220.24.77\n}\n",
        "add element inet civo_egress egress_v6 {\n\t2a00:1450::10,\n\t2a00:1450::44\n}\n",
    )));
    let iptables = render(&w, WhitelistFormat::Iptables);
    assert!(iptables.ends_with(concat!(
        "*filter\n:CIVO-EGRESS-ALLOW - [0:0]\n",
        "-4 -A CIVO-EGRESS-ALLOW -s 74.220.24.10/32 -j ACCEPT\n",
        "-4 -A CIVO-EGRESS-ALLOW -s 74.220.24.77/32 -j ACCEPT\n",
        "-6 -A CIVO-EGRESS-ALLOW -s 2a00:1450::10/128 -j ACCEPT\n",
        "-6 -A CIVO-EGRESS-ALLOW -s 2a00:1450::44/128 -j ACCEPT\n",
        "COMMIT\n",
    )));
    let terraform = render(&w, WhitelistFormat::Terraform);
    assert!(terraform.ends_with(concat!(
        "locals {\n",
        "  civo_egress_cidr_blocks      = [\"74.220.24.10/32\", \"74.220.24.77/32\"]\n",
        "  civo_egress_ipv6_cidr_blocks = [\"2a00:1450::10/128\", \"2a00:1450::44/128\"]\n",
        "}\n",
    )));
}

#[test]
fn an_empty_whitelist_still_defines_both_sets_the_chain_and_both_lists() {
    let w = Whitelist::of_allowing_empty(&Topology::empty());
    let nft = render(&w, WhitelistFormat::Nftables);
    assert!(nft.starts_with("# civo-egress: the whitelist of no cluster: 0 IPv4 and 0 IPv6 addresses.\n"));
    assert!(nft.ends_with("flush set inet civo_egress egress_v4\nflush set inet civo_egress egress_v6\n"));
    assert!(!nft.contains("add element"));
    assert!(render(&w, WhitelistFormat::Iptables).ends_with("*filter\n:CIVO-EGRESS-ALLOW - [0:0]\nCOMMIT\n"));
    assert!(
        render(&w, WhitelistFormat::Terraform)
            .ends_with("locals {\n  civo_egress_cidr_blocks      = []\n  civo_egress_ipv6_cidr_blocks = []\n}\n")
    );
    assert_eq!(render(&w, WhitelistFormat::Text), "");
}

#[test]
fn cluster_names_cannot_end_a_comment_or_a_string() {
    let topology = Topology::from_json(
        r#"{"clusters": [{"name": "evil\n}\ntable ip x { chain y { type filter hook input priority 0; drop; } }\n\"'\\`\u2028", "egress_ip": "74.220.24.10"}]}"#,
    )
    .unwrap();
    let w = Whitelist::of(&topology).unwrap();
    for &format in &[WhitelistFormat::Nftables, WhitelistFormat::Iptables, WhitelistFormat::Terraform] {
        let text = render(&w, format);
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("# civo-egress: the whitelist of cluster evil_}_table ip x"), "{format}: {first}");
        assert!(first.ends_with("______: 1 IPv4 and 0 IPv6 addresses."), "{format}: {first}");
        assert!(!text.contains("table ip x {\n") && !text.contains('\u{2028}'));
        assert!(text.lines().all(|l| !l.starts_with("table ip x")), "{format}");
    }
}

#[test]
fn a_destination_whitelist_says_so_in_its_header() {
    let topology = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
          "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}]}]}"#,
    )
    .unwrap();
    let w =
        Whitelist::builder(&topology).destination("192.168.1.50".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let iptables = render(&w, WhitelistFormat::Iptables);
    assert!(iptables.starts_with(
        "# civo-egress: the whitelist of cluster prod, for destination 192.168.1.50: 1 IPv4 and 0 IPv6 addresses.\n"
    ));
    assert!(iptables.contains("-4 -A CIVO-EGRESS-ALLOW -s 192.168.1.4/32 -j ACCEPT\n"));
}

#[test]
fn formats_have_stable_names_that_round_trip() {
    let names: Vec<&str> = WhitelistFormat::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(names, ["text", "json", "nftables", "iptables", "terraform"]);
    for &format in WhitelistFormat::ALL {
        assert_eq!(format.to_string().parse::<WhitelistFormat>().unwrap(), format);
        assert_eq!(serde_json::to_string(&format).unwrap(), format!("\"{format}\""));
        assert_eq!(serde_json::from_str::<WhitelistFormat>(&format!("\"{format}\"")).unwrap(), format);
        assert_eq!(article().render(format).format(), format);
    }
    let err: ParseNameError = "ip6tables".parse::<WhitelistFormat>().unwrap_err();
    assert_eq!((err.what(), err.value()), ("whitelist format", "ip6tables"));
}

const PARTNER: &str = "\
# partner firewall
212.2.253.151   # the egress IP

10.0.0.0/8
212.2.251.1
8.8.8.8
";

/// The audit of `list` against the article's cluster.
fn audit_article(list: &Allowlist) -> AuditReport {
    Audit::builder(&Topology::from_json(ARTICLE).unwrap()).build().unwrap().run(list)
}

fn partner_report() -> AuditReport {
    audit_article(&PARTNER.parse().unwrap())
}

#[test]
fn findings_carry_the_line_of_their_entry() {
    let report = partner_report();
    let lines: Vec<(FindingKind, Option<usize>, &str)> =
        report.findings().iter().map(|f| (f.kind(), f.line(), f.entry())).collect();
    assert_eq!(
        lines,
        [
            (FindingKind::TooBroad, Some(4), "10.0.0.0/8"),
            (FindingKind::Covers(IpClass::LoadBalancer), Some(5), "212.2.251.1"),
            (FindingKind::Covers(IpClass::Public), Some(6), "8.8.8.8"),
        ]
    );
    // Nothing covers the egress IP? It is on line 2, so no missing-egress finding.
    let missing = audit_article(&"8.8.8.8\n".parse().unwrap());
    let last = missing.findings().last().unwrap();
    assert_eq!((last.kind(), last.line()), (FindingKind::MissingEgress, None));
    // Entries built from CIDRs come from no line.
    let built: Allowlist = ["10.42.0.0/16".parse::<civo_egress::ipnet::IpNet>().unwrap()].into_iter().collect();
    let report = audit_article(&built);
    assert!(report.findings().iter().all(|f| f.line().is_none()));
}

#[test]
fn node_findings_have_no_line_and_covering_entries_do() {
    let topology = Topology::from_json(
        r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
          "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}, {"name": "w-2", "private_ip": "192.168.1.5"}]}]}"#,
    )
    .unwrap();
    let list: Allowlist = "192.168.1.4\n10.42.0.0/16\n".parse().unwrap();
    let report = Audit::builder(&topology)
        .destination("192.168.1.50".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
        .run(&list);
    let lines: Vec<_> = report.findings().iter().map(|f| (f.kind(), f.line())).collect();
    assert_eq!(lines, [(FindingKind::Covers(IpClass::Pod), Some(2)), (FindingKind::MissingNode, None)]);
}

#[test]
fn the_audit_json_carries_the_line_or_null_and_reads_back() {
    let report = partner_report();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["findings"][0]["line"], 4);
    let missing = audit_article(&"8.8.8.8\n".parse().unwrap());
    let json_missing = serde_json::to_value(&missing).unwrap();
    let last = json_missing["findings"].as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "missing-egress");
    assert!(last.as_object().unwrap().contains_key("line") && last["line"].is_null());
    assert_eq!(serde_json::from_value::<AuditReport>(json).unwrap(), report);
    // A report written before lines existed still reads, with no line.
    let old: AuditReport = serde_json::from_str(
        r#"{"ok": false, "findings": [{"entry": "x", "kind": "pod", "severity": "error", "clusters": [], "reason": "r"}]}"#,
    )
    .unwrap();
    assert_eq!(old.findings()[0].line(), None);
}

#[test]
fn the_compiler_like_text_names_the_file_and_line_of_each_finding() {
    let report = partner_report();
    let text = report.display_with_path("partner.txt").to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), report.findings().len());
    for (line, finding) in lines.iter().zip(report.findings()) {
        let severity = finding.severity().as_str();
        let want = match finding.line() {
            Some(n) => format!("partner.txt:{n}: {severity}: {}", finding.reason()),
            None => format!("partner.txt: {severity}: {}", finding.reason()),
        };
        assert_eq!(*line, want);
    }
    assert!(lines[0].starts_with("partner.txt:4: error: 10.0.0.0/8 is too broad"));
    assert!(lines[2].starts_with("partner.txt:6: info: covers public addresses"));
    let missing = audit_article(&"8.8.8.8\n".parse().unwrap());
    let text = missing.display_with_path("-").to_string();
    assert!(text.ends_with(&format!("-: error: {}\n", missing.findings().last().unwrap().reason())));
    assert!(text.lines().last().unwrap().starts_with("-: error: no entry allows egress IP 212.2.253.151"));
    let clean = audit_article(&"212.2.253.151\n".parse().unwrap());
    assert_eq!(clean.display_with_path("ok.txt").to_string(), "");
}
