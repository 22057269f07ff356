//! `civo-egress diff` in the partner's language, through the binary: exit
//! 1 when an egress IP appears as when one disappears, and when something
//! was not compared; never "removed" for a cluster the newer snapshot does
//! not cover.

use super::{run, stderr, stdout, tmp};

/// A snapshot of LON1: prod (with `prod` spliced into it) and staging, and
/// `rest` spliced into the top level.
fn snapshot(file: &str, prod: &str, rest: &str) -> String {
    let json = format!(
        r#"{{"clusters": [
          {{"name": "prod", "id": "p1", "region": "LON1", "egress_ip": "74.220.24.10"{prod}}},
          {{"name": "staging", "id": "s1", "region": "LON1", "egress_ip": "74.220.24.20"}}]{rest}}}"#
    );
    tmp(file, &json).to_str().unwrap().to_owned()
}

/// Runs `diff` in both formats: (exit code, text, JSON).
fn diff(old: &str, new: &str, extra: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let text = run(&[&["diff"], extra, &[old, new]].concat());
    let json = run(&[&["diff", "--format", "json"], extra, &[old, new]].concat());
    assert_eq!(text.status.code(), json.status.code(), "{}", stderr(&text));
    let value = serde_json::from_str(&stdout(&json)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&json)));
    (text.status.code(), stdout(&text), value)
}

#[test]
fn an_appearing_egress_ip_is_drift_as_much_as_a_disappearing_one() {
    let old = snapshot("d-old.json", "", "");
    let cases = [
        (
            "a new public-IP node",
            r#", "nodes": [{"name": "edge-1", "private_ip": "192.168.1.6", "public_ip": "74.220.24.77"}]"#,
            "egress-added",
            "cluster prod: new egress IP 74.220.24.77 (a public-IP node, or a new address family): allow it now",
            Some(1),
        ),
        (
            "an IPv6 egress",
            r#", "egress_ip": ["74.220.24.10", "2a00:1450::10"]"#,
            "egress-added",
            "cluster prod: new egress IP 2a00:1450::10",
            Some(1),
        ),
        (
            "a new public-IP pool",
            r#", "public_ip_pools": [{"id": "edge", "pending": 1}]"#,
            "public-ip-pool-added",
            "cluster prod: new public-IP node pool edge",
            // A pool gone takes no address with it but its nodes' (none here).
            Some(0),
        ),
    ];
    for (what, prod, kind, line, back) in cases {
        // A repeated "egress_ip" is refused: the IPv6 case replaces it.
        let new = if prod.contains("egress_ip") {
            let json = std::fs::read_to_string(&old).unwrap().replacen(r#""egress_ip": "74.220.24.10""#, &prod[2..], 1);
            tmp("d-v6.json", &json).to_str().unwrap().to_owned()
        } else {
            snapshot("d-new.json", prod, "")
        };
        let (code, text, json) = diff(&old, &new, &[]);
        assert_eq!(code, Some(1), "{what}: {text}");
        assert!(text.contains(line), "{what}: {text}");
        assert!(text.contains("drift: a whitelist built from the older snapshot no longer matches"), "{what}: {text}");
        assert_eq!((json["drift"].as_bool(), json["complete"].as_bool()), (Some(true), Some(true)), "{what}");
        assert_eq!(json["changes"][0]["change"], kind, "{what}: {json}");
        // The way back: an egress IP that disappears is drift too.
        let (code, text, _) = diff(&new, &old, &[]);
        assert_eq!(code, back, "{what}, reversed: {text}");
    }
}

#[test]
fn pending_pool_nodes_that_grow_are_drift_and_that_shrink_are_not() {
    let pool = |file: &str, pending: u32| {
        snapshot(file, &format!(r#", "public_ip_pools": [{{"id": "edge", "pending": {pending}}}]"#), "")
    };
    let (one, two) = (pool("d-pending-1.json", 1), pool("d-pending-2.json", 2));
    let (code, text, json) = diff(&one, &two, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("2 node(s) of public-IP pool edge have no public IP yet (was 1)"), "{text}");
    assert_eq!(
        json["changes"][0],
        serde_json::json!({"change": "public-ip-pending-changed", "cluster": "prod", "pool": "edge", "old": 1, "new": 2})
    );
    let (code, text, json) = diff(&two, &one, &[]);
    assert_eq!((code, json["drift"].as_bool()), (Some(0), Some(false)), "{text}");
}

#[test]
fn a_cluster_the_newer_snapshot_left_out_is_unknown_not_removed() {
    let old = snapshot("d-full.json", "", "");
    let left = tmp(
        "d-left.json",
        r#"{"clusters": [{"name": "staging", "id": "s1", "region": "LON1", "egress_ip": "74.220.24.20"}],
            "left_out": [{"name": "prod", "id": "p1", "region": "LON1", "kind": "not-ready",
                          "reason": "a condition is not true"}]}"#,
    );
    let (code, text, json) = diff(&old, left.to_str().unwrap(), &[]);
    assert_eq!(code, Some(1), "not compared is not all clear: {text}");
    assert!(!text.contains("removed") && !text.contains("remove "), "{text}");
    assert!(
        text.contains(
            "not compared: cluster LON1/prod: left out of the newer snapshot (not-ready: a condition is not true)"
        ),
        "{text}"
    );
    assert!(text.contains("keep allowing 74.220.24.10"), "{text}");
    assert_eq!(json["drift"], false);
    assert_eq!(json["complete"], false);
    assert_eq!(json["changes"], serde_json::json!([]));
    assert_eq!(json["warnings"][0]["kind"], "not-compared");
    assert_eq!(json["warnings"][0]["cluster"], "LON1/prod");
}

#[test]
fn snapshots_of_different_regions_are_compared_on_what_both_cover() {
    let lon = snapshot("d-lon.json", "", "");
    let both = tmp(
        "d-both.json",
        r#"{"clusters": [
          {"name": "prod", "id": "p1", "region": "LON1", "egress_ip": "74.220.24.10"},
          {"name": "staging", "id": "s1", "region": "LON1", "egress_ip": "74.220.24.20"},
          {"name": "prod", "id": "p2", "region": "FRA1", "egress_ip": "74.220.26.44"}]}"#,
    );
    let both = both.to_str().unwrap();
    let (code, text, json) = diff(both, &lon, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not compared: cluster FRA1/prod: outside the newer snapshot, which covers LON1"), "{text}");
    assert!(!text.contains("removed"), "{text}");
    assert_eq!((json["drift"].as_bool(), json["changes"].as_array().map(Vec::len)), (Some(false), Some(0)));
    let (code, text, _) = diff(&lon, both, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cluster FRA1/prod: outside the older snapshot"), "{text}");
    assert!(!text.contains("added"), "{text}");
}

#[test]
fn a_cluster_deleted_for_real_is_a_removal() {
    let old = snapshot("d-two.json", "", "");
    let new = tmp(
        "d-one.json",
        r#"{"clusters": [{"name": "prod", "id": "p1", "region": "LON1", "egress_ip": "74.220.24.10"}]}"#,
    );
    let (code, text, json) = diff(&old, new.to_str().unwrap(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.starts_with("cluster staging removed: absent from the newer snapshot, which covers its region"),
        "{text}"
    );
    assert!(text.contains("remove 74.220.24.20"), "{text}");
    assert_eq!(json["changes"][0]["change"], "cluster-removed");
    assert_eq!(json["complete"], true);
}

#[test]
fn caveat_changes_are_reported_without_drift() {
    let old = snapshot("d-plain.json", "", "");
    let new = snapshot(
        "d-caveat.json",
        r#", "caveats": [{"kind": "gateway-missing", "message": "no instance carries its master_ip 74.220.24.10"}]"#,
        "",
    );
    let (code, text, json) = diff(&old, &new, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text, "cluster prod: new caveat gateway-missing: no instance carries its master_ip 74.220.24.10\n");
    assert_eq!(json["changes"][0]["change"], "caveat-added");
    assert_eq!(json["changes"][0]["caveat"]["kind"], "gateway-missing");
    let (code, text, _) = diff(&old, &old, &[]);
    assert_eq!((code, text.as_str()), (Some(0), "no changes\n"));
}

#[test]
fn diff_takes_allow_non_global_like_the_other_commands() {
    let lab = |file: &str, egress: &str| {
        tmp(file, &format!(r#"{{"clusters": [{{"name": "lab", "egress_ip": "{egress}"}}]}}"#))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (old, new) = (lab("d-lab-old.json", "203.0.113.10"), lab("d-lab-new.json", "203.0.113.11"));
    let refused = run(&["diff", &old, &new]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("203.0.113.10"), "{}", stderr(&refused));
    let (code, text, json) = diff(&old, &new, &["--allow-non-global"]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(json["changes"][0]["change"], "egress-changed");
    assert!(text.contains("allow 203.0.113.11 now; remove 203.0.113.10 only once"), "{text}");
}

/// Snapshots that record the selection they were made with are compared on
/// what both cover: a full one against one made with `--cluster prod` says
/// staging was not compared (exit 1: incomplete), and never to remove it;
/// a cluster the newer covers and lacks is still a removal.
#[test]
fn snapshots_of_different_selections_are_compared_on_what_both_cover() {
    let full = snapshot("d-sel-full.json", "", r#", "selection": {"regions": ["LON1"]}"#);
    let prod_only = tmp(
        "d-sel-prod.json",
        r#"{"selection": {"clusters": ["prod"], "regions": ["LON1"]},
            "clusters": [{"name": "prod", "id": "p1", "region": "LON1", "egress_ip": "74.220.24.10"}]}"#,
    );
    let prod_only = prod_only.to_str().unwrap();
    let (code, text, json) = diff(&full, prod_only, &[]);
    assert_eq!(code, Some(1), "incomplete: {text}");
    assert!(
        text.contains(
            "not compared: cluster LON1/staging: outside the newer snapshot, which covers only cluster(s) prod of \
             LON1: its egress IPs are unknown now: keep allowing 74.220.24.20"
        ),
        "{text}"
    );
    assert!(!text.contains("removed") && !text.contains("remove"), "{text}");
    assert_eq!((json["drift"].as_bool(), json["complete"].as_bool()), (Some(false), Some(false)), "{json}");
    assert_eq!(json["changes"], serde_json::json!([]));
    assert_eq!(json["warnings"][0]["kind"], "not-compared");
    assert_eq!(json["warnings"][0]["cluster"], "LON1/staging");

    // The other way round: staging is not added either.
    let (code, text, json) = diff(prod_only, &full, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("cluster LON1/staging: outside the older snapshot, which covers only cluster(s) prod"),
        "{text}"
    );
    assert!(!text.contains("added") && !text.contains("remove"), "{text}");
    assert_eq!(json["changes"], serde_json::json!([]));

    // Two snapshots made for prod: all they cover is compared, all clear.
    let (code, text, json) = diff(prod_only, prod_only, &[]);
    assert_eq!((code, text.as_str(), json["complete"].as_bool()), (Some(0), "no changes\n", Some(true)));

    // Both made for every cluster of LON1, and staging deleted for real.
    let after = tmp(
        "d-sel-after.json",
        r#"{"selection": {"regions": ["LON1"]},
            "clusters": [{"name": "prod", "id": "p1", "region": "LON1", "egress_ip": "74.220.24.10"}]}"#,
    );
    let (code, text, json) = diff(&full, after.to_str().unwrap(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with("cluster staging removed: "), "{text}");
    assert_eq!(
        (json["changes"][0]["change"].as_str(), json["complete"].as_bool()),
        (Some("cluster-removed"), Some(true))
    );
}
