//! `resolve_egress` against loopback echo servers: the time from the last
//! answer to the return (the verdict and the report), and a whole
//! resolution with one observer that never answers (the resolver hears
//! every source out, so that one costs its timeout).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/server.rs"]
mod server;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use civo_egress::resolve::{
    EgressResolver, EgressSource, EgressStatus, EvidenceKind, HttpEchoSource, IpFamily, SourceError, Vantage,
    async_trait,
};
use criterion::{Criterion, criterion_group, criterion_main};

/// Wraps a source and records when it answered.
#[derive(Debug)]
struct Timed {
    inner: HttpEchoSource,
    answered: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl EgressSource for Timed {
    fn name(&self) -> &str {
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

/// A resolver over loopback echo servers: `honest` that answer, `hung` that
/// never do (listed first), each recording when it answered.
struct Bench {
    resolver: EgressResolver,
    answered: Arc<Mutex<Vec<Instant>>>,
}

impl Bench {
    fn new(runtime: &tokio::runtime::Runtime, hung: usize, honest: usize, timeout: Duration) -> Self {
        let answered = Arc::new(Mutex::new(Vec::new()));
        let resolver = runtime.block_on(async {
            let honest_url = server::echo("74.220.24.10\n").await;
            let hung_url = server::echo_reply(server::Reply::Silence).await;
            let urls = std::iter::repeat_n(&hung_url, hung).chain(std::iter::repeat_n(&honest_url, honest));
            // From a pod: the observations are the egress (`Observed`).
            let mut builder = EgressResolver::builder()
                .vantage(Vantage::Pod)
                .quorum(2)
                .deadline(Duration::from_secs(30))
                .source_timeout(timeout);
            for url in urls {
                let inner = HttpEchoSource::new(url).unwrap();
                builder = builder.source(Timed { inner, answered: Arc::clone(&answered) });
            }
            builder.build().unwrap()
        });
        Self { resolver, answered }
    }

    /// Total time from the last answer to the return.
    fn last_answer_to_return(&self, runtime: &tokio::runtime::Runtime, iterations: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iterations {
            self.answered.lock().unwrap().clear();
            let report = runtime.block_on(self.resolver.resolve());
            let returned = Instant::now();
            assert_eq!(report.status(), EgressStatus::Observed, "{report:?}");
            total += returned - *self.answered.lock().unwrap().iter().max().unwrap();
        }
        total
    }
}

fn answers_to_return(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let long = Duration::from_secs(30);
    let three = Bench::new(&runtime, 0, 3, long);
    // The CLI's default size.
    let six = Bench::new(&runtime, 0, 6, long);
    // One that never answers, with a 50 ms timeout: the price of hearing
    // every source out (an order-independent verdict).
    let hung = Bench::new(&runtime, 1, 2, Duration::from_millis(50));
    let mut group = c.benchmark_group("resolve");
    group.bench_function("last_answer_to_return_three", |b| {
        b.iter_custom(|iterations| three.last_answer_to_return(&runtime, iterations))
    });
    group.bench_function("last_answer_to_return_six", |b| {
        b.iter_custom(|iterations| six.last_answer_to_return(&runtime, iterations))
    });
    group.bench_function("whole_resolution_three", |b| b.iter(|| runtime.block_on(three.resolver.resolve())));
    group.sample_size(20);
    group.bench_function("whole_resolution_one_hung_50ms", |b| b.iter(|| runtime.block_on(hung.resolver.resolve())));
    group.finish();
}

criterion_group!(benches, answers_to_return);
criterion_main!(benches);
