//! Discovery of a fake account of 200 clusters and 2,000 LoadBalancers on
//! loopback: wall time, and the number of requests (which must grow with the
//! clusters, not with the LoadBalancers or nodes). And one run of 2,000
//! clusters where one request in ten (list pages and instances alike)
//! answers 500 (`2000_clusters_10pct_500s`): it must finish well within the
//! default 30 s deadline, one retry per failure; it reports requests, wall
//! time and the process's peak RSS. Measured once, not sampled: each run
//! waits on real backoffs (250 ms and more).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use civo_egress::civo::{CivoClient, Selection};
use common::civo_api::{Account, FakeCivo, KEY};
use common::server::Reply;
use criterion::{Criterion, criterion_group, criterion_main};

/// Whether the command line's filter (`cargo bench --bench discovery --
/// FILTER`) selects `name`; no filter selects everything.
fn wanted(name: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| name.contains(&f) || format!("discovery/{name}").contains(&f))
}

/// The process's peak resident set (`VmHWM`), in MiB, where `/proc` says.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// 2,000 clusters, one request in ten answering 500: requests, wall time
/// and peak RSS of one discovery under the default deadline.
fn faults(_: &mut Criterion) {
    let name = "2000_clusters_10pct_500s";
    if !wanted(name) {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let fake = runtime.block_on(FakeCivo::start(Account::generated(2000, 0), 100));
    let client =
        CivoClient::builder().api_key(KEY).api_url(fake.url()).deadline(Duration::from_secs(30)).build().unwrap();
    // The same discovery without faults, for the count of requests it takes.
    runtime.block_on(client.discover(&Selection::all())).unwrap();
    let clean = fake.requests().len();
    let clean_instances = fake.count("/v2/kubernetes/clusters/");
    fake.fail_every("/v2/", 10, Reply::json(500, r#"{"code":"internal","reason":"oops"}"#));
    let started = Instant::now();
    let discovered = runtime.block_on(client.discover(&Selection::all())).unwrap();
    let took = started.elapsed();
    assert_eq!(discovered.topology().clusters().len(), 2000);
    let instances = fake.count("/v2/kubernetes/clusters/") - clean_instances;
    let requests = fake.requests().len() - clean;
    let rss = peak_rss_mib().map_or_else(|| "unknown".to_owned(), |m| format!("{m:.0} MiB"));
    eprintln!(
        "discovery/{name}: {requests} requests ({} retried; {instances} for instances), {:.2} s wall time (deadline 30 s), peak RSS {rss} (the fake API included)",
        requests.saturating_sub(clean),
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
}

fn discovery(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let fake = runtime.block_on(FakeCivo::start(Account::generated(200, 2000), 100));
    let client = CivoClient::builder().api_key(KEY).api_url(fake.url()).build().unwrap();

    let discovered = runtime.block_on(client.discover(&Selection::all())).unwrap();
    let requests = fake.requests().len();
    let topology = discovered.topology();
    assert_eq!(topology.clusters().len(), 200);
    assert_eq!(topology.clusters().iter().map(|c| c.load_balancers().len()).sum::<usize>(), 2000);
    // 2 pages of clusters and a third (the second came back full, and
    // `pages` is not trusted alone), 1 of LoadBalancers, 1 of reserved IPs,
    // 1 of networks, and one request per cluster for its nodes.
    assert_eq!(requests, (2 + 1) + 1 + 1 + 1 + 200, "{requests} requests");
    eprintln!("discovery of 200 clusters and 2000 LoadBalancers: {requests} requests");

    let mut group = c.benchmark_group("discovery");
    group.sample_size(20);
    group.bench_function("200_clusters_2000_lbs", |b| {
        b.iter(|| runtime.block_on(client.discover(&Selection::all())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, discovery, faults);
criterion_main!(benches);
