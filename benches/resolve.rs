//! `resolve_egress` against loopback echo servers, one of which never
//! answers: the time from the quorum-th answer to the return.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/server.rs"]
mod server;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use civo_egress::{EgressResolver, EgressSource, EgressStatus, EvidenceKind, HttpEchoSource, IpFamily, SourceError};
use criterion::{Criterion, criterion_group, criterion_main};

/// Wraps a source and records when it answered.
#[derive(Debug)]
struct Timed {
    inner: HttpEchoSource,
    answered: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl EgressSource for Timed {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn kind(&self) -> EvidenceKind {
        self.inner.kind()
    }
    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let result = self.inner.gather(family).await;
        self.answered.lock().unwrap().push(Instant::now());
        result
    }
}

fn quorum_to_return(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answered = Arc::new(Mutex::new(Vec::new()));
    let resolver = runtime.block_on(async {
        let honest = server::echo("74.220.24.10\n").await;
        let hung = server::echo_reply(server::Reply::Silence).await;
        let mut builder = EgressResolver::builder()
            .quorum(2)
            .deadline(Duration::from_secs(30))
            .source_timeout(Duration::from_secs(30));
        for url in [&hung, &honest, &honest] {
            builder =
                builder.source(Timed { inner: HttpEchoSource::new(url).unwrap(), answered: Arc::clone(&answered) });
        }
        builder.build().unwrap()
    });
    let mut group = c.benchmark_group("resolve");
    group.bench_function("quorum_to_return_one_hung", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                answered.lock().unwrap().clear();
                let report = runtime.block_on(resolver.resolve());
                let returned = Instant::now();
                assert_eq!(report.status(), EgressStatus::Observed, "{report:?}");
                let quorum_reached = *answered.lock().unwrap().iter().max().unwrap();
                total += returned - quorum_reached;
            }
            total
        })
    });
    group.bench_function("whole_resolution_one_hung", |b| {
        b.iter(|| runtime.block_on(resolver.resolve()));
    });

    // The CLI's default size: six observers, two of them hung. The outcome is
    // decided at the fourth agreeing answer (then no one can tie).
    let answered6 = Arc::new(Mutex::new(Vec::new()));
    let six = runtime.block_on(async {
        let honest = server::echo("74.220.24.10\n").await;
        let hung = server::echo_reply(server::Reply::Silence).await;
        let mut builder = EgressResolver::builder()
            .quorum(2)
            .deadline(Duration::from_secs(30))
            .source_timeout(Duration::from_secs(30));
        for url in [&hung, &honest, &honest, &hung, &honest, &honest] {
            builder =
                builder.source(Timed { inner: HttpEchoSource::new(url).unwrap(), answered: Arc::clone(&answered6) });
        }
        builder.build().unwrap()
    });
    group.bench_function("deciding_answer_to_return_six_two_hung", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                answered6.lock().unwrap().clear();
                let report = runtime.block_on(six.resolve());
                let returned = Instant::now();
                assert_eq!(report.status(), EgressStatus::Observed, "{report:?}");
                total += returned - *answered6.lock().unwrap().iter().max().unwrap();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, quorum_to_return);
criterion_main!(benches);
