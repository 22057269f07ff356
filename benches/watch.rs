//! The watcher (feature `watch`) over a 200-cluster snapshot file with three
//! partner allowlists: a scrape (`Metrics::render`, the bar is 1 ms
//! for 200 clusters), and a refresh of the unchanged snapshot (read, parse,
//! allowlists checked, the pure step, no event).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use civo_egress::watch::{Metrics, Origin, Watcher};
use civo_egress::{Cluster, Node, PublicIpPool, Topology};
use criterion::{Criterion, criterion_group, criterion_main};

const CLUSTERS: usize = 200;
const REGIONS: [&str; 3] = ["LON1", "FRA1", "NYC1"];

/// The i-th cluster's gateway, then its two pool nodes' IPs: distinct
/// across clusters (74.220.0.1 to 74.220.3.248).
fn egress(i: usize) -> [IpAddr; 3] {
    let (hi, lo) = (u8::try_from(i / 50).unwrap(), u8::try_from(i % 50 * 5).unwrap());
    [1, 2, 3].map(|k| IpAddr::V4(Ipv4Addr::new(74, 220, hi, lo + k)))
}

fn topology() -> Topology {
    let clusters = (0..CLUSTERS)
        .map(|i| {
            let [gateway, pool_a, pool_b] = egress(i);
            let private = |n: u8| {
                IpAddr::V4(Ipv4Addr::new(10, u8::try_from(i / 250).unwrap(), u8::try_from(i % 250).unwrap(), n))
            };
            Cluster::builder(format!("c{i}"))
                .region(REGIONS[i % 3])
                .id(format!("cluster-{i:04}"))
                .egress_ip(gateway)
                .public_ip_pool(PublicIpPool::new(format!("edge-{i}"), 0).unwrap())
                .node(Node::new(format!("c{i}-gw"), private(3)).unwrap().with_public_ip(gateway))
                .node(Node::new(format!("c{i}-w1"), private(4)).unwrap())
                .node(Node::new(format!("c{i}-w2"), private(5)).unwrap())
                .node(Node::new(format!("c{i}-edge-a"), private(6)).unwrap().with_public_ip(pool_a))
                .node(Node::new(format!("c{i}-edge-b"), private(7)).unwrap().with_public_ip(pool_b))
                .build()
                .unwrap()
        })
        .collect();
    Topology::new(clusters, vec![], vec![]).unwrap()
}

/// Three allowlists that cover most clusters, not all: `a` lists every IP
/// but every tenth cluster's second pool node; `b` is CIDRs missing the
/// last 50 clusters; `c` lists every IP of the clusters not multiples of 7.
fn allowlists() -> [(&'static str, String); 3] {
    let listed = |keep: &dyn Fn(usize, usize) -> bool| {
        let mut text = String::new();
        for i in 0..CLUSTERS {
            for (k, ip) in egress(i).iter().enumerate() {
                if keep(i, k) {
                    text.push_str(&format!("{ip}\n"));
                }
            }
        }
        text
    };
    [
        ("partner-a", listed(&|i, k| !(i % 10 == 0 && k == 2))),
        ("partner-b", "# offices and clusters\n74.220.0.0/23\n74.220.2.0/24\n".to_owned()),
        ("partner-c", listed(&|i, _| i % 7 != 0)),
    ]
}

fn watch(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("civo-egress-bench-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot: PathBuf = dir.join("account.json");
    std::fs::write(&snapshot, topology().to_json()).unwrap();
    let mut builder = Watcher::builder(Origin::Snapshot(snapshot));
    for (name, text) in allowlists() {
        let path = dir.join(format!("{name}.txt"));
        std::fs::write(&path, text).unwrap();
        builder = builder.allowlist(name, path);
    }
    let mut watcher = builder.build().unwrap();
    let metrics = Metrics::new(watcher.subscribe());
    let first = runtime.block_on(watcher.refresh());
    assert_eq!(first.iter().filter(|e| e.kind().name() == "cluster-added").count(), CLUSTERS);
    let uncovered = first.iter().filter(|e| e.kind().name() == "allowlist-uncovered").count();
    assert_eq!(uncovered, 20 + 50 + 29, "a, b and c each miss some clusters");
    let text = metrics.render();
    assert_eq!(text.lines().filter(|l| l.starts_with("civo_egress_ip_info{")).count(), 3 * CLUSTERS);
    assert!(runtime.block_on(watcher.refresh()).is_empty(), "unchanged: no event");

    let mut group = c.benchmark_group("watch");
    group.bench_function("metrics_render_200_clusters", |b| b.iter(|| black_box(metrics.render())));
    group.bench_function("refresh_snapshot_200_clusters", |b| {
        b.iter(|| {
            let events = runtime.block_on(watcher.refresh());
            assert!(events.is_empty());
            black_box(events)
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, watch);
criterion_main!(benches);
