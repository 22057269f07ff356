//! `watch --once`: its exit codes and lines, nothing watched, a cluster
//! not ACTIVE.

use serde_json::{Value, json};

use super::{
    Account, KEY, PROD, PROD_ID, STAGING, api, assert_bad_input, event, fail, kinds, lines, once, run_with,
    set_cluster, stderr, stdout, tmp,
};

#[test]
fn once_exits_0_1_2_3_and_prints_the_state_last() {
    let api = api(Account::fixture(), 1);
    let all = tmp("watch-all.txt", "74.220.24.10\n74.220.24.77/32\n74.220.26.44\n");
    let all = format!("partner={}", all.display());
    let out = once(&api, KEY, &["--allowlist", &all]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(event).collect();
    let want = ["cluster-added", "allowlist-covered", "cluster-added", "allowlist-covered", "state"];
    assert_eq!(kinds(&events), want, "{}", stdout(&out));
    assert_eq!((&events[0]["cluster"], &events[0]["cluster_id"]), (&json!(PROD), &json!(PROD_ID)));
    assert_eq!(events[0]["egress_ips"], json!(["74.220.24.10", "74.220.24.77"]));
    assert_eq!((&events[1]["allowlist"], &events[1]["cluster"]), (&json!("partner"), &json!(PROD)));
    assert_eq!(events[2]["egress_ips"], json!(["74.220.26.44"]));
    let state = &events[4];
    assert_eq!(state["clear"], true);
    let ips: Vec<(&Value, &Value)> =
        state["state"]["clusters"].as_array().unwrap().iter().map(|c| (&c["cluster"], &c["egress_ips"])).collect();
    assert_eq!(
        ips,
        [(&json!(PROD), &json!(["74.220.24.10", "74.220.24.77"])), (&json!(STAGING), &json!(["74.220.26.44"]))]
    );

    let lacking = tmp("watch-lacking.txt", "74.220.24.10\n74.220.26.44\n");
    let out = once(&api, KEY, &["--allowlist", &format!("partner={}", lacking.display())]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(event).collect();
    let uncovered: Vec<&Value> = events.iter().filter(|e| e["kind"] == "allowlist-uncovered").collect();
    assert_eq!(uncovered.len(), 1, "{}", stdout(&out));
    assert_eq!(
        (&uncovered[0]["allowlist"], &uncovered[0]["cluster"], &uncovered[0]["missing"]),
        (&json!("partner"), &json!(PROD), &json!(["74.220.24.77"]))
    );
    assert_eq!(events.last().unwrap()["clear"], false);

    let out = once(&api, KEY, &["--allowlist", &all, "--format", "text"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().all(|l| !l.starts_with('{')), "{text}");
    assert!(text.contains(" cluster-added: LON1/prod leaves from 74.220.24.10, 74.220.24.77 ("), "{text}");
    assert!(text.contains(" allowlist-covered: allowlist partner lets in every egress IP of LON1/staging\n"), "{text}");
    assert!(text.contains("  allowlist partner: covers every egress IP\n"), "{text}");
    assert_eq!(text.lines().last(), Some("clear"), "{text}");

    // Bad input: exit 2 before any refresh.
    assert_bad_input(&once(&api, KEY, &["--allowlist", "nope"]), "expected NAME=FILE");
    assert_bad_input(&once(&api, KEY, &["--allowlist", "p=/nonexistent/p.txt"]), "allowlist p");
    assert_bad_input(&run_with(&["watch", "--once", "--topology", "-"], &[]), "not -");

    // The API's refusal, and its failure after every retry: exit 3, the
    // refresh-failed event still on stdout.
    let refused = once(&api, "wrong-key-4242", &["--allowlist", &all]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("unauthorized") && !stderr(&refused).contains("wrong-key-4242"));
    let before = api.civo.count("/v2/kubernetes/clusters");
    fail(&api, 4);
    let out = once(&api, KEY, &["--allowlist", &all]);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(event).collect();
    assert_eq!(kinds(&events), ["refresh-failed"]);
    assert!(events[0]["error"].as_str().unwrap().contains("500"), "{}", events[0]);
    assert_eq!(api.civo.count("/v2/kubernetes/clusters") - before, 4, "three retries, then the failure");
}

#[test]
fn a_cluster_not_active_is_a_finding_not_left_out() {
    let api = api(Account::fixture(), 100);
    let partner = tmp("watch-not-active.txt", "74.220.24.10\n74.220.24.77\n74.220.26.44\n");
    let partner = format!("p={}", partner.display());
    api.civo.edit_account(|a| set_cluster(a, "staging", "status", json!("BUILDING")));
    let out = once(&api, KEY, &["--allowlist", &partner]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let events = lines(&out);
    let want = ["cluster-added", "allowlist-covered", "cluster-added", "allowlist-uncovered", "state"];
    assert_eq!(kinds(&events), want, "{}", stdout(&out));
    assert_eq!((&events[2]["cluster"], &events[2]["status"]), (&json!(STAGING), &json!("unverified")));
    assert_eq!((&events[3]["missing"], &events[3]["incomplete"]), (&json!([]), &json!(true)));
    assert_eq!(events[4]["clear"], false);
}

#[test]
fn nothing_watched_is_a_finding() {
    let api = api(Account::empty(), 1);
    let out = once(&api, KEY, &[]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let events = lines(&out);
    assert_eq!(kinds(&events), ["state"], "{}", stdout(&out));
    assert_eq!(events[0]["clear"], false);
    assert_eq!(events[0]["state"]["clusters"], json!([]));
    let out = once(&api, KEY, &["--format", "text"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("no cluster"), "{text}");
    assert_eq!(text.lines().last(), Some("not clear: see the findings above"), "{text}");
}
