//! Discovery's cases of issue 18 against the fake Civo API, one test per
//! case: what a cluster's snapshot carries (caveats, network identity,
//! region), what it leaves out and why, several regions, and faults. The
//! user-visible outcome through the library, and through the binary where
//! that is cheap.

#![cfg(feature = "civo-api")]

use crate::common;

use std::time::{Duration, Instant};

use civo_egress::civo::{CivoClient, CivoError, Selection};
use civo_egress::{ChangeKind, Coverage, Topology, TopologyError, WarningKind, Whitelist, diff};
use common::civo_api::{Account, FakeCivo, KEY};
use common::server::Reply;
use serde_json::Value;

const PROD: &str = "5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11";
const STAGING: &str = "9b1d7c42-6a0e-4f3b-8d2c-3e5f7a9b1c2d";

fn client(fake: &FakeCivo) -> CivoClient {
    CivoClient::builder().api_key(KEY).api_url(fake.url()).region("LON1").build().unwrap()
}

fn ip(text: &str) -> std::net::IpAddr {
    text.parse().unwrap()
}

/// The snapshot reads back equal.
fn reads_back(topology: &Topology) {
    assert_eq!(&Topology::from_json(&topology.to_json()).unwrap(), topology, "{}", topology.to_json());
}

fn caveats(topology: &Topology, cluster: &str) -> Vec<WarningKind> {
    topology.select(cluster).unwrap().caveats().iter().map(|c| c.kind()).collect()
}

/// The fixture account as another region holds it: other cluster and
/// network ids, public IPs in 74.`octet`.x.x, the same names and CIDRs.
fn elsewhere(account: &Account, octet: u8) -> Account {
    let mut ids: Vec<String> = account.clusters.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    ids.extend(account.networks.as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()));
    let swap = |v: &Value| -> Value {
        let mut text = v.to_string().replace("74.220.", &format!("74.{octet}."));
        for id in &ids {
            text = text.replace(id.as_str(), &format!("{octet}-{id}"));
        }
        serde_json::from_str(&text).unwrap()
    };
    Account {
        clusters: account.clusters.iter().map(swap).collect(),
        instances: account.instances.iter().map(|(id, v)| (format!("{octet}-{id}"), swap(v))).collect(),
        load_balancers: swap(&account.load_balancers),
        reserved_ips: account.reserved_ips.iter().map(swap).collect(),
        networks: swap(&account.networks),
        regions: account.regions.clone(),
    }
}

#[tokio::test]
async fn a_403_on_networks_is_a_caveat_on_every_cluster() {
    let fake = FakeCivo::account().await;
    fake.forbid("/v2/networks");
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let t = discovery.topology();
    assert_eq!(t.clusters().len(), 2);
    for cluster in t.clusters() {
        assert!(cluster.has_caveat(WarningKind::NetworksUnknown), "{cluster:?}");
        assert!(!cluster.network_known(), "{cluster:?}");
        assert_eq!(cluster.network(), None);
        assert_eq!(cluster.caveats()[0].cluster(), Some(cluster.label().as_str()));
    }
    let said: Vec<_> = discovery.warnings().iter().filter(|w| w.kind() == WarningKind::NetworksUnknown).collect();
    assert_eq!(said.len(), 1, "said once for the account: {:?}", discovery.warnings());
    assert!(t.to_json().contains("networks-unknown"), "{}", t.to_json());
    reads_back(t);
}

#[tokio::test]
async fn a_building_pool_node_with_its_public_ip_keeps_it_and_is_not_pending() {
    let mut account = Account::cases();
    let edge = "e1d9a6b2-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
    account.instances.get_mut(edge).unwrap()[2]["public_ip"] = "74.220.30.22".into();
    let fake = FakeCivo::start(account, 20).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let edge = discovery.topology().select("edge").unwrap();
    // pub02 has its IP: only the third node the pool asks for is pending.
    assert_eq!(edge.pending_public_nodes(), 1, "{:?}", edge.public_ip_pools());
    // It is a building node: its public IP without a private one.
    let pub02 = edge.nodes().iter().find(|n| n.name().ends_with("pub02")).unwrap();
    assert_eq!((pub02.private_ip(), pub02.public_ip()), (None, Some(ip("74.220.30.22"))));
    let pool_note = discovery.warnings().iter().find(|w| w.kind() == WarningKind::PublicIpNodePool).unwrap();
    assert!(pool_note.message().contains("74.220.30.22"), "whitelist it too: {pool_note}");
    // Its IP is in the egress set and every whitelist built from the snapshot.
    assert!(edge.egress_ips().contains(&ip("74.220.30.22")));
    assert!(Whitelist::of(discovery.topology()).unwrap().to_string().contains("74.220.30.22/32"));
    assert!(edge.to_owned().caveats().iter().all(|c| !c.message().contains("74.220.30.22")), "{:?}", edge.caveats());
    assert!(!discovery.warnings().iter().any(|w| w.kind() == WarningKind::InvalidValue && w.cluster() == Some("edge")));
    reads_back(discovery.topology());
}

#[tokio::test]
async fn two_regions_with_the_same_names_and_cidrs_are_both_kept() {
    let lon = Account::fixture();
    let fra = elsewhere(&lon, 221);
    let fake = FakeCivo::start_regions(vec![("LON1", lon), ("FRA1", fra)], 1).await;
    let discovery = client(&fake).discover(&Selection::all().region("LON1").region("FRA1")).await.unwrap();
    let t = discovery.topology();
    let labels: Vec<String> = t.clusters().iter().map(|c| c.label()).collect();
    assert_eq!(labels, ["LON1/prod", "LON1/staging", "FRA1/prod", "FRA1/staging"]);
    let (lon_prod, fra_prod) = (t.select("LON1/prod").unwrap(), t.select("fra1/prod").unwrap());
    assert_eq!(lon_prod.network_cidrs(), fra_prod.network_cidrs(), "the same CIDR in both regions");
    assert_ne!(lon_prod.network(), fra_prod.network(), "but two networks");
    assert_eq!(fra_prod.network().unwrap().name(), Some("prod-net"));
    assert_eq!(fra_prod.egress_ip(), ip("74.221.24.10"));
    assert!(
        matches!(t.select("prod"), Err(TopologyError::AmbiguousCluster { candidates, .. }) if candidates.len() == 2)
    );
    assert_eq!(
        Whitelist::of(t).unwrap().to_string(),
        "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n74.221.24.10/32\n74.221.24.77/32\n74.221.26.44/32\n"
    );
    // Warnings name the cluster with its region.
    assert!(discovery.warnings().iter().any(|w| w.cluster() == Some("FRA1/prod")), "{:?}", discovery.warnings());
    reads_back(t);
    // One request per region and list, one per cluster: not per node.
    assert_eq!(fake.count("/v2/kubernetes/clusters/"), 4, "{:?}", fake.requests());
    assert_eq!(fake.requests().iter().filter(|r| r.contains("region=FRA1")).count(), (2 + 1) + 2 + (3 + 1) + 1 + 1);
}

#[tokio::test]
async fn two_networks_of_one_region_with_one_cidr_are_told_apart() {
    let mut account = Account::fixture();
    account.networks[0]["cidr"] = "192.168.10.0/24".into(); // Default, staging's, now prod-net's CIDR too
    let fake = FakeCivo::start(account, 1).await;
    let t = client(&fake).discover(&Selection::all()).await.unwrap().into_parts().0;
    let (prod, staging) = (t.select("prod").unwrap(), t.select("staging").unwrap());
    assert_eq!(prod.network_cidrs(), staging.network_cidrs());
    let ids: Vec<(&str, Option<&str>)> =
        [prod, staging].iter().map(|c| c.network().map(|n| (n.id(), n.name())).unwrap()).collect();
    assert_eq!(
        ids,
        [
            ("0f3a2b1c-4d5e-4f60-8a7b-9c0d1e2f3a4b", Some("prod-net")),
            ("7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d", Some("Default"))
        ]
    );
    reads_back(&t);
}

#[tokio::test]
async fn same_name_clusters_in_one_region_are_both_kept() {
    let mut account = Account::fixture();
    account.clusters[1]["name"] = "prod".into();
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let t = discovery.topology();
    assert_eq!(t.clusters().len(), 2, "{:?}", discovery.warnings());
    assert!(matches!(t.select("prod"), Err(TopologyError::AmbiguousCluster { .. })));
    assert_eq!(t.select(STAGING).unwrap().egress_ip(), ip("74.220.26.44"));
    // Named, both are discovered.
    let named = client(&fake).discover(&Selection::all().cluster("prod")).await.unwrap();
    assert_eq!(named.topology().clusters().len(), 2);
    reads_back(t);
}

#[tokio::test]
async fn a_cluster_left_out_is_recorded_with_why() {
    let mut account = Account::fixture();
    account.clusters[1]["status"] = "BUILDING".into();
    account.clusters[1]["master_ip"] = "".into();
    account.instances.remove(PROD); // deleted between the list and the fetch
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let t = discovery.topology();
    assert!(t.clusters().is_empty());
    let left: Vec<(&str, WarningKind, Option<&str>, Option<&str>)> =
        t.left_out().iter().map(|l| (l.name(), l.kind(), l.id(), l.region())).collect();
    assert_eq!(
        left,
        [
            ("prod", WarningKind::ClusterGone, Some(PROD), Some("LON1")),
            ("staging", WarningKind::NoEgressIp, Some(STAGING), Some("LON1"))
        ]
    );
    assert!(t.left_out()[1].reason().contains("no usable egress IP"), "{}", t.left_out()[1]);
    assert!(t.warnings().iter().all(|w| w.kind() == WarningKind::LeftOut));
    reads_back(t);
    // Named, the selection is unmet, with the reason.
    let named = client(&fake).discover(&Selection::all().cluster("staging")).await.unwrap();
    let [(query, why)] = named.unmet() else { panic!("{:?}", named.unmet()) };
    assert_eq!((query.as_str(), why.kind()), ("staging", WarningKind::NoEgressIp));
    assert!(client(&fake).discover(&Selection::all()).await.unwrap().unmet().is_empty(), "nothing was named");
}

#[tokio::test]
async fn cilium_on_a_vlan_without_its_gateway_carries_every_caveat() {
    let mut account = Account::fixture();
    account.clusters[0]["cni_plugin"] = "cilium".into();
    account.networks[1]["vlan_id"] = 120.into();
    account.instances.get_mut(PROD).unwrap()[0]["public_ip"] = "".into();
    let fake = FakeCivo::start(account, 1).await;
    let discovery = client(&fake).discover(&Selection::all()).await.unwrap();
    let t = discovery.topology();
    let prod = caveats(t, "prod");
    for kind in [WarningKind::EgressUnmeasured, WarningKind::VlanConnected, WarningKind::GatewayMissing] {
        assert!(prod.contains(&kind), "{kind}: {prod:?}");
        assert!(discovery.warnings().iter().any(|w| w.kind() == kind && w.cluster() == Some("prod")));
    }
    assert!(!prod.contains(&WarningKind::PublicIpNodePool), "its nodes' IPs are in the snapshot already");
    assert!(caveats(t, "staging").is_empty());
    reads_back(t);
}

#[tokio::test]
async fn every_region_offering_kubernetes_is_discovered() {
    let lon = Account::fixture(); // its regions: LON1 and NYC1, both with Kubernetes
    let nyc = elsewhere(&lon, 222);
    let fake = FakeCivo::start_regions(vec![("LON1", lon), ("NYC1", nyc)], 1).await;
    let discovery = client(&fake).discover(&Selection::all_regions()).await.unwrap();
    let regions: Vec<Option<&str>> = discovery.topology().clusters().iter().map(|c| c.region()).collect();
    assert_eq!(regions, [Some("LON1"), Some("LON1"), Some("NYC1"), Some("NYC1")]);
    assert_eq!(fake.count("/v2/regions"), 1);

    // A region the key may not list degrades; the others are kept.
    fake.forbid("NYC1:/v2/kubernetes/clusters");
    let discovery = client(&fake).discover(&Selection::all_regions()).await.unwrap();
    assert_eq!(discovery.topology().clusters().len(), 2);
    let failed: Vec<_> = discovery.warnings().iter().filter(|w| w.kind() == WarningKind::RegionFailed).collect();
    assert_eq!(failed.len(), 1, "{:?}", discovery.warnings());
    assert!(failed[0].message().contains("NYC1"), "{}", failed[0]);

    // A refused key is never a partial answer.
    fake.fail_next("/v2/networks", Reply::json(401, common::civo_api::fixture("civogo/error_401.json")));
    let error = client(&fake).discover(&Selection::all_regions()).await.unwrap_err();
    assert!(matches!(error, CivoError::Unauthorized { .. }), "{error}");
}

fn coverage(regions: &[&str], clusters: &[&str]) -> Coverage {
    Coverage::new(regions.iter().copied()).unwrap().with_clusters(clusters.iter().copied()).unwrap()
}

#[tokio::test]
async fn the_snapshot_records_the_selection_it_was_made_with() {
    let lon = Account::fixture();
    let fra = elsewhere(&lon, 221);
    let fake = FakeCivo::start_regions(vec![("LON1", lon), ("FRA1", fra)], 1).await;
    let discover = |selection: Selection| {
        let client = client(&fake);
        async move { client.discover(&selection).await.unwrap().into_parts().0 }
    };
    // `--cluster prod`: the client's region, the cluster as asked.
    let prod = discover(Selection::all().cluster("prod")).await;
    assert_eq!(prod.coverage(), Some(&coverage(&["LON1"], &["prod"])), "{}", prod.to_json());
    reads_back(&prod);
    let value: Value = serde_json::from_str(&prod.to_json()).unwrap();
    assert_eq!(value["selection"], serde_json::json!({"clusters": ["prod"], "regions": ["LON1"]}));
    // Every cluster of the regions asked, in the order asked.
    let both = discover(Selection::all().region("FRA1").region("LON1")).await;
    assert_eq!(both.coverage(), Some(&coverage(&["FRA1", "LON1"], &[])));
    reads_back(&both);
    // Several clusters, as written (by id, by REGION/NAME).
    let named = discover(Selection::all().region("LON1").region("FRA1").cluster(STAGING).cluster("FRA1/prod")).await;
    assert_eq!(named.coverage(), Some(&coverage(&["LON1", "FRA1"], &[STAGING, "FRA1/prod"])));
    assert_eq!(named.clusters().len(), 2);

    // A full snapshot, then one made for prod: staging is not compared, not removed.
    let full = discover(Selection::all()).await;
    assert_eq!(full.coverage(), Some(&coverage(&["LON1"], &[])));
    let d = diff(&full, &prod);
    assert!(d.changes().is_empty() && !d.has_egress_drift(), "{d}");
    assert_eq!(d.warnings().iter().map(|w| w.cluster()).collect::<Vec<_>>(), [Some("LON1/staging")], "{d}");
    // A region outside the other's selection: not compared either way.
    let d = diff(&both, &full);
    assert!(d.changes().iter().all(|c| c.kind() != ChangeKind::ClusterRemoved), "{d}");
    let clusters: Vec<Option<&str>> = d.warnings().iter().map(|w| w.cluster()).collect();
    assert_eq!(clusters, [Some("FRA1/prod"), Some("FRA1/staging"), None], "and the reserved IPs: {d}");
}

#[tokio::test]
async fn every_region_read_is_recorded_and_a_failed_one_is_not() {
    let lon = Account::fixture(); // its regions: LON1 and NYC1, both with Kubernetes
    let nyc = elsewhere(&lon, 222);
    let fake = FakeCivo::start_regions(vec![("LON1", lon), ("NYC1", nyc)], 1).await;
    let all = client(&fake).discover(&Selection::all_regions()).await.unwrap().into_parts().0;
    assert_eq!(all.coverage(), Some(&coverage(&["LON1", "NYC1"], &[])));
    fake.forbid("NYC1:/v2/kubernetes/clusters");
    let partial = client(&fake).discover(&Selection::all_regions()).await.unwrap().into_parts().0;
    assert_eq!(partial.coverage(), Some(&coverage(&["LON1"], &[])), "NYC1 was not read");
    // So NYC1's clusters are unknown to it, not removed.
    let d = diff(&all, &partial);
    assert!(d.changes().is_empty() && !d.is_complete(), "{d}");
}

#[tokio::test]
async fn a_hung_request_is_retried() {
    let fake = FakeCivo::account().await;
    let client = CivoClient::builder()
        .api_key(KEY)
        .api_url(fake.url())
        .region("LON1")
        .request_timeout(Duration::from_millis(300))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap();
    let instances = format!("/v2/kubernetes/clusters/{STAGING}/instances");
    fake.fail_next(&instances, Reply::Silence);
    fake.fail_next("/v2/loadbalancers", Reply::Silence);
    let discovery = client.discover(&Selection::all()).await.unwrap();
    assert_eq!(discovery.topology().clusters().len(), 2);
    assert_eq!(fake.count(&instances), 2, "asked again after the timeout");
    assert_eq!(fake.count("/v2/loadbalancers"), 2);
}

#[tokio::test]
async fn ten_percent_of_500s_still_finish_in_time() {
    let fake = FakeCivo::start(Account::generated(300, 0), 100).await;
    fake.fail_every("/v2/kubernetes/clusters/", 10, Reply::json(500, r#"{"code":"internal","reason":"oops"}"#));
    let client = CivoClient::builder()
        .api_key(KEY)
        .api_url(fake.url())
        .region("LON1")
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let discovery = client.discover(&Selection::all()).await.unwrap();
    assert_eq!(discovery.topology().clusters().len(), 300);
    // One retry per failed request, never one per node: 300 + 30 + (3 of the 30).
    let asked = fake.count("/v2/kubernetes/clusters/");
    assert!((330..=340).contains(&asked), "{asked}");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    let names: Vec<&str> = discovery.topology().clusters().iter().map(|c| c.name()).take(3).collect();
    assert_eq!(names, ["c0", "c1", "c2"], "in the listed order, whatever order they came back in");
}

#[tokio::test]
async fn a_region_code_that_cannot_be_one_makes_no_request() {
    let fake = FakeCivo::account().await;
    for bad in ["LON 1".to_owned(), "A".repeat(120_000), "lon1&region=FRA1".to_owned()] {
        let error = client(&fake).discover(&Selection::all().region(bad.clone())).await.unwrap_err();
        assert!(matches!(error, CivoError::InvalidRegion { .. }) && error.is_config(), "{error}");
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[tokio::test]
async fn the_civo_source_passes_discovery_warnings_on() {
    use civo_egress::resolve::{CivoSource, EgressSource, IpFamily};
    let fake = FakeCivo::start(Account::cases(), 20).await;
    let source = CivoSource::new(client(&fake), "scaling");
    assert!(source.warnings().is_empty(), "nothing before it gathers");
    assert_eq!(source.gather(IpFamily::V4).await.unwrap(), [ip("74.220.35.10")]);
    let kinds: Vec<WarningKind> = source.warnings().iter().map(|w| w.kind()).collect();
    assert!(kinds.contains(&WarningKind::NotActive) && kinds.contains(&WarningKind::NotReady), "{kinds:?}");
    // Asked again (another family), the warnings are not repeated.
    source.gather(IpFamily::V6).await.unwrap();
    assert_eq!(source.warnings().len(), kinds.len());
    // And the resolver's report carries them.
    let report = civo_egress::resolve::EgressResolver::builder()
        .cluster("scaling")
        .source(CivoSource::new(client(&fake), "scaling"))
        .vantage(civo_egress::resolve::Vantage::Host)
        .build()
        .unwrap()
        .resolve()
        .await;
    let reported: Vec<WarningKind> = report.warnings().iter().map(|w| w.kind()).collect();
    assert!(reported.contains(&WarningKind::NotActive) && reported.contains(&WarningKind::NotReady), "{reported:?}");
}

/// The binary, run with a clean environment and the fake's key.
#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use std::process::{Command, Output};

    async fn run(args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_civo-egress"))
                .args(&args)
                .env_clear()
                .env("HOME", "/nonexistent")
                .env("CIVO_TOKEN", KEY)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    fn stderr(out: &Output) -> String {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    #[tokio::test]
    async fn a_named_cluster_left_out_exits_3_with_why_and_an_unknown_one_2() {
        let mut account = Account::fixture();
        account.clusters[1]["master_ip"] = "".into();
        let fake = FakeCivo::start(account, 1).await;
        let url = fake.url();
        let out = run(&["discover", "--api-url", &url, "--region", "LON1", "--cluster", "staging"]).await;
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains("left out") && stderr(&out).contains("no-egress-ip"), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        let out = run(&["discover", "--api-url", &url, "--cluster", "nope"]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        // Unnamed, the snapshot records it and the run succeeds.
        let out = run(&["discover", "--api-url", &url, "--region", "LON1"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let t = Topology::from_json(&String::from_utf8_lossy(&out.stdout)).unwrap();
        assert_eq!(t.left_out()[0].name(), "staging");
    }

    #[tokio::test]
    async fn all_regions_and_repeated_regions_make_one_snapshot() {
        let lon = Account::fixture();
        let nyc = elsewhere(&lon, 222);
        let fake = FakeCivo::start_regions(vec![("LON1", lon), ("NYC1", nyc)], 1).await;
        let url = fake.url();
        for args in [vec!["--all-regions"], vec!["--region", "LON1", "--region", "NYC1"]] {
            let mut all = vec!["discover", "--api-url", &url];
            all.extend(args);
            let out = run(&all).await;
            assert_eq!(out.status.code(), Some(0), "{all:?}: {}", stderr(&out));
            let t = Topology::from_json(&String::from_utf8_lossy(&out.stdout)).unwrap();
            let labels: Vec<String> = t.clusters().iter().map(|c| c.label()).collect();
            assert_eq!(labels, ["LON1/prod", "LON1/staging", "NYC1/prod", "NYC1/staging"]);
        }
        let out = run(&["discover", "--api-url", &url, "--all-regions", "--region", "LON1"]).await;
        assert_eq!(out.status.code(), Some(2), "they conflict: {}", stderr(&out));
    }

    #[tokio::test]
    async fn the_binarys_snapshot_records_its_selection_and_diff_reads_it() {
        let lon = Account::fixture();
        let nyc = elsewhere(&lon, 222);
        let fake = FakeCivo::start_regions(vec![("LON1", lon), ("NYC1", nyc)], 1).await;
        let url = fake.url();
        let mut files = Vec::new();
        for (name, args, expected) in [
            ("prod", vec!["--region", "LON1", "--cluster", "prod"], coverage(&["LON1"], &["prod"])),
            ("lon1", vec!["--region", "LON1"], coverage(&["LON1"], &[])),
            ("two", vec!["--region", "NYC1", "--region", "LON1"], coverage(&["NYC1", "LON1"], &[])),
            ("all", vec!["--all-regions"], coverage(&["LON1", "NYC1"], &[])),
        ] {
            let mut all = vec!["discover", "--api-url", &url];
            all.extend(args);
            let out = run(&all).await;
            assert_eq!(out.status.code(), Some(0), "{all:?}: {}", stderr(&out));
            let t = Topology::from_json(&String::from_utf8_lossy(&out.stdout)).unwrap();
            assert_eq!(t.coverage(), Some(&expected), "{all:?}");
            let path = std::env::temp_dir().join(format!("civo-egress-selection-{}-{name}.json", std::process::id()));
            std::fs::write(&path, &out.stdout).unwrap();
            files.push(path.to_str().unwrap().to_owned());
        }
        // A full LON1 snapshot against one made for prod: staging not compared, never removed.
        let out = run(&["diff", &files[1], &files[0]]).await;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(1), "incomplete: {text}{}", stderr(&out));
        assert!(
            text.contains("not compared: cluster LON1/staging: outside the newer snapshot, which covers only cluster(s) prod of LON1"),
            "{text}"
        );
        assert!(!text.contains("remove"), "{text}");
        // Every region against LON1 only: NYC1's clusters are not compared.
        let out = run(&["diff", "--format", "json", &files[3], &files[1]]).await;
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (json["drift"].as_bool(), json["changes"].as_array().map(Vec::len)),
            (Some(false), Some(0)),
            "{json}"
        );
        assert_eq!(json["warnings"][1]["cluster"], "NYC1/staging", "{json}");
        assert_eq!(json["warnings"].as_array().map(Vec::len), Some(3), "and the reserved IPs: {json}");
        // The same regions in another order: all compared, all clear.
        let out = run(&["diff", &files[2], &files[3]]).await;
        assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(0), "no changes\n"));
        for file in files {
            let _ = std::fs::remove_file(file);
        }
    }

    #[tokio::test]
    async fn a_bad_region_is_bad_input() {
        let fake = FakeCivo::account().await;
        let url = fake.url();
        let huge = "L".repeat(120_000);
        for region in ["LON 1", huge.as_str(), "NYC9"] {
            let out = run(&["discover", "--api-url", &url, "--region", region]).await;
            assert_eq!(out.status.code(), Some(2), "{:.40}: {}", region, stderr(&out));
            assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
            assert!(stderr(&out).len() < 400, "{}", stderr(&out));
        }
        assert!(fake.requests().iter().all(|r| r.contains("region=NYC9")), "{:?}", fake.requests());
    }

    /// `discover` to a file, then another command of the binary on it.
    async fn discovered(fake: &FakeCivo, name: &str, regions: &[&str]) -> std::path::PathBuf {
        let url = fake.url();
        let mut args = vec!["discover", "--api-url", url.as_str()];
        for r in regions {
            args.extend(["--region", r]);
        }
        let out = run(&args).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let path = std::env::temp_dir().join(format!("civo-egress-discovered-{}-{name}.json", std::process::id()));
        std::fs::write(&path, &out.stdout).unwrap();
        path
    }

    fn stdout(out: &Output) -> String {
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[tokio::test]
    async fn what_discovery_knew_reaches_every_command_run_on_its_snapshot() {
        // Cilium, a VLAN network, no gateway instance, Talos, IPv6, a pool
        // node without an IP: the cases account.
        let fake = FakeCivo::start(Account::cases(), 20).await;
        let path = discovered(&fake, "cases", &[]).await;
        let snapshot = path.to_str().unwrap();
        let out = run(&["whitelist", "--topology", snapshot, "--format", "nftables"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let file = stdout(&out);
        for kind in ["vlan-connected", "gateway-missing", "talos", "ipv6-unmeasured", "public-ip-pending", "not-active"]
        {
            assert!(file.contains(&format!("# warning: {kind}: ")), "{kind}: {file}");
        }
        assert!(file.contains("# INCOMPLETE: "), "{file}");
        let allowlist = std::env::temp_dir().join(format!("civo-egress-discovered-{}-allow.txt", std::process::id()));
        std::fs::write(&allowlist, stdout(&run(&["whitelist", "--topology", snapshot]).await)).unwrap();
        let audit = run(&["audit", "--topology", snapshot, allowlist.to_str().unwrap()]).await;
        assert_eq!(audit.status.code(), Some(1), "never all clear: {}", stdout(&audit));
        assert!(stdout(&audit).contains("cannot be judged"), "{}", stdout(&audit));
        // resolve on the snapshot carries the cluster's caveats.
        let resolve =
            run(&["resolve", "--topology", snapshot, "--cluster", "vlan", "--no-observe", "--format", "json"]).await;
        let report: Value = serde_json::from_slice(&resolve.stdout).unwrap_or(Value::Null);
        let kinds: Vec<&str> =
            report["warnings"].as_array().into_iter().flatten().filter_map(|w| w["kind"].as_str()).collect();
        assert!(kinds.contains(&"vlan-connected"), "{kinds:?}: {}", stderr(&resolve));
    }

    #[tokio::test]
    async fn a_403_on_networks_refuses_a_destination_through_the_binary() {
        let fake = FakeCivo::account().await;
        fake.forbid("/v2/networks");
        let path = discovered(&fake, "no-networks", &[]).await;
        let out = run(&["whitelist", "--topology", path.to_str().unwrap(), "--destination", "192.168.10.50"]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "never the egress IPs as a guess");
        assert!(stderr(&out).contains("network is unknown"), "{}", stderr(&out));
    }

    #[tokio::test]
    async fn two_regions_with_one_cidr_are_refused_as_a_destination_and_named_by_region() {
        let lon = Account::fixture();
        let fra = elsewhere(&lon, 221);
        let fake = FakeCivo::start_regions(vec![("LON1", lon), ("FRA1", fra)], 1).await;
        let path = discovered(&fake, "two-regions", &["LON1", "FRA1"]).await;
        let snapshot = path.to_str().unwrap();
        let out = run(&["whitelist", "--topology", snapshot, "--destination", "192.168.1.50"]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("several clusters"), "{}", stderr(&out));
        let out = run(&["whitelist", "--topology", snapshot, "--cluster", "prod"]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("LON1/prod") && stderr(&out).contains("FRA1/prod"), "{}", stderr(&out));
        let one =
            run(&["whitelist", "--topology", snapshot, "--cluster", "FRA1/prod", "--destination", "192.168.1.50"])
                .await;
        assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
        assert!(!stdout(&one).is_empty());
    }
    #[tokio::test]
    async fn two_networks_of_one_region_with_one_cidr_refuse_a_destination_through_the_binary() {
        let mut account = Account::fixture();
        account.networks[0]["cidr"] = "192.168.10.0/24".into();
        let fake = FakeCivo::start(account, 1).await;
        let path = discovered(&fake, "one-region-one-cidr", &[]).await;
        let snapshot = path.to_str().unwrap();
        let out = run(&["whitelist", "--topology", snapshot, "--destination", "192.168.10.50"]).await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "never the union of both clusters' nodes");
        assert!(stderr(&out).contains("prod-net") && stderr(&out).contains("Default"), "{}", stderr(&out));
        let one =
            run(&["whitelist", "--topology", snapshot, "--destination", "192.168.10.50", "--cluster", "staging"]).await;
        assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    }

    #[tokio::test]
    async fn a_building_pool_node_with_its_public_ip_is_in_the_binarys_whitelist() {
        let mut account = Account::cases();
        account.instances.get_mut("e1d9a6b2-3c4d-4e5f-8a6b-7c8d9e0f1a2b").unwrap()[2]["public_ip"] =
            "74.220.30.22".into();
        let fake = FakeCivo::start(account, 20).await;
        let path = discovered(&fake, "building", &[]).await;
        let out = run(&["whitelist", "--topology", path.to_str().unwrap(), "--cluster", "edge"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).contains("74.220.30.22/32\n"), "{}", stdout(&out));
    }
}
