//! The crate writes no logs of its own, but its dependencies do: reqwest
//! through `log`, hickory through `tracing`. Everything they emit at TRACE
//! level while the crate talks to the fake Civo API and the echo services
//! must be free of the API key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use civo_egress::civo::{CivoClient, Selection};
use civo_egress::resolve::{DnsEchoSource, DnsEchoStyle, EgressSource, HttpEchoSource, IpFamily};
use common::civo_api::{FakeCivo, KEY};
use common::server::Reply;

/// Every record of both logging facades, as text.
static CAPTURED: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

fn captured() -> Arc<Mutex<Vec<u8>>> {
    Arc::clone(CAPTURED.get_or_init(Default::default))
}

struct LogCapture;

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let _ = writeln!(captured().lock().unwrap(), "log {} {}: {}", record.level(), record.target(), record.args());
    }
    fn flush(&self) {}
}

#[derive(Clone)]
struct Sink;

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        captured().lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_logged_at_trace_level_holds_the_key() {
    log::set_boxed_logger(Box::new(LogCapture)).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(|| Sink).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeCivo::account().await;
    let client = CivoClient::builder().api_key(KEY).api_url(fake.url()).build().unwrap();
    client.discover(&Selection::all()).await.unwrap();
    fake.fail_next("/v2/networks", Reply::json(500, format!(r#"{{"code": "x", "reason": "{KEY}"}}"#)));
    let _ = client.networks().await;
    let wrong = CivoClient::builder().api_key(format!("{KEY}-wrong")).api_url(fake.url()).build().unwrap();
    let _ = wrong.list_clusters().await;

    let echo = HttpEchoSource::new(&common::server::echo("74.220.24.10").await).unwrap();
    echo.gather(IpFamily::Both).await.unwrap();
    let dns = common::dns::FakeDns::start().await;
    dns.opendns(common::dns::Answer::Ips(vec!["74.220.24.10".parse().unwrap()]));
    DnsEchoSource::new(DnsEchoStyle::OpenDns, dns.addr).gather(IpFamily::V4).await.unwrap();

    let text = String::from_utf8_lossy(&captured().lock().unwrap()).into_owned();
    assert!(text.contains("log ") && text.lines().count() > 10, "the capture works: {text}");
    assert!(text.lines().any(|l| !l.starts_with("log ")), "tracing events were captured too: {text}");
    assert!(!text.contains(KEY), "a log line holds the key");
}
