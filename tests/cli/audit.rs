//! `audit` through the binary: `--cluster`, the findings' severities and
//! the summary that says which clusters were audited.

use super::{assert_bad_input, run, stderr, stdout, tmp};

/// prod in two regions (one name, two ids) and a staging cluster.
const ACCOUNT: &str = r#"{"clusters": [
  {"name": "prod", "id": "5e0c", "region": "LON1", "egress_ip": "74.220.24.10", "network_cidr": "192.168.1.0/24",
   "network": {"id": "n-lon"}, "nodes": [{"name": "a", "private_ip": "192.168.1.4"}]},
  {"name": "prod", "id": "9b1d", "region": "FRA1", "egress_ip": "74.220.26.44"},
  {"name": "staging", "id": "77aa", "region": "LON1", "egress_ip": "74.220.28.5"}]}"#;

/// The account, in a file of the test's own (tests run in parallel).
fn account(test: &str) -> String {
    tmp(&format!("audit-account-{test}.json"), ACCOUNT).to_str().unwrap().to_owned()
}

#[test]
fn cluster_audits_a_partner_s_list_for_the_cluster_it_serves() {
    let topology = account("partner");
    let list = tmp("audit-partner.txt", "# partner of LON1/prod\n74.220.24.10\n");
    let list = list.to_str().unwrap();
    // For every cluster, the others' egress IPs are missing.
    let every = run(&["audit", "--topology", &topology, list]);
    assert_eq!(every.status.code(), Some(1), "{}", stdout(&every));
    assert!(stdout(&every).contains("no entry allows egress IP 74.220.26.44"), "{}", stdout(&every));
    assert!(stdout(&every).contains("audited for clusters LON1/prod, FRA1/prod, LON1/staging\n"), "{}", stdout(&every));
    // For the one it serves: ok, and said so.
    for name in ["LON1/prod", "5e0c", "lon1/prod"] {
        let out = run(&["audit", "--topology", &topology, "--cluster", name, list]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}{}", stdout(&out), stderr(&out));
        assert_eq!(
            stdout(&out),
            "audited for cluster LON1/prod\nok: the allowlist lets in every egress IP and nothing of the clusters' own\n",
            "{name}"
        );
    }
    // Repeatable; JSON names the audited clusters.
    let out =
        run(&["audit", "--topology", &topology, "--cluster", "staging", "--cluster", "5e0c", "--format", "json", list]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["clusters"], serde_json::json!(["LON1/staging", "LON1/prod"]));
    assert_eq!(json["findings"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["findings"][0]["entry"], "74.220.28.5/32");
}

#[test]
fn a_cluster_name_that_selects_no_one_cluster_is_bad_input() {
    let topology = account("bad");
    let list = tmp("audit-any.txt", "74.220.24.10\n");
    let list = list.to_str().unwrap();
    assert_bad_input(
        &run(&["audit", "--topology", &topology, "--cluster", "nope", list]),
        r#"no cluster named "nope""#,
    );
    let out = run(&["audit", "--topology", &topology, "--cluster", "prod", list]);
    assert_bad_input(&out, r#"cluster name "prod" is ambiguous"#);
    assert!(stderr(&out).contains("LON1/prod (5e0c), FRA1/prod (9b1d)"), "{}", stderr(&out));
    // Before the allowlist is read: a missing file is not what is said.
    let out = run(&["audit", "--topology", &topology, "--cluster", "nope", "/nonexistent/list.txt"]);
    assert_bad_input(&out, "nope");
}

#[test]
fn warnings_are_said_and_do_not_fail_the_audit() {
    let topology = account("warnings");
    let list = tmp("audit-warnings.txt", "74.220.24.0/28  # around the egress IP\n::ffff:74.220.24.10\n");
    let path = list.to_str().unwrap();
    let out = run(&["audit", "--topology", &topology, "--cluster", "LON1/prod", path]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with(&format!("{path}:1: warning: 74.220.24.0/28 lets in 15 other addresses")), "{text}");
    assert!(lines[1].starts_with(&format!("{path}:2: warning: ::ffff:74.220.24.10 is the IPv4-mapped form")), "{text}");
    assert_eq!(lines[2], "audited for cluster LON1/prod");
    assert_eq!(
        lines[3],
        "ok (2 warning(s) above): the allowlist lets in every egress IP and nothing of the clusters' own"
    );
    let out = run(&["audit", "--topology", &topology, "--cluster", "LON1/prod", "--format", "json", path]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let kinds: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("broader-than-needed", "warning"), ("ipv4-mapped", "warning")]);
    assert_eq!(json["ok"], true);
}

#[test]
fn a_catch_all_is_one_error_line() {
    let topology = account("catch-all");
    let list = tmp("audit-catch-all.txt", "0.0.0.0/0\n");
    let path = list.to_str().unwrap();
    let out = run(&["audit", "--topology", &topology, path]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let findings: Vec<&str> = text.lines().filter(|l| l.starts_with(path)).collect();
    assert_eq!(findings.len(), 1, "{text}");
    assert!(findings[0].starts_with(&format!("{path}:1: error: 0.0.0.0/0 is too broad")), "{text}");
    assert!(text.ends_with("1 error(s)\n"), "{text}");
}

#[test]
fn cluster_and_destination_combine() {
    let topology = account("db");
    let list = tmp("audit-db.txt", "192.168.1.4\n");
    let path = list.to_str().unwrap();
    let out = run(&["audit", "--topology", &topology, "--cluster", "5e0c", "--destination", "192.168.1.50", path]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out),
        "audited for cluster LON1/prod\nok: the allowlist lets in every node IP and nothing of the clusters' own\n"
    );
}
