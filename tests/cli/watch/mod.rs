//! `civo-egress watch`, run as a user runs it against the fake Civo API:
//! `--once`'s exit codes, a long watch's events in order, `--exec`, the
//! HTTP endpoints, Prometheus (promtool, and a real server scraping), and
//! the footprint of a long run.
//!
//! The shared helpers live here; the tests, by concern, in `once` (`--once`'s
//! verdicts), `changes` (a long watch's events, readiness and signals),
//! `exec`, `observe` and `scrape` (Prometheus and the footprint).

mod changes;
mod exec;
mod observe;
mod once;
mod scrape;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::common::civo_api::{Account, FakeCivo, KEY};
use super::common::server::{Reply, serve};
use super::{assert_bad_input, binary, run_with, stderr, stdout, tmp};

const PROD: &str = "LON1/prod";
const STAGING: &str = "LON1/staging";
const PROD_ID: &str = "5e0c6a3e-2d4f-4b8a-9a59-0c1f3f0e7a11";
const KINDS: [&str; 11] = [
    "cluster-added",
    "egress-changed",
    "allowlist-uncovered",
    "allowlist-covered",
    "refresh-failed",
    "refresh-recovered",
    "incomplete",
    "complete",
    "cluster-left-out",
    "verdict-changed",
    "state",
];

/// The fake Civo API, served by a runtime of its own while the test's
/// thread runs the binary.
struct Api {
    civo: FakeCivo,
    url: String,
    _runtime: tokio::runtime::Runtime,
}

fn api(account: Account, per_page: usize) -> Api {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let civo = runtime.block_on(FakeCivo::start(account, per_page));
    Api { url: civo.url(), civo, _runtime: runtime }
}

/// The API answers 500 to the next `n` requests for the clusters.
fn fail(api: &Api, n: usize) {
    for _ in 0..n {
        api.civo.fail_next("/v2/kubernetes/clusters", Reply::json(500, r#"{"code":"internal_error"}"#));
    }
}

/// One line of output: a JSON object with an RFC 3339 UTC time and a known kind.
fn event(line: &str) -> Value {
    let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let time = value["time"].as_str().unwrap_or_else(|| panic!("no time: {line}"));
    assert!(time.ends_with('Z') && time.parse::<jiff::Timestamp>().is_ok(), "not RFC 3339 UTC: {line}");
    assert!(KINDS.contains(&value["kind"].as_str().unwrap_or_default()), "{line}");
    value
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

fn once(api: &Api, key: &str, extra: &[&str]) -> Output {
    let args = [&["watch", "--once", "--api-url", &api.url][..], extra].concat();
    run_with(&args, &[("CIVO_TOKEN", key)])
}

/// A 127.0.0.1 port nothing listens on (bound, read, closed).
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// GET `http://{addr}{path}`: the status and the body (HTTP/1.1 by hand).
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, mut body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    if !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return Some((status, body.to_owned()));
    }
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some((status, out));
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// A sample's value in Prometheus text: `series` is the name and labels.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls `check` every 100 ms until it gives a value, for up to `secs`.
fn eventually<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "after {secs} s still not: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running `civo-egress watch`: its events as they come, its endpoints.
struct Watch {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    held: Option<Value>,
    log: PathBuf,
}

/// Starts `civo-egress watch ARGS --listen ADDR` on a free port (another,
/// should the port be taken meanwhile) and waits for its /healthz.
fn watch(args: &[&str]) -> Watch {
    let mut attempt = 0;
    loop {
        let addr = free_addr();
        let log = tmp(&format!("watch-{}.log", addr.replace([':', '.'], "-")), "");
        let mut child = Command::new(binary())
            .arg("watch")
            .args(args)
            .args(["--listen", &addr])
            .env_clear()
            .env("HOME", "/nonexistent")
            .env("CIVO_TOKEN", KEY)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let (send, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || out.lines().map_while(Result::ok).try_for_each(|l| send.send(l)));
        let mut watch = Watch { child, addr, lines, held: None, log };
        let up = eventually(10, "listening or exited", || match watch.child.try_wait().unwrap() {
            Some(_) => Some(false),
            None => get(&watch.addr, "/healthz").map(|(status, _)| status == 200),
        });
        if up {
            return watch;
        }
        attempt += 1;
        assert!(attempt < 3, "watch did not start: {}", watch.log());
    }
}

impl Watch {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The next event (up to 20 s).
    fn next(&mut self) -> Value {
        if let Some(held) = self.held.take() {
            return held;
        }
        let line = self.lines.recv_timeout(Duration::from_secs(20));
        event(&line.unwrap_or_else(|e| panic!("no event ({e}); stderr: {}", self.log())))
    }

    /// The next refresh's events: those of one time.
    fn batch(&mut self) -> Vec<Value> {
        let mut batch = vec![self.next()];
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(300)) {
            let event = event(&line);
            if event["time"] != batch[0]["time"] {
                self.held = Some(event);
                break;
            }
            batch.push(event);
        }
        batch
    }

    fn metrics(&self) -> String {
        let (status, body) = get(&self.addr, "/metrics").unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    fn status(&self, path: &str) -> u16 {
        get(&self.addr, path).unwrap().0
    }

    /// Sends `signal` (TERM, INT): it must exit within 3 s.
    fn stop(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-s", signal, &pid]).status().unwrap().success());
        let sent = Instant::now();
        let status = eventually(3, &format!("exited on SIG{signal}"), || self.child.try_wait().unwrap());
        eprintln!("SIG{signal}: exited in {:?}", sent.elapsed());
        status
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A snapshot of one cluster leaving from `ip`.
fn snapshot(path: &PathBuf, ip: &str) {
    let json = json!({"clusters": [{"name": "lab", "region": "LON1", "egress_ip": ip}]});
    std::fs::write(path, json.to_string()).unwrap();
}

/// An HTTP echo service on 127.0.0.1, served by a runtime of its own: every
/// request gets the body `set` last gave (an egress IP, say).
struct Echo {
    url: String,
    body: std::sync::Arc<std::sync::Mutex<String>>,
    _runtime: tokio::runtime::Runtime,
}

fn echo(body: &str) -> Echo {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let body = std::sync::Arc::new(std::sync::Mutex::new(body.to_owned()));
    let said = std::sync::Arc::clone(&body);
    let addr = runtime.block_on(serve(move |_| Reply::text(200, "text/plain", said.lock().unwrap().clone())));
    Echo { url: format!("http://{addr}/"), body, _runtime: runtime }
}

impl Echo {
    fn set(&self, body: &str) {
        *self.body.lock().unwrap() = body.to_owned();
    }
}

/// The `--once` lines: every event, then the state line (checked as an
/// event, `kind` "state").
fn lines(out: &Output) -> Vec<Value> {
    stdout(out).lines().map(event).collect()
}

/// Sets `field` of the account's cluster `name`.
fn set_cluster(account: &mut Account, name: &str, field: &str, value: Value) {
    let cluster = account.clusters.iter_mut().find(|c| c["name"] == name).unwrap();
    cluster[field] = value;
}
