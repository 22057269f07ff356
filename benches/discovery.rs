//! Discovery of a fake account of 200 clusters and 2,000 LoadBalancers on
//! loopback: wall time, and the number of requests (which must grow with the
//! clusters, not with the LoadBalancers or nodes).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use civo_egress::civo::{CivoClient, Selection};
use common::civo_api::{Account, FakeCivo, KEY};
use criterion::{Criterion, criterion_group, criterion_main};

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

criterion_group!(benches, discovery);
criterion_main!(benches);
