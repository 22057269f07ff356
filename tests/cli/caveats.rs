//! What the snapshot knows beside its resources, through the binary: every
//! command says it, in the exit code, on stderr and in the files it writes.

use super::{run, stderr, stdout, tmp};

/// A cluster whose egress was never measured (Cilium), with a VLAN network
/// and no gateway instance, as `discover` records it.
const CILIUM: &str = r#"{"clusters": [{"name": "edge", "id": "c1", "region": "LON1", "egress_ip": "212.2.253.151",
  "network_cidr": "192.168.1.0/24", "network": {"id": "n1", "name": "vlan-net"},
  "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}],
  "caveats": [
    {"kind": "egress-unmeasured", "message": "k3s/cilium: a single egress IP was measured on K3s with flannel only; verify it by observing"},
    {"kind": "vlan-connected", "network": "vlan-net", "message": "network vlan-net is connected to customer VLAN 42: that VLAN's gateway may carry egress"},
    {"kind": "gateway-missing", "message": "no instance carries its master_ip 212.2.253.151"}]}]}"#;

/// Two clusters called prod, in two regions, on networks with one CIDR.
const TWINS: &str = r#"{"clusters": [
  {"name": "prod", "id": "5e0c", "region": "LON1", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24",
   "network": {"id": "n-lon"}, "nodes": [{"name": "a", "private_ip": "192.168.1.4"}]},
  {"name": "prod", "id": "9b1d", "region": "FRA1", "egress_ip": "74.220.26.44", "network_cidr": "192.168.1.0/24",
   "network": {"id": "n-fra"}, "nodes": [{"name": "b", "private_ip": "192.168.1.5"}]}]}"#;

#[test]
fn every_firewall_file_carries_the_caveats_and_audit_fails_on_them() {
    let path = tmp("cilium.json", CILIUM);
    let topology = path.to_str().unwrap();
    for format in ["text", "nftables", "iptables", "terraform"] {
        let out = run(&["whitelist", "--topology", topology, "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        let file = stdout(&out);
        for (kind, said) in [
            ("egress-unmeasured", "k3s/cilium"),
            ("vlan-connected", "network vlan-net is connected"),
            ("gateway-missing", "no instance carries"),
        ] {
            assert!(file.contains(&format!("# warning: {kind}: cluster LON1/edge: ")), "{format}: {file}");
            assert!(
                stderr(&out).contains(&format!("warning: cluster LON1/edge: {said}")),
                "{format}: stderr too: {}",
                stderr(&out)
            );
        }
        assert!(file.contains("# NOT VERIFIED: "), "{format}: {file}");
    }
    let json = run(&["whitelist", "--topology", topology, "--format", "json"]);
    let array: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(array.as_array().map(Vec::len), Some(1), "the binding array, unchanged");
    // `whitelist | audit -` tells the same story: not all clear.
    let written = tmp("cilium-allowlist.txt", &stdout(&run(&["whitelist", "--topology", topology])));
    let audit = run(&["audit", "--topology", topology, "--format", "json", written.to_str().unwrap()]);
    assert_eq!(audit.status.code(), Some(1), "{}", stderr(&audit));
    let report: serde_json::Value = serde_json::from_str(&stdout(&audit)).unwrap();
    let kinds: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["unverified-egress"; 3]);
    // classify says it where it changes the answer.
    let classify = run(&["classify", "--topology", topology, "212.2.253.151"]);
    assert!(stdout(&classify).contains("but not verified: egress-unmeasured"), "{}", stdout(&classify));
}

#[test]
fn an_ambiguous_cluster_name_is_refused_with_how_to_name_one() {
    let path = tmp("twins.json", TWINS);
    let topology = path.to_str().unwrap();
    let out = run(&["whitelist", "--topology", topology, "--cluster", "prod"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("LON1/prod (5e0c)") && err.contains("FRA1/prod (9b1d)") && err.contains("REGION/NAME"),
        "{err}"
    );
    let one = run(&["whitelist", "--topology", topology, "--cluster", "fra1/prod"]);
    assert_eq!((one.status.code(), stdout(&one).as_str()), (Some(0), "74.220.26.44/32\n"), "{}", stderr(&one));
    let by_id = run(&["whitelist", "--topology", topology, "--cluster", "5e0c"]);
    assert_eq!(stdout(&by_id), "74.220.24.10/32\n");
    // Both clusters are in the account's whitelist.
    assert_eq!(stdout(&run(&["whitelist", "--topology", topology])), "74.220.24.10/32\n74.220.26.44/32\n");
}

#[test]
fn a_destination_in_two_networks_with_one_cidr_is_refused_never_a_union() {
    let path = tmp("twins-db.json", TWINS);
    let topology = path.to_str().unwrap();
    for command in ["whitelist", "audit"] {
        let mut args = vec![command, "--topology", topology, "--destination", "192.168.1.50"];
        let allowlist = tmp("empty-allowlist.txt", "# nothing yet\n");
        if command == "audit" {
            args.push(allowlist.to_str().unwrap());
        }
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{command}: nothing on stdout");
        let err = stderr(&out);
        assert!(err.contains("several clusters") && err.contains("--cluster"), "{command}: {err}");
    }
    let chosen = run(&["whitelist", "--topology", topology, "--destination", "192.168.1.50", "--cluster", "LON1/prod"]);
    assert_eq!(stdout(&chosen), "192.168.1.4/32\n", "{}", stderr(&chosen));
}

#[test]
fn a_destination_in_an_unknown_network_is_refused() {
    let json = r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
      "caveats": [{"kind": "networks-unknown", "message": "the API key may not list networks (HTTP 403)"}]}]}"#;
    let path = tmp("no-networks.json", json);
    let out = run(&["whitelist", "--topology", path.to_str().unwrap(), "--destination", "192.168.1.50"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "never the egress IPs as a guess");
    assert!(stderr(&out).contains("network is unknown"), "{}", stderr(&out));
    let partner = run(&["whitelist", "--topology", path.to_str().unwrap(), "--destination", "8.8.8.8"]);
    assert_eq!(stdout(&partner), "212.2.253.151/32\n");
}

#[test]
fn left_out_clusters_and_contradictions_are_said_by_every_command() {
    let json = r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
        "load_balancers": [{"name": "lb", "public_ip": "212.2.253.151"}]}],
      "left_out": [{"name": "new", "region": "LON1", "kind": "not-active", "reason": "status BUILDING, no master_ip yet"}]}"#;
    let path = tmp("left-out.json", json);
    let topology = path.to_str().unwrap();
    let allowlist = tmp("allow-egress.txt", "212.2.253.151\n");
    for args in [
        vec!["classify", "--topology", topology, "8.8.8.8"],
        vec!["whitelist", "--topology", topology],
        vec!["audit", "--topology", topology, allowlist.to_str().unwrap()],
        vec!["diff", topology, topology],
    ] {
        let out = run(&args);
        let err = stderr(&out);
        assert!(err.contains("cluster LON1/new: left out of the snapshot"), "{args:?}: {err}");
        assert!(err.contains("egress IP 212.2.253.151 is also LoadBalancer lb"), "{args:?}: {err}");
        assert_eq!(
            err.matches("left out of the snapshot").count(),
            if args[0] == "diff" { 2 } else { 1 },
            "{args:?}: {err}"
        );
    }
    let whitelist = run(&["whitelist", "--topology", topology, "--format", "nftables"]);
    let file = stdout(&whitelist);
    assert!(file.contains("# INCOMPLETE: ") && file.contains("# warning: left-out: cluster LON1/new"), "{file}");
    assert!(file.contains("# warning: egress-collision: cluster prod"), "{file}");
    let audit = run(&["audit", "--topology", topology, allowlist.to_str().unwrap()]);
    assert_eq!(audit.status.code(), Some(1), "a left-out cluster is never all clear: {}", stdout(&audit));
}

#[test]
fn unknown_fields_are_refused_unless_allowed_and_a_newer_format_is_read_with_a_warning() {
    let typo = tmp("typo.json", r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "caveat": []}]}"#);
    let typo = typo.to_str().unwrap();
    let out = run(&["whitelist", "--topology", typo]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown field (did you mean caveats?)"), "{}", stderr(&out));
    for args in [
        vec!["whitelist", "--topology", typo, "--allow-unknown-fields"],
        vec!["classify", "--topology", typo, "--allow-unknown-fields", "8.8.8.8"],
        vec!["diff", "--allow-unknown-fields", typo, typo],
    ] {
        let out = run(&args);
        assert!(matches!(out.status.code(), Some(0)), "{args:?}: {}", stderr(&out));
    }
    let newer = tmp(
        "newer.json",
        r#"{"format_version": 3, "clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "egress_mode": "nat"}]}"#,
    );
    let out = run(&["whitelist", "--topology", newer.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("format version 3, newer than this tool's 2"), "{}", stderr(&out));
}

#[test]
fn an_audit_that_could_not_see_everything_says_so_even_when_it_passes() {
    let json = r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
      "caveats": [{"kind": "load-balancers-unknown", "message": "the API key may not list LoadBalancers (HTTP 403)"}]}]}"#;
    let path = tmp("lbs-unknown.json", json);
    let allowlist = tmp("lbs-unknown-allow.txt", "212.2.253.151\n");
    let out = run(&["audit", "--topology", path.to_str().unwrap(), allowlist.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("info") && text.contains("load-balancers-unknown"), "{text}");
    assert!(text.contains("ok as far as the snapshot knows"), "{text}");
    assert!(!text.contains("nothing of the clusters' own"), "no all clear: {text}");
}
