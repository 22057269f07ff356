//! `diff` in the partner's language, through the public API: what appears
//! is drift as much as what disappears; what one snapshot does not cover
//! (left out, another region, a cluster it was not made for) is not
//! compared, never "removed"; pools and caveats are changes of their own.

use civo_egress::{Change, ChangeKind, Topology, TopologyDiff, WarningKind, diff};
use serde_json::{Value, json};

/// A snapshot of `clusters`, with `left_out` records and `extra` top-level
/// fields.
fn snap(clusters: Value, left_out: Value, extra: Value) -> Topology {
    let mut doc = json!({"clusters": clusters, "left_out": left_out});
    if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
        doc.extend(extra);
    }
    Topology::from_json(&doc.to_string()).unwrap()
}

/// A cluster called `name` in `region`, with fields of `extra` added.
fn cluster(name: &str, region: &str, egress: Value, extra: Value) -> Value {
    let mut c = json!({"name": name, "id": format!("id-{region}-{name}"), "region": region, "egress_ip": egress});
    if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
        c.extend(extra);
    }
    c
}

fn prod(extra: Value) -> Value {
    cluster("prod", "LON1", json!("74.220.24.10"), extra)
}

fn staging() -> Value {
    cluster("staging", "LON1", json!("74.220.24.20"), json!({}))
}

fn left(name: &str, region: &str) -> Value {
    json!({"name": name, "id": format!("id-{region}-{name}"), "region": region, "kind": "not-active",
           "reason": "status BUILDING, no master_ip yet"})
}

fn none() -> Value {
    json!([])
}

fn no_extra() -> Value {
    json!({})
}

/// The top-level `selection` of a snapshot made with `discover --cluster`
/// for each of `clusters` (none: every cluster) in `regions`.
fn selection(clusters: &[&str], regions: &[&str]) -> Value {
    json!({"selection": {"clusters": clusters, "regions": regions}})
}

/// `extra` with `more`'s fields too.
fn with(extra: Value, more: Value) -> Value {
    let mut extra = extra;
    if let (Some(extra), Value::Object(more)) = (extra.as_object_mut(), more) {
        extra.extend(more);
    }
    extra
}

/// One case: the older and newer snapshots, and what the diff must say.
struct Row {
    what: &'static str,
    old: Topology,
    new: Topology,
    changes: &'static [ChangeKind],
    not_compared: usize,
    drift: bool,
}

fn rows() -> Vec<Row> {
    use ChangeKind as K;
    let node = |name: &str, private: &str, public: Option<&str>| match public {
        Some(public) => json!({"name": name, "private_ip": private, "public_ip": public}),
        None => json!({"name": name, "private_ip": private}),
    };
    let plain = || snap(json!([prod(no_extra()), staging()]), none(), no_extra());
    let with_node = || {
        snap(
            json!([
                prod(
                    json!({"nodes": [node("w-1", "192.168.1.4", None), node("edge-1", "192.168.1.6", Some("74.220.24.77"))]})
                ),
                staging()
            ]),
            none(),
            no_extra(),
        )
    };
    let pool = |pending: u32| {
        snap(
            json!([prod(json!({"public_ip_pools": [{"id": "edge", "pending": pending}]})), staging()]),
            none(),
            no_extra(),
        )
    };
    let caveat = |kind: &str| {
        snap(
            json!([prod(json!({"caveats": [{"kind": kind, "message": "as discovery saw it"}]})), staging()]),
            none(),
            no_extra(),
        )
    };
    let fra = || cluster("prod", "FRA1", json!("74.220.26.44"), no_extra());
    let spare = || json!({"reserved_ips": [{"name": "spare", "ip": "74.220.27.5"}]});
    // `discover --cluster prod` of LON1, with the selection recorded.
    let prod_only = || snap(json!([prod(no_extra())]), none(), with(selection(&["prod"], &["LON1"]), spare()));
    // `discover` of LON1, with the selection recorded.
    let lon1 = |clusters: Value| snap(clusters, none(), with(selection(&[], &["LON1"]), spare()));
    vec![
        Row { what: "the same snapshot", old: plain(), new: plain(), changes: &[], not_compared: 0, drift: false },
        Row {
            what: "a new public-IP node: the whitelist is short",
            old: plain(),
            new: with_node(),
            changes: &[K::EgressAdded],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a public-IP node gone",
            old: with_node(),
            new: plain(),
            changes: &[K::EgressRemoved],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "an IPv6 egress appears",
            old: plain(),
            new: snap(
                json!([cluster("prod", "LON1", json!(["74.220.24.10", "2a00:1450::10"]), no_extra()), staging()]),
                none(),
                no_extra(),
            ),
            changes: &[K::EgressAdded],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "the gateway replaced",
            old: plain(),
            new: snap(
                json!([cluster("prod", "LON1", json!("74.220.24.11"), no_extra()), staging()]),
                none(),
                no_extra(),
            ),
            changes: &[K::EgressChanged],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a public-IP pool appears",
            old: plain(),
            new: pool(0),
            changes: &[K::PublicIpPoolAdded],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a public-IP pool's pending count grows",
            old: pool(1),
            new: pool(2),
            changes: &[K::PublicIpPendingChanged],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a public-IP pool's pending count shrinks",
            old: pool(2),
            new: pool(1),
            changes: &[K::PublicIpPendingChanged],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a public-IP pool without nodes gone",
            old: pool(0),
            new: plain(),
            changes: &[K::PublicIpPoolRemoved],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a caveat appears",
            old: plain(),
            new: caveat("gateway-missing"),
            changes: &[K::CaveatAdded],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a caveat goes and another comes",
            old: caveat("not-ready"),
            new: caveat("gateway-missing"),
            changes: &[K::CaveatRemoved, K::CaveatAdded],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a cluster deleted for real: the newer covers its region and does not leave it out",
            old: plain(),
            new: snap(json!([staging()]), none(), no_extra()),
            changes: &[K::ClusterRemoved],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a cluster the newer left out is unknown, not removed",
            old: plain(),
            new: snap(json!([staging()]), json!([left("prod", "LON1")]), no_extra()),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a cluster outside the newer's regions is not compared",
            old: snap(json!([prod(no_extra()), fra()]), none(), no_extra()),
            new: snap(json!([prod(no_extra())]), none(), no_extra()),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "an empty newer snapshot covers nothing",
            old: plain(),
            new: snap(none(), none(), no_extra()),
            changes: &[],
            not_compared: 2,
            drift: false,
        },
        Row {
            what: "a new cluster in a region the older covers",
            old: snap(json!([prod(no_extra())]), none(), no_extra()),
            new: plain(),
            changes: &[K::ClusterAdded],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a cluster in a region the older did not cover is not compared",
            old: snap(json!([prod(no_extra())]), none(), no_extra()),
            new: snap(json!([prod(no_extra()), fra()]), none(), no_extra()),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a cluster the older left out, present in the newer",
            old: snap(json!([staging()]), json!([left("prod", "LON1")]), no_extra()),
            new: plain(),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a cluster left out of both",
            old: snap(json!([staging()]), json!([left("prod", "LON1")]), no_extra()),
            new: snap(json!([staging()]), json!([left("prod", "LON1")]), no_extra()),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a new cluster the newer left out (BUILDING)",
            old: plain(),
            new: snap(json!([prod(no_extra()), staging()]), json!([left("dev", "LON1")]), no_extra()),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a left-out cluster's LoadBalancer, kept outside clusters, is not compared either",
            old: snap(
                json!([prod(json!({"load_balancers": [{"name": "ingress", "public_ip": "74.220.25.1"}]})), staging()]),
                none(),
                no_extra(),
            ),
            new: snap(
                json!([staging()]),
                json!([left("prod", "LON1")]),
                json!({"load_balancers": [{"name": "ingress", "public_ip": "74.220.25.1"}]}),
            ),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "reserved IPs of snapshots of different regions are not compared",
            old: snap(
                json!([prod(no_extra())]),
                none(),
                json!({"reserved_ips": [{"name": "spare", "ip": "74.220.27.5"}]}),
            ),
            new: snap(
                json!([prod(no_extra()), fra()]),
                none(),
                json!({"reserved_ips": [{"name": "spare-fra", "ip": "74.220.27.9"}]}),
            ),
            changes: &[],
            not_compared: 2,
            drift: false,
        },
        Row {
            what: "reserved IPs of snapshots of the same regions are compared",
            old: snap(
                json!([prod(no_extra())]),
                none(),
                json!({"reserved_ips": [{"name": "spare", "ip": "74.220.27.5"}]}),
            ),
            new: snap(json!([prod(no_extra())]), none(), no_extra()),
            changes: &[K::ReservedIpRemoved],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a full snapshot, then one made for prod only: staging is not compared",
            old: lon1(json!([prod(no_extra()), staging()])),
            new: prod_only(),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "one made for prod only, then a full snapshot: staging is not compared",
            old: prod_only(),
            new: lon1(json!([prod(no_extra()), staging()])),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a full snapshot written before the selection was recorded, then one made for prod only",
            old: snap(json!([prod(no_extra()), staging()]), none(), spare()),
            new: prod_only(),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "two snapshots made for prod only: compared in full",
            old: prod_only(),
            new: snap(
                json!([cluster("prod", "LON1", json!("74.220.24.11"), no_extra())]),
                none(),
                with(selection(&["prod"], &["LON1"]), spare()),
            ),
            changes: &[K::EgressChanged],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a newer made for prod (by id): staging, named by no query, is not compared",
            old: snap(
                json!([prod(no_extra()), staging()]),
                none(),
                selection(&["id-LON1-prod", "lon1/staging"], &["LON1"]),
            ),
            new: snap(json!([prod(no_extra())]), none(), selection(&["id-LON1-prod"], &["LON1"])),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a newer made for prod and for staging by REGION/NAME, without staging: removed",
            old: lon1(json!([prod(no_extra()), staging()])),
            new: snap(
                json!([prod(no_extra())]),
                none(),
                with(selection(&["prod", "lon1/STAGING"], &["LON1"]), spare()),
            ),
            changes: &[K::ClusterRemoved],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a newer made for staging by id, without it: removed",
            old: lon1(json!([prod(no_extra()), staging()])),
            new: snap(
                json!([prod(no_extra())]),
                none(),
                with(selection(&["prod", "id-LON1-staging"], &["LON1"]), spare()),
            ),
            changes: &[K::ClusterRemoved],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a newer made for a part of a name: not proof enough of a removal",
            old: lon1(json!([prod(no_extra()), staging()])),
            new: snap(json!([prod(no_extra())]), none(), with(selection(&["prod", "stag"], &["LON1"]), spare())),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "both record the selection, and a cluster was deleted for real",
            old: lon1(json!([prod(no_extra()), staging()])),
            new: lon1(json!([prod(no_extra())])),
            changes: &[K::ClusterRemoved],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "both record the selection, a new cluster",
            old: lon1(json!([prod(no_extra())])),
            new: lon1(json!([prod(no_extra()), staging()])),
            changes: &[K::ClusterAdded],
            not_compared: 0,
            drift: false,
        },
        Row {
            what: "a cluster of a region the newer selection did not read is not compared",
            old: snap(json!([prod(no_extra()), fra()]), none(), selection(&[], &["LON1", "FRA1"])),
            new: snap(json!([prod(no_extra())]), none(), selection(&[], &["LON1"])),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a region the newer selection read and found empty: its cluster was deleted",
            old: snap(json!([prod(no_extra()), fra()]), none(), selection(&[], &["LON1", "FRA1"])),
            new: snap(json!([prod(no_extra())]), none(), selection(&[], &["LON1", "FRA1"])),
            changes: &[K::ClusterRemoved],
            not_compared: 0,
            drift: true,
        },
        Row {
            what: "a cluster the newer selection names but left out is not compared",
            old: lon1(json!([prod(no_extra()), staging()])),
            new: snap(json!([staging()]), json!([left("prod", "LON1")]), with(selection(&[], &["LON1"]), spare())),
            changes: &[],
            not_compared: 1,
            drift: false,
        },
        Row {
            what: "a renamed cluster (same id) keeps its egress",
            old: plain(),
            new: snap(
                json!([cluster("production", "LON1", json!("74.220.24.10"), json!({"id": "id-LON1-prod"})), staging()]),
                none(),
                no_extra(),
            ),
            changes: &[K::ClusterRenamed],
            not_compared: 0,
            drift: false,
        },
    ]
}

#[test]
fn the_table() {
    for row in rows() {
        let d = diff(&row.old, &row.new);
        let kinds: Vec<ChangeKind> = d.changes().iter().map(Change::kind).collect();
        assert_eq!(kinds, row.changes, "{}: {d}", row.what);
        assert_eq!(d.warnings().len(), row.not_compared, "{}: {d}", row.what);
        assert!(d.warnings().iter().all(|w| w.kind() == WarningKind::NotCompared), "{}", row.what);
        assert_eq!(d.has_egress_drift(), row.drift, "{}: {d}", row.what);
        assert_eq!(d.is_complete(), row.not_compared == 0, "{}", row.what);
        // What was not compared never reads as a removal.
        for warning in d.warnings() {
            assert!(!warning.message().contains("remove"), "{}: {warning}", row.what);
        }
        // The JSON says the same, and reads back.
        let value = serde_json::to_value(&d).unwrap();
        assert_eq!(value["drift"], row.drift, "{}", row.what);
        assert_eq!(value["complete"], row.not_compared == 0, "{}", row.what);
        assert_eq!(value["warnings"].as_array().map(Vec::len), Some(row.not_compared), "{}", row.what);
        for (change, json) in d.changes().iter().zip(value["changes"].as_array().unwrap()) {
            assert_eq!(json["change"], change.kind().as_str(), "{}", row.what);
        }
        assert_eq!(serde_json::from_value::<TopologyDiff>(value).unwrap(), d, "{}", row.what);
    }
}

#[test]
fn the_text_says_what_the_partner_should_do() {
    let text = |row: &str| {
        let row = rows().into_iter().find(|r| r.what == row).unwrap();
        diff(&row.old, &row.new).to_string()
    };
    let added = text("a new public-IP node: the whitelist is short");
    assert!(added.contains("cluster prod: new egress IP 74.220.24.77"), "{added}");
    assert!(added.contains("allow it now"), "{added}");
    assert!(added.lines().last().unwrap().starts_with("drift: "), "{added}");
    let changed = text("the gateway replaced");
    assert!(changed.contains("allow 74.220.24.11 now; remove 74.220.24.10 only once"), "{changed}");
    let removed = text("a cluster deleted for real: the newer covers its region and does not leave it out");
    assert!(removed.contains("cluster prod removed") && removed.contains("remove 74.220.24.10"), "{removed}");
    let pending = text("a public-IP pool's pending count grows");
    assert!(pending.contains("2 node(s) of public-IP pool edge have no public IP yet (was 1)"), "{pending}");
    let left = text("a cluster the newer left out is unknown, not removed");
    assert!(!left.contains("removed") && !left.contains("remove "), "{left}");
    assert!(
        left.contains("not compared: cluster LON1/prod: left out of the newer snapshot (not-active: status BUILDING"),
        "{left}"
    );
    assert!(left.contains("keep allowing 74.220.24.10"), "{left}");
    assert!(left.ends_with("no changes in what both snapshots cover; 1 thing(s) not compared (above)\n"), "{left}");
    let region = text("a cluster outside the newer's regions is not compared");
    assert!(region.contains("cluster FRA1/prod: outside the newer snapshot, which covers LON1"), "{region}");
    let newer = text("a cluster in a region the older did not cover is not compared");
    assert!(newer.contains("if its pods call you, allow 74.220.26.44"), "{newer}");
    let prod_only = text("a full snapshot, then one made for prod only: staging is not compared");
    assert!(
        prod_only.contains(
            "not compared: cluster LON1/staging: outside the newer snapshot, which covers only cluster(s) prod of \
             LON1: its egress IPs are unknown now: keep allowing 74.220.24.20"
        ),
        "{prod_only}"
    );
    assert!(!prod_only.contains("remove"), "{prod_only}");
    assert!(prod_only.ends_with("no changes in what both snapshots cover; 1 thing(s) not compared (above)\n"));
    let back = text("one made for prod only, then a full snapshot: staging is not compared");
    assert!(back.contains("cluster LON1/staging: outside the older snapshot, which covers only cluster(s) prod of LON1: not compared; if its pods call you, allow 74.220.24.20"), "{back}");
    assert!(!back.contains("added"), "{back}");
    let region = text("a cluster of a region the newer selection did not read is not compared");
    assert!(region.contains("cluster FRA1/prod: outside the newer snapshot, which covers LON1:"), "{region}");
    let gone = text("a region the newer selection read and found empty: its cluster was deleted");
    assert!(gone.contains("cluster prod removed") && gone.contains("remove 74.220.26.44"), "{gone}");
    assert_eq!(text("the same snapshot"), "no changes\n");
    let caveat = text("a caveat appears");
    assert_eq!(caveat, "cluster prod: new caveat gateway-missing: as discovery saw it\n");
}

#[test]
fn the_json_names_the_not_compared_cluster() {
    let row = rows().into_iter().find(|r| r.what == "a cluster the newer left out is unknown, not removed").unwrap();
    let value = serde_json::to_value(diff(&row.old, &row.new)).unwrap();
    assert_eq!(value["changes"], json!([]));
    assert_eq!(value["warnings"][0]["kind"], "not-compared");
    assert_eq!(value["warnings"][0]["cluster"], "LON1/prod");
    let row = rows().into_iter().find(|r| r.what == "a public-IP pool's pending count grows").unwrap();
    let value = serde_json::to_value(diff(&row.old, &row.new)).unwrap();
    assert_eq!(
        value["changes"][0],
        json!({"change": "public-ip-pending-changed", "cluster": "prod", "pool": "edge", "old": 1, "new": 2})
    );
    let row = rows().into_iter().find(|r| r.what == "a caveat appears").unwrap();
    let value = serde_json::to_value(diff(&row.old, &row.new)).unwrap();
    assert_eq!(value["changes"][0]["change"], "caveat-added");
    assert_eq!(value["changes"][0]["caveat"]["kind"], "gateway-missing");
}

#[test]
fn new_change_kinds_have_stable_names() {
    for (kind, name) in [
        (ChangeKind::PublicIpPoolAdded, "public-ip-pool-added"),
        (ChangeKind::PublicIpPoolRemoved, "public-ip-pool-removed"),
        (ChangeKind::PublicIpPendingChanged, "public-ip-pending-changed"),
        (ChangeKind::CaveatAdded, "caveat-added"),
        (ChangeKind::CaveatRemoved, "caveat-removed"),
    ] {
        assert_eq!((kind.as_str(), name.parse::<ChangeKind>().unwrap()), (name, kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), name);
    }
    assert!(ChangeKind::ALL.len() >= 15);
    let e = "egress-moved".parse::<ChangeKind>().unwrap_err();
    assert!(e.to_string().contains("egress-changed"), "the error names the known kinds: {e}");
}
