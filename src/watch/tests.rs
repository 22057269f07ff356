//! The pure step (`WatchState::refreshed` / `failed`) as tables: each row a
//! refresh's outcome, the exact events it must give, and a check of the
//! state after it. Then the events' JSON, kind by kind.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::state::{Judged, Refreshed};
use super::{Event, EventKind, WatchState};
use crate::{Allowlist, Cluster, EgressStatus, LeftOut, Node, PublicIpPool, Topology, Warning, WarningKind};

use EgressStatus::{Confirmed, Expected, Mismatch, Unknown, Unverified};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn ips(texts: &[&str]) -> Vec<IpAddr> {
    texts.iter().map(|t| ip(t)).collect()
}

/// The i-th refresh's time: a minute apart.
fn at(i: usize) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_572_800 + 60 * i as u64)
}

const PROD: &str = "LON1/prod";
const STAGING: &str = "LON1/staging";

/// `prod`: gateway `gateway`, a public-IP pool `edge` with `pending` nodes
/// without their IP (and the caveat discovery gives then), one node per
/// `pool_ips`.
fn prod(gateway: &str, pending: u32, pool_ips: &[&str]) -> Cluster {
    let mut b = Cluster::builder("prod").region("LON1").id("p-1").egress_ip(ip(gateway));
    b = b.public_ip_pool(PublicIpPool::new("edge", pending).unwrap());
    b = b.node(Node::new("gw", ip("192.168.1.3")).unwrap().with_public_ip(ip(gateway)));
    for (i, public) in pool_ips.iter().enumerate() {
        b = b.node(
            Node::new(format!("edge-{i}"), ip(&format!("192.168.1.{}", 10 + i))).unwrap().with_public_ip(ip(public)),
        );
    }
    if pending > 0 {
        b = b.caveat(Warning::new(WarningKind::PublicIpPending, format!("{pending} node(s) of pool edge")));
    }
    b.build().unwrap()
}

fn staging() -> Cluster {
    Cluster::builder("staging").region("LON1").id("s-1").egress_ip(ip("74.220.26.44")).build().unwrap()
}

fn topo(clusters: Vec<Cluster>) -> Topology {
    Topology::new(clusters, vec![], vec![]).unwrap()
}

fn lists(lists: &[(&str, &str)]) -> Vec<(String, Allowlist)> {
    lists.iter().map(|(name, text)| ((*name).to_owned(), Allowlist::parse(text).unwrap())).collect()
}

/// `partner` lacks the pool nodes' IPs; `wide` covers them all.
fn two_lists() -> Vec<(String, Allowlist)> {
    lists(&[("partner", "74.220.24.10\n74.220.24.11\n74.220.26.44\n"), ("wide", "74.220.24.0/22\n")])
}

enum In {
    /// A successful refresh: topology, allowlists, verdicts (observing when
    /// some), account warnings.
    Ok(Topology, Vec<(String, Allowlist)>, Vec<Judged>, Vec<Warning>),
    Fail(&'static str),
}

fn ok(topology: Topology, allowlists: Vec<(String, Allowlist)>) -> In {
    In::Ok(topology, allowlists, vec![], vec![])
}

/// One refresh: what it gathered, the exact events, a check of the state
/// (given the refresh's time).
type Row = (&'static str, In, Vec<EventKind>, fn(&WatchState, SystemTime));

fn run(rows: Vec<Row>) -> WatchState {
    let mut state = WatchState::default();
    for (i, (what, input, want, check)) in rows.into_iter().enumerate() {
        let took = Duration::from_millis(5);
        let got = match input {
            In::Ok(topology, allowlists, verdicts, warnings) => state.refreshed(Refreshed {
                topology: &topology,
                cluster_warnings: vec![],
                stale_allowlists: vec![],
                warnings,
                allowlists: &allowlists,
                observing: !verdicts.is_empty(),
                verdicts,
                now: at(i),
                took,
            }),
            In::Fail(error) => {
                let before = state.clone();
                let events = state.failed(error.to_owned(), took);
                assert_eq!(
                    (state.clusters(), state.warnings()),
                    (before.clusters(), before.warnings()),
                    "row {i}: kept"
                );
                events
            }
        };
        assert_eq!(got, want, "row {i} ({what})");
        check(&state, at(i));
    }
    state
}

fn cluster<'a>(state: &'a WatchState, label: &str) -> &'a super::ClusterState {
    state.clusters().iter().find(|c| c.cluster() == label).unwrap()
}

fn added(cluster: &str, id: &str, egress: &[&str], status: EgressStatus) -> EventKind {
    EventKind::ClusterAdded { cluster: cluster.into(), cluster_id: Some(id.into()), egress_ips: ips(egress), status }
}

fn changed(added: &[&str], removed: &[&str]) -> EventKind {
    EventKind::EgressChanged { cluster: PROD.into(), added: ips(added), removed: ips(removed) }
}

fn covered(allowlist: &str, cluster: &str) -> EventKind {
    EventKind::AllowlistCovered { allowlist: allowlist.into(), cluster: cluster.into() }
}

fn uncovered(allowlist: &str, cluster: &str, missing: &[&str]) -> EventKind {
    let (allowlist, cluster) = (allowlist.into(), cluster.into());
    EventKind::AllowlistUncovered { allowlist, cluster, missing: ips(missing), incomplete: false }
}

/// Not covered because the cluster's egress set is not fully known.
fn unknown(allowlist: &str, cluster: &str, missing: &[&str]) -> EventKind {
    let (allowlist, cluster) = (allowlist.into(), cluster.into());
    EventKind::AllowlistUncovered { allowlist, cluster, missing: ips(missing), incomplete: true }
}

fn verdict(cluster: &str, from: EgressStatus, to: EgressStatus) -> EventKind {
    EventKind::VerdictChanged { cluster: cluster.into(), from, to }
}

fn left(cluster: &str, reason_kind: WarningKind, reason: &str) -> EventKind {
    EventKind::ClusterLeftOut { cluster: cluster.into(), reason_kind, reason: reason.into() }
}

#[test]
fn a_cluster_through_its_changes() {
    let pending = || topo(vec![prod("74.220.24.10", 1, &["74.220.24.77"]), staging()]);
    let moved = || topo(vec![prod("74.220.24.11", 1, &["74.220.24.77"]), staging()]);
    let complete = || topo(vec![prod("74.220.24.11", 0, &["74.220.24.77", "74.220.24.78"]), staging()]);
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("first refresh", ok(pending(), two_lists()), vec![
            added(PROD, "p-1", &["74.220.24.10", "74.220.24.77"], Unverified),
            EventKind::Incomplete { cluster: PROD.into(), pending: 1 },
            // A pool node waits for its IP: no allowlist covers prod yet,
            // not even wide, which lets in every IP known.
            unknown("partner", PROD, &["74.220.24.77"]),
            unknown("wide", PROD, &[]),
            added(STAGING, "s-1", &["74.220.26.44"], Expected),
            covered("partner", STAGING),
            covered("wide", STAGING),
        ], |s, now| {
            assert_eq!((s.refresh().refreshes(), s.refresh().last_success()), (1, Some(now)));
            let p = cluster(s, PROD);
            assert_eq!((p.pending(), p.changes(), p.last_change(), p.status()), (1, 0, None, Unverified));
            assert_eq!(p.allowlists()[0].missing(), ips(&["74.220.24.77"]));
            assert!(cluster(s, STAGING).is_clear() && !p.is_clear() && !s.is_clear());
            assert_eq!(s.allowlists(), ["partner", "wide"]);
        }),
        ("the same again", ok(pending(), two_lists()), vec![], |s, _| {
            assert_eq!((s.refresh().refreshes(), cluster(s, PROD).changes()), (2, 0));
        }),
        // partner lists both gateways: what it lacks (.77) is unchanged.
        ("gateway replaced", ok(moved(), two_lists()), vec![changed(&["74.220.24.11"], &["74.220.24.10"])], |s, now| {
            let p = cluster(s, PROD);
            assert_eq!((p.changes(), p.last_change()), (1, Some(now)));
            assert_eq!(p.egress_ips(), ips(&["74.220.24.11", "74.220.24.77"]));
        }),
        ("the pool node gets its IP", ok(complete(), two_lists()), vec![
            changed(&["74.220.24.78"], &[]),
            EventKind::Complete { cluster: PROD.into(), pending: 0 },
            // The verdict lost its doubt (unverified to expected), told as
            // `complete`: verdict-changed is observation's alone. The set
            // is known now: partner lacks two, wide covers it at last.
            uncovered("partner", PROD, &["74.220.24.77", "74.220.24.78"]),
            covered("wide", PROD),
        ], |s, now| {
            let p = cluster(s, PROD);
            assert_eq!((p.pending(), p.changes(), p.last_change(), p.status()), (0, 2, Some(now), Expected));
            assert!(!s.is_clear(), "partner still lacks the pool's IPs");
        }),
        ("the API fails", In::Fail("the Civo API answered 500"), vec![
            EventKind::RefreshFailed { error: "the Civo API answered 500".into() },
        ], |s, _| {
            let r = s.refresh();
            assert_eq!((r.refreshes(), r.errors(), r.failures_in_a_row()), (5, 1, 1));
            assert_eq!((r.last_error(), r.succeeded(), r.last_success()), (Some("the Civo API answered 500"), false, Some(at(3))));
            assert_eq!(cluster(s, PROD).egress_ips(), ips(&["74.220.24.11", "74.220.24.77", "74.220.24.78"]), "kept");
            assert_eq!(cluster(s, PROD).changes(), 2);
        }),
        ("and again", In::Fail("429"), vec![EventKind::RefreshFailed { error: "429".into() }], |s, _| {
            assert_eq!((s.refresh().errors(), s.refresh().failures_in_a_row(), s.clusters().len()), (2, 2, 2));
        }),
        ("recovers, nothing changed", ok(complete(), two_lists()), vec![
            EventKind::RefreshRecovered { failures: 2 },
        ], |s, now| {
            let r = s.refresh();
            assert_eq!((r.errors(), r.failures_in_a_row(), r.last_error(), r.last_success()), (2, 0, None, Some(now)));
        }),
        ("partner gains the missing IPs", ok(complete(), lists(&[("partner", "74.220.24.0/24\n74.220.26.44\n"), ("wide", "74.220.24.0/22")])), vec![
            covered("partner", PROD),
        ], |s, _| assert!(s.is_clear(), "{s:?}")),
    ];
    run(rows);
}

#[test]
fn a_gateway_change_also_changes_what_the_allowlist_lacks() {
    // To a gateway partner does not list: what it lacks grows, a new uncovered event.
    let first = ok(topo(vec![prod("74.220.24.10", 1, &["74.220.24.77"])]), two_lists());
    let moved = ok(topo(vec![prod("74.220.24.12", 1, &["74.220.24.77"])]), two_lists());
    #[rustfmt::skip]
    run(vec![
        ("first", first, vec![
            added(PROD, "p-1", &["74.220.24.10", "74.220.24.77"], Unverified),
            EventKind::Incomplete { cluster: PROD.into(), pending: 1 },
            unknown("partner", PROD, &["74.220.24.77"]),
            unknown("wide", PROD, &[]),
        ], |_, _| {}),
        ("to an IP partner lacks", moved, vec![
            changed(&["74.220.24.12"], &["74.220.24.10"]),
            unknown("partner", PROD, &["74.220.24.12", "74.220.24.77"]),
        ], |s, _| assert_eq!(cluster(s, PROD).allowlists()[0].missing().len(), 2)),
    ]);
}

/// Staging as a cluster left out (`kind`): its last IPs, `unknown`, no coverage.
fn kept(s: &WatchState, kind: WarningKind) {
    let c = cluster(s, STAGING);
    assert_eq!((c.egress_ips(), c.status(), c.left_out_kind()), (&ips(&["74.220.26.44"])[..], Unknown, Some(kind)));
    assert_eq!((c.cluster_id(), c.region()), (Some("s-1"), Some("LON1")));
    assert!(c.allowlists().iter().all(|a| !a.is_covered() && !a.is_egress_known()), "no coverage claimed");
    assert!(!c.is_clear() && !s.is_clear());
}

#[test]
fn clusters_left_out_or_gone_keep_their_last_ips() {
    let both = || topo(vec![prod("74.220.24.10", 0, &[]), staging()]);
    let not_active = LeftOut::new("staging", WarningKind::NotActive, "status UPGRADING").unwrap();
    let left_out = || {
        topo(vec![prod("74.220.24.10", 0, &[])])
            .with_left_out(vec![not_active.clone().identified(Some("s-1".into()), Some("LON1".into()))])
    };
    let partner = || lists(&[("partner", "74.220.24.10\n74.220.26.44\n")]);
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("first", ok(both(), partner()), vec![
            added(PROD, "p-1", &["74.220.24.10"], Expected), covered("partner", PROD),
            added(STAGING, "s-1", &["74.220.26.44"], Expected), covered("partner", STAGING),
        ], |s, _| assert!(s.is_clear())),
        ("staging left out", ok(left_out(), partner()), vec![
            left(STAGING, WarningKind::NotActive, "status UPGRADING"),
            unknown("partner", STAGING, &[]),
        ], |s, _| {
            kept(s, WarningKind::NotActive);
            let c = cluster(s, STAGING);
            assert_eq!((c.caveats()[0].cluster(), c.caveats()[0].kind()), (Some(STAGING), WarningKind::NotActive));
        }),
        ("left out again: said once", ok(left_out(), partner()), vec![], |s, _| kept(s, WarningKind::NotActive)),
        // Absent while a region could not be read: it may be there, kept.
        ("absent, a region unread", unread(topo(vec![prod("74.220.24.10", 0, &[])]), partner()), vec![
            left(STAGING, WarningKind::RegionFailed, UNREAD),
        ], |s, _| kept(s, WarningKind::RegionFailed)),
        ("back", ok(both(), partner()), vec![
            covered("partner", STAGING),
        ], |s, _| assert!(s.is_clear() && cluster(s, STAGING).left_out_kind().is_none())),
        // Absent from a refresh that read every region: deleted, said, dropped.
        ("deleted", ok(topo(vec![prod("74.220.24.10", 0, &[])]), partner()), vec![
            left(STAGING, WarningKind::ClusterGone, DELETED),
        ], |s, _| assert!(s.clusters().iter().all(|c| c.cluster() != STAGING) && s.is_clear())),
        ("and not said again", ok(topo(vec![prod("74.220.24.10", 0, &[])]), partner()), vec![], |_, _| {}),
    ];
    let state = run(rows);
    assert_eq!(state.clusters().len(), 1, "a deleted cluster leaves no series behind");
}

const UNREAD: &str = "not in the last refresh, which could not read every region";
const DELETED: &str = "deleted: the source read its region and no longer lists it";

/// A refresh that could not read a region.
fn unread(topology: Topology, allowlists: Vec<(String, Allowlist)>) -> In {
    In::Ok(topology, allowlists, vec![], vec![Warning::new(WarningKind::RegionFailed, "FRA1: 503")])
}

#[test]
fn verdicts_with_observing() {
    let t = || topo(vec![prod("74.220.24.10", 0, &[])]);
    let partner = || lists(&[("partner", "74.220.24.10\n")]);
    let saw = |status: EgressStatus, egress: &[&str], warnings: Vec<Warning>| {
        let judged = Judged { cluster: PROD.into(), status, egress_ips: ips(egress), warnings };
        In::Ok(t(), partner(), vec![judged], vec![])
    };
    let mismatch = Warning::new(WarningKind::Mismatch, "observed 74.220.99.1").with_cluster(PROD);
    const GW: &str = "74.220.24.10";
    const SEEN: &str = "74.220.99.1";
    #[rustfmt::skip]
    run(vec![
        ("confirmed", saw(Confirmed, &[GW], vec![]), vec![
            added(PROD, "p-1", &[GW], Confirmed), covered("partner", PROD),
        ], |s, _| assert!(s.is_observing() && s.is_clear())),
        // An IP observed outside the expected set is an egress IP.
        ("mismatch", saw(Mismatch, &[GW, SEEN], vec![mismatch.clone()]), vec![
            changed(&[SEEN], &[]), verdict(PROD, Confirmed, Mismatch), unknown("partner", PROD, &[SEEN]),
        ], |s, now| {
            let p = cluster(s, PROD);
            assert_eq!((p.egress_ips(), p.observed_only()), (&ips(&[GW, SEEN])[..], &ips(&[SEEN])[..]));
            assert_eq!((p.changes(), p.last_change()), (1, Some(now)));
            assert_eq!(p.caveats().iter().map(Warning::kind).collect::<Vec<_>>(), [WarningKind::Mismatch]);
            assert!(!s.is_clear());
        }),
        ("mismatch again", saw(Mismatch, &[GW, SEEN], vec![mismatch]), vec![], |s, _| {
            assert_eq!(cluster(s, PROD).caveats().len(), 1);
        }),
        // Confirmed again: the observed IP is not proven stale, it stays.
        ("confirmed again", saw(Confirmed, &[GW], vec![]), vec![
            verdict(PROD, Mismatch, Confirmed), uncovered("partner", PROD, &[SEEN]),
        ], |s, _| {
            assert_eq!(cluster(s, PROD).observed_only(), ips(&[SEEN]));
            assert!(!s.is_clear(), "partner still lacks the observed IP");
        }),
        ("no observation", ok(t(), partner()), vec![], |s, _| {
            assert!(!s.is_observing());
            assert_eq!(cluster(s, PROD).egress_ips(), ips(&[GW, SEEN]));
        }),
    ]);
}

#[test]
fn account_warnings_that_doubt_egress_are_not_clear() {
    #[rustfmt::skip]
    let rows: &[(WarningKind, bool)] = &[
        // kind, is_clear after a refresh with it as the account's warning
        (WarningKind::RegionFailed, false), // its clusters are unknown
        (WarningKind::RegionEmpty, true),
        (WarningKind::NewerFormat, true),
        (WarningKind::Incomplete, false),
        (WarningKind::LeftOut, false),
        (WarningKind::EgressUnmeasured, false),
    ];
    for &(kind, clear) in rows {
        assert_eq!(kind.doubts_egress() || kind == WarningKind::RegionFailed, !clear, "{kind}");
        let mut state = WatchState::default();
        assert!(!state.is_clear(), "no refresh yet");
        let topology = topo(vec![prod("74.220.24.10", 0, &[])]);
        let warnings = vec![Warning::new(kind, "account-wide")];
        let r = Refreshed {
            topology: &topology,
            cluster_warnings: vec![],
            stale_allowlists: vec![],
            warnings,
            allowlists: &[],
            verdicts: vec![],
            observing: false,
            now: at(0),
            took: Duration::ZERO,
        };
        state.refreshed(r);
        assert_eq!(state.is_clear(), clear, "{kind}");
        assert_eq!(state.warnings().len(), 1);
    }
}

#[test]
fn a_first_refresh_that_fails_then_succeeds() {
    let t = || topo(vec![staging()]);
    #[rustfmt::skip]
    run(vec![
        ("fails", In::Fail("connection refused"), vec![EventKind::RefreshFailed { error: "connection refused".into() }], |s, _| {
            assert!(s.clusters().is_empty() && !s.is_clear() && s.refresh().last_success().is_none());
        }),
        ("succeeds", ok(t(), vec![]), vec![
            EventKind::RefreshRecovered { failures: 1 },
            added(STAGING, "s-1", &["74.220.26.44"], Expected),
        ], |s, _| assert!(s.is_clear())),
    ]);
}

#[test]
fn every_kind_as_json() {
    let status = EgressStatus::Expected;
    #[rustfmt::skip]
    let rows: Vec<(EventKind, &str)> = vec![
        (added(PROD, "p-1", &["74.220.24.10"], status),
         r#"{"kind":"cluster-added","cluster":"LON1/prod","cluster_id":"p-1","egress_ips":["74.220.24.10"],"status":"expected"}"#),
        (EventKind::ClusterAdded { cluster: "prod".into(), cluster_id: None, egress_ips: vec![], status: Unverified },
         r#"{"kind":"cluster-added","cluster":"prod","egress_ips":[],"status":"unverified"}"#),
        (changed(&["74.220.24.11"], &["74.220.24.10"]),
         r#"{"kind":"egress-changed","cluster":"LON1/prod","added":["74.220.24.11"],"removed":["74.220.24.10"]}"#),
        (uncovered("partner", PROD, &["74.220.24.77"]),
         r#"{"kind":"allowlist-uncovered","allowlist":"partner","cluster":"LON1/prod","missing":["74.220.24.77"],"incomplete":false}"#),
        (unknown("partner", PROD, &[]),
         r#"{"kind":"allowlist-uncovered","allowlist":"partner","cluster":"LON1/prod","missing":[],"incomplete":true}"#),
        (covered("partner", PROD), r#"{"kind":"allowlist-covered","allowlist":"partner","cluster":"LON1/prod"}"#),
        (EventKind::RefreshFailed { error: "boom".into() }, r#"{"kind":"refresh-failed","error":"boom"}"#),
        (EventKind::RefreshRecovered { failures: 3 }, r#"{"kind":"refresh-recovered","failures":3}"#),
        (EventKind::Incomplete { cluster: PROD.into(), pending: 2 }, r#"{"kind":"incomplete","cluster":"LON1/prod","pending":2}"#),
        (EventKind::Complete { cluster: PROD.into(), pending: 0 }, r#"{"kind":"complete","cluster":"LON1/prod","pending":0}"#),
        (left(PROD, WarningKind::ClusterGone, "deleted"),
         r#"{"kind":"cluster-left-out","cluster":"LON1/prod","reason_kind":"cluster-gone","reason":"deleted"}"#),
        (verdict(PROD, Confirmed, Mismatch), r#"{"kind":"verdict-changed","cluster":"LON1/prod","from":"confirmed","to":"mismatch"}"#),
        (verdict(PROD, Mismatch, Confirmed), r#"{"kind":"verdict-changed","cluster":"LON1/prod","from":"mismatch","to":"confirmed"}"#),
    ];
    let mut names: Vec<&str> = Vec::new();
    for (kind, json) in &rows {
        assert_eq!(serde_json::to_string(kind).unwrap(), *json, "{}", kind.name());
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(value["kind"], kind.name());
        assert!(kind.to_string().starts_with(&format!("{}: ", kind.name())), "{kind}");
        if !names.contains(&kind.name()) {
            names.push(kind.name());
        }
    }
    assert_eq!(names.len(), 10, "every kind: {names:?}");
}

#[test]
fn an_event_as_json_has_an_rfc3339_time() {
    let kind = EventKind::RefreshRecovered { failures: 1 };
    #[rustfmt::skip]
    let rows: &[(SystemTime, &str)] = &[
        (at(0), r#"{"time":"2026-12-06T16:00:00Z","kind":"refresh-recovered","failures":1}"#),
        (at(0) + Duration::from_millis(250), r#"{"time":"2026-12-06T16:00:00.25Z","kind":"refresh-recovered","failures":1}"#),
        (UNIX_EPOCH, r#"{"time":"1970-01-01T00:00:00Z","kind":"refresh-recovered","failures":1}"#),
    ];
    for (time, json) in rows {
        let event = Event::new(*time, kind.clone());
        assert_eq!(event.to_json(), *json);
        assert_eq!(serde_json::to_string(&event).unwrap(), *json);
        assert_eq!((event.time(), event.kind()), (*time, &kind));
    }
}

#[test]
fn pending_nodes_are_never_clear_even_without_their_caveat() {
    // A hand-written snapshot may count pending nodes without the
    // `public-ip-pending` caveat: the count alone keeps it from clear.
    let state = run(vec![(
        "pending 2, no caveat",
        ok(topo(vec![prod("74.220.24.10", 2, &[])]), vec![]),
        vec![
            EventKind::ClusterAdded {
                cluster: "LON1/prod".into(),
                cluster_id: Some("p-1".into()),
                egress_ips: ips(&["74.220.24.10"]),
                status: cluster_status_of_prod_with_pending(),
            },
            EventKind::Incomplete { cluster: "LON1/prod".into(), pending: 2 },
        ],
        |s, _| assert!(!s.is_clear(), "2 nodes wait for their IP"),
    )]);
    assert_eq!(state.clusters()[0].pending(), 2);
}

/// What the one rule says of `prod` with pending nodes: whatever its caveats
/// make it, the test above holds (clear needs pending 0 besides).
fn cluster_status_of_prod_with_pending() -> crate::EgressStatus {
    let c = prod("74.220.24.10", 2, &[]);
    crate::verdict::expected_only(&c.label(), &c.egress_ips(), c.caveats())
}

#[test]
fn nothing_watched_is_not_clear() {
    // A mistyped region or another account's key: no cluster at all.
    let state = run(vec![("no cluster", ok(topo(vec![]), lists(&[("partner", "74.220.24.10\n")])), vec![], |s, _| {
        assert!(s.refresh().succeeded() && !s.is_clear());
    })]);
    assert!(state.clusters().is_empty());
}

/// One refresh with what `run`'s rows leave empty.
fn refresh_with(
    state: &mut WatchState,
    topology: &Topology,
    allowlists: &[(String, Allowlist)],
    (cluster_warnings, stale_allowlists): (Vec<Warning>, Vec<String>),
    i: usize,
) -> Vec<EventKind> {
    state.refreshed(Refreshed {
        topology,
        cluster_warnings,
        stale_allowlists,
        warnings: vec![],
        allowlists,
        verdicts: vec![],
        observing: false,
        now: at(i),
        took: Duration::ZERO,
    })
}

#[test]
fn what_else_the_source_says_of_a_cluster_or_a_list_keeps_it_from_covered() {
    let partner = lists(&[("partner", "74.220.26.44\n")]);
    let t = topo(vec![staging()]);
    // A snapshot's egress collision, not among the cluster's caveats.
    let collision = Warning::new(WarningKind::EgressCollision, "a LoadBalancer holds it").with_cluster(STAGING);
    let mut state = WatchState::default();
    let events = refresh_with(&mut state, &t, &partner, (vec![collision], vec![]), 0);
    assert_eq!(events[1..], [unknown("partner", STAGING, &[])], "{events:?}");
    assert_eq!(cluster(&state, STAGING).status(), Unverified);
    assert!(!state.is_clear());
    // Without it, covered; then the file stops reading: not covered for sure.
    let events = refresh_with(&mut state, &t, &partner, (vec![], vec![]), 1);
    assert_eq!(events, [covered("partner", STAGING)]);
    let events = refresh_with(&mut state, &t, &partner, (vec![], vec!["partner".into()]), 2);
    assert_eq!(events, [unknown("partner", STAGING, &[])]);
}

#[test]
fn absent_outside_what_the_refresh_covered_is_left_out_not_deleted() {
    let lon_and_fra = Topology::new(vec![staging(), prod("74.220.24.10", 0, &[])], vec![], vec![]).unwrap();
    let mut state = WatchState::default();
    refresh_with(&mut state, &lon_and_fra, &[], (vec![], vec![]), 0);
    // Rewritten for FRA1 alone: LON1's clusters are outside it, not deleted.
    let fra = Cluster::builder("eu").region("FRA1").id("e-1").egress_ip(ip("74.220.30.1")).build().unwrap();
    let only_fra = topo(vec![fra]).with_coverage(crate::Coverage::new(["FRA1"]).unwrap());
    let events = refresh_with(&mut state, &only_fra, &[], (vec![], vec![]), 1);
    let gone: Vec<&EventKind> = events.iter().filter(|e| e.name() == "cluster-left-out").collect();
    assert_eq!(gone.len(), 2, "{events:?}");
    assert!(gone.iter().all(|e| matches!(e, EventKind::ClusterLeftOut { reason_kind: WarningKind::RegionFailed, .. })));
    assert_eq!(state.clusters().len(), 3, "kept with their last IPs");
}

#[test]
fn first_seen_left_out_then_listed_is_added_not_changed() {
    let building = LeftOut::new("staging", WarningKind::NoEgressIp, "no master_ip yet").unwrap();
    let left = topo(vec![]).with_left_out(vec![building.identified(Some("s-1".into()), Some("LON1".into()))]);
    let mut state = WatchState::default();
    let events = refresh_with(&mut state, &left, &[], (vec![], vec![]), 0);
    assert_eq!(events, [left_event()]);
    let events = refresh_with(&mut state, &topo(vec![staging()]), &[], (vec![], vec![]), 1);
    assert_eq!(events, [added(STAGING, "s-1", &["74.220.26.44"], Expected)]);
    assert_eq!(cluster(&state, STAGING).changes(), 0, "no change counted");
}

fn left_event() -> EventKind {
    left(STAGING, WarningKind::NoEgressIp, "no master_ip yet")
}
