//! `watch --observe`: the verdicts an echo service's answers give.

use serde_json::json;

use super::{
    Account, KEY, PROD, api, echo, kinds, lines, once, run_with, sample, set_cluster, snapshot, stderr, stdout, tmp,
    watch,
};

#[test]
fn observe_judges_the_only_cluster_and_tells_verdict_changes() {
    const LAB: &str = "LON1/lab";
    let topology = tmp("watch-observe.json", "");
    snapshot(&topology, "74.220.24.10");
    let topology = topology.to_str().unwrap();
    let partner = tmp("watch-observe.txt", "74.220.24.10\n");
    let partner = format!("partner={}", partner.display());
    let echo = echo("74.220.24.10\n");
    let observe = ["--observe", "--echo-url", &echo.url, "--quorum", "1"];
    let args =
        [&["--interval", "1", "--topology", topology, "--allowlist", &partner][..], &observe, &["--vantage", "pod"]];
    let mut w = watch(&args.concat());
    let verdict =
        |m: &str, status: &str| sample(m, &format!(r#"civo_egress_verdict{{cluster="{LAB}",status="{status}"}}"#));

    let first = w.batch();
    assert_eq!(kinds(&first), ["cluster-added", "allowlist-covered"], "{first:?}");
    assert_eq!((&first[0]["cluster"], &first[0]["status"]), (&json!(LAB), &json!("confirmed")), "{first:?}");
    assert_eq!(first[0]["egress_ips"], json!(["74.220.24.10"]));
    let m = w.metrics();
    assert_eq!((verdict(&m, "confirmed"), verdict(&m, "mismatch")), (Some(1.0), Some(0.0)), "{m}");

    // The pod leaves from another IP: an egress IP, a mismatch, and the
    // allowlist lacks it.
    echo.set("74.220.99.1\n");
    let moved = w.batch();
    assert_eq!(kinds(&moved), ["egress-changed", "verdict-changed", "allowlist-uncovered"], "{moved:?}");
    assert_eq!((&moved[0]["added"], &moved[0]["removed"]), (&json!(["74.220.99.1"]), &json!([])));
    assert_eq!(
        (&moved[1]["cluster"], &moved[1]["from"], &moved[1]["to"]),
        (&json!(LAB), &json!("confirmed"), &json!("mismatch"))
    );
    assert_eq!((&moved[2]["missing"], &moved[2]["incomplete"]), (&json!(["74.220.99.1"]), &json!(true)));
    let m = w.metrics();
    assert_eq!((verdict(&m, "confirmed"), verdict(&m, "mismatch")), (Some(0.0), Some(1.0)), "{m}");
    let observed =
        format!(r#"civo_egress_ip_info{{cluster="{LAB}",cluster_id="",region="LON1",ip="74.220.99.1",family="v4"}}"#);
    assert_eq!(sample(&m, &observed), Some(1.0), "{m}");
    assert_eq!(sample(&m, r#"civo_egress_allowlist_covered{allowlist="partner",cluster="LON1/lab"}"#), Some(0.0));

    // Back to the expected IP: confirmed again, but the IP once observed
    // stays an egress IP the allowlist lacks, now of a known set.
    echo.set("74.220.24.10\n");
    let back = w.batch();
    assert_eq!(kinds(&back), ["verdict-changed", "allowlist-uncovered"], "{back:?}");
    assert_eq!((&back[0]["from"], &back[0]["to"]), (&json!("mismatch"), &json!("confirmed")));
    assert_eq!((&back[1]["missing"], &back[1]["incomplete"]), (&json!(["74.220.99.1"]), &json!(false)));
    let m = w.metrics();
    assert_eq!((verdict(&m, "confirmed"), verdict(&m, "mismatch")), (Some(1.0), Some(0.0)), "{m}");
    assert_eq!(sample(&m, &observed), Some(1.0), "{m}");
    assert_eq!(w.stop("TERM").code(), Some(0), "{}", w.log());

    // From a host, an observation proves nothing: expected, said so.
    let args =
        [&["watch", "--once", "--topology", topology, "--allowlist", &partner][..], &observe, &["--vantage", "host"]];
    let out = run_with(&args.concat(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let events = lines(&out);
    assert_eq!(kinds(&events), ["cluster-added", "allowlist-covered", "state"], "{}", stdout(&out));
    assert_eq!(events[0]["status"], "expected");
    let state = &events[2];
    assert_eq!(state["clear"], true, "{state}");
    let caveats: Vec<&str> = state["state"]["clusters"][0]["caveats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    // The echo saw the expected IP: the host may share the cluster's egress, which confirms nothing.
    assert_eq!(caveats, ["host-vantage", "host-matches-expected"], "{state}");
}

/// With a cluster left out, the watcher watches two though it built one:
/// what a pod observes may be the left-out cluster's egress, so nothing is
/// judged on it (judged on prod, staging's IP would join prod's egress set
/// for good, and prod turn mismatch).
#[test]
fn a_left_out_cluster_is_not_observed_as_the_other() {
    let api = api(Account::fixture(), 100);
    api.civo.edit_account(|a| set_cluster(a, "staging", "master_ip", json!("")));
    let echo = echo("74.220.26.44\n");
    let out = once(&api, KEY, &["--observe", "--echo-url", &echo.url, "--quorum", "1", "--vantage", "pod"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let events = lines(&out);
    assert_eq!(kinds(&events), ["cluster-added", "cluster-left-out", "state"], "{}", stdout(&out));
    assert_eq!(events[0]["cluster"], PROD);
    assert_eq!(events[0]["status"], "expected", "{}", stdout(&out));
    assert_eq!(events[0]["egress_ips"], json!(["74.220.24.10", "74.220.24.77"]));
    let warnings = events[2]["state"]["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["kind"] == "vantage-unproven"), "{}", events[2]);
}
