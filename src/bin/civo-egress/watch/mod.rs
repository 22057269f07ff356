//! `watch`: the egress under watch, as events on stdout and metrics over
//! HTTP (`/metrics`, `/healthz`, `/readyz`).

mod exec;
mod http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, SystemTime};

use civo_egress::resolve::{DnsEchoSource, DnsEchoStyle, EgressSource, HttpEchoSource, Vantage};
use civo_egress::watch::{Event, EventKind, Metrics, Origin, WatchState, Watcher};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;

use self::exec::Exec;
use self::http::{Served, router};

use crate::failure::{Failure, runtime, usage, watch_failure, watch_state};
use crate::remote::{AccountArgs, deadline};

/// `--format json|text` of the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    /// One JSON object per line: `{"time", "kind", ...}`.
    Json,
    /// One sentence per line, for people.
    Text,
}

/// `watch`'s arguments.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Watch a snapshot file (`civo-egress discover`'s), read again at each refresh, instead of the
    /// Civo API.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["clusters", "regions", "all_regions", "api_url"])]
    topology: Option<PathBuf>,
    #[command(flatten)]
    account: AccountArgs,
    /// Seconds between refreshes, jittered by 10 % (0: back to back).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    interval: u64,
    /// Where to serve /metrics, /healthz and /readyz.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    listen: SocketAddr,
    /// A partner's allowlist, NAME=FILE (one IP or CIDR per line; repeatable), read again at each
    /// refresh.
    #[arg(long = "allowlist", value_name = "NAME=FILE")]
    allowlists: Vec<String>,
    /// Observe the egress with echo services too: the cluster the watcher runs in (proven by its pod's
    /// service account CA), or the only one watched, is judged on what they saw.
    #[arg(long)]
    observe: bool,
    /// An HTTP echo service URL (repeatable; replaces the default public services).
    #[arg(long = "echo-url", value_name = "URL", requires = "observe")]
    echo_urls: Vec<String>,
    /// A DNS echo server (repeatable; replaces the default public services).
    #[arg(long = "dns-server", value_name = "IP:PORT", requires = "observe")]
    dns_servers: Vec<String>,
    /// How many echo services must agree.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "observe")]
    quorum: usize,
    /// Where the echo services are asked from: `pod` (inside the cluster) or `host`. Default: a pod of
    /// a watched cluster when its service-account CA is that cluster's (recorded by discover), else a
    /// host, whose observations prove nothing (the verdict stays expected, with a warning).
    #[arg(long, value_name = "pod|host", requires = "observe")]
    vantage: Option<Vantage>,
    /// Run `sh -c CMD` for each event, the event's JSON on its stdin (never blocking the watch;
    /// failures are logged and counted in civo_egress_exec_failures_total).
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// Seconds an --exec command may run before it is killed.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    exec_timeout: u64,
    /// Refresh once, print the events and the state, and exit: 0 when every allowlist lets in every
    /// egress IP and every verdict is ok, 1 on a finding, 3 when the refresh failed.
    #[arg(long)]
    once: bool,
    /// The events' format.
    #[arg(long, value_enum, default_value = "json")]
    format: EventFormat,
    /// Deadline of one refresh, in seconds (the Civo API's requests and retries).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
}

/// `watch`.
pub fn watch(args: WatchArgs) -> Result<ExitCode, Failure> {
    let rt = runtime()?;
    let watcher = rt.block_on(async { build(&args) })?;
    let code = if args.once { rt.block_on(once(watcher, &args)) } else { rt.block_on(serve(watcher, &args)) };
    // A blocking lookup (the system's DNS configuration) must not hold the exit.
    rt.shutdown_background();
    code
}

fn build(args: &WatchArgs) -> Result<Watcher, Failure> {
    let origin = match &args.topology {
        Some(path) if path.as_os_str() == "-" => {
            return Err(Failure::Usage("watch reads --topology again at each refresh: name a file, not -".into()));
        }
        Some(path) => Origin::Snapshot(path.clone()),
        None => {
            Origin::Civo { client: args.account.client(deadline(args.timeout))?, selection: args.account.selection() }
        }
    };
    let mut builder = Watcher::builder(origin).interval(Duration::from_secs(args.interval));
    for spec in &args.allowlists {
        let Some((name, path)) = spec.split_once('=') else {
            return Err(Failure::Usage(format!("--allowlist {spec:?}: expected NAME=FILE")));
        };
        builder = builder.allowlist(name, path);
    }
    if args.observe {
        for source in observers(&args.echo_urls, &args.dns_servers)? {
            builder = builder.shared_observer(source);
        }
        builder = builder.quorum(args.quorum);
        if let Some(vantage) = args.vantage {
            builder = builder.vantage(vantage);
        }
    }
    builder.build().map_err(|e| watch_failure(&e))
}

/// The echo services: the caller's, or the default public ones.
fn observers(echo_urls: &[String], dns_servers: &[String]) -> Result<Vec<Arc<dyn EgressSource>>, Failure> {
    let mut all: Vec<Arc<dyn EgressSource>> = Vec::new();
    if echo_urls.is_empty() && dns_servers.is_empty() {
        all.extend(HttpEchoSource::defaults().into_iter().map(|s| Arc::new(s) as Arc<dyn EgressSource>));
        all.extend(DnsEchoSource::defaults().into_iter().map(|s| Arc::new(s) as Arc<dyn EgressSource>));
        return Ok(all);
    }
    for url in echo_urls {
        all.push(Arc::new(HttpEchoSource::new(url).map_err(usage)?));
    }
    for server in dns_servers {
        let addr: SocketAddr =
            server.parse().map_err(|_| Failure::Usage(format!("--dns-server {server:?} is not IP:PORT")))?;
        all.push(Arc::new(DnsEchoSource::new(DnsEchoStyle::Either, addr)));
    }
    Ok(all)
}

/// One event as its line.
fn line(event: &Event, format: EventFormat) -> String {
    match format {
        EventFormat::Json => event.to_json(),
        EventFormat::Text => event.to_string(),
    }
}

/// A failed refresh and a recovery are logged too: stdout is the events',
/// stderr says what went wrong.
fn log(event: &Event) {
    match event.kind() {
        EventKind::RefreshFailed { error } => note!("refresh failed: {error}"),
        EventKind::RefreshRecovered { failures } => note!("refresh succeeded after {failures} failure(s)"),
        _ => {}
    }
}

/// `--once`: one refresh, its events (each handed to `--exec`, waited
/// for), then the state as a last line.
async fn once(mut watcher: Watcher, args: &WatchArgs) -> Result<ExitCode, Failure> {
    let events = watcher.refresh().await;
    let exec = args.exec.as_deref().map(|cmd| Exec::new(cmd, Duration::from_secs(args.exec_timeout)));
    let mut runs = Vec::new();
    for event in &events {
        // No log line: a failure is the one error line below.
        say!("{}", line(event, args.format));
        runs.extend(exec.as_ref().and_then(|exec| exec.spawn(event.to_json())));
    }
    for run in runs {
        let _ = run.await;
    }
    if let Some(error) = watcher.last_error() {
        return Err(watch_failure(error));
    }
    let state = watcher.state();
    let clear = state.is_clear();
    match args.format {
        EventFormat::Json => {
            let time = events.first().map_or_else(SystemTime::now, Event::time);
            let line = StateLine { time: rfc3339(time), kind: "state", clear, state };
            say!("{}", serde_json::to_string(&line).map_err(|e| Failure::Runtime(e.to_string()))?);
        }
        EventFormat::Text => print_state(state, clear),
    }
    Ok(watch_state(clear))
}

fn print_state(state: &WatchState, clear: bool) {
    let list = |ips: &[std::net::IpAddr]| ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    for cluster in state.clusters() {
        say!("{}: {} {}", cluster.cluster(), cluster.status(), list(cluster.egress_ips()));
        for coverage in cluster.allowlists() {
            if coverage.is_covered() {
                say!("  allowlist {}: covers every egress IP", coverage.allowlist());
            } else if coverage.is_egress_known() {
                say!("  allowlist {}: lacks {}", coverage.allowlist(), list(coverage.missing()));
            } else {
                say!(
                    "  allowlist {}: lacks {} of the known IPs; the egress set is not fully known",
                    coverage.allowlist(),
                    if coverage.missing().is_empty() { "none".to_owned() } else { list(coverage.missing()) }
                );
            }
        }
        for caveat in cluster.caveats() {
            say!("  warning: {caveat}");
        }
    }
    for warning in state.warnings() {
        say!("warning: {warning}");
    }
    if state.clusters().is_empty() {
        say!("no cluster: nothing is watched (a region without clusters, another account's key?)");
    }
    say!("{}", if clear { "clear" } else { "not clear: see the findings above" });
}

/// `--once --format json`'s last line: the state, shaped like an event.
#[derive(serde::Serialize)]
struct StateLine<'a> {
    time: String,
    kind: &'static str,
    clear: bool,
    state: &'a WatchState,
}

/// RFC 3339 to the millisecond, as the events' times.
fn rfc3339(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string())
        .unwrap_or_default()
}

/// The lines bound for stdout, written by a thread of their own: a stdout
/// that blocks (a pipe no one reads) never holds the watch, the endpoints
/// or the signals. Past [`QUEUED`] lines waiting, a line is dropped and
/// counted.
struct Printer {
    lines: SyncSender<String>,
    dropped: Counter<u64>,
    thread: std::thread::JoinHandle<()>,
}

/// Lines that may wait for stdout.
const QUEUED: usize = 4096;

impl Printer {
    fn start() -> Self {
        let (lines, received) = std::sync::mpsc::sync_channel::<String>(QUEUED);
        let thread = std::thread::spawn(move || {
            for line in received {
                say!("{line}");
            }
        });
        Self { lines, dropped: Counter::default(), thread }
    }

    /// Lets the lines queued be written, for at most `within` (a stdout
    /// that blocks must not hold the exit).
    fn finish(self, within: Duration) {
        drop(self.lines);
        let started = std::time::Instant::now();
        while !self.thread.is_finished() && started.elapsed() < within {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn print(&self, line: String) {
        if let Err(TrySendError::Full(_)) = self.lines.try_send(line)
            && self.dropped.inc() == 0
        {
            note!("standard output does not keep up: events are dropped (civo_egress_events_dropped_total)");
        }
    }
}

/// Runs until SIGTERM or SIGINT: the endpoints served from the start
/// (`/readyz` 503 until a refresh succeeds), the watcher in a task, each
/// event printed and handed to `--exec`.
async fn serve(mut watcher: Watcher, args: &WatchArgs) -> Result<ExitCode, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let handle = |kind| signal(kind).map_err(|e| Failure::Runtime(format!("cannot handle signals: {e}")));
    let (mut terminate, mut interrupt) = (handle(SignalKind::terminate())?, handle(SignalKind::interrupt())?);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    let printer = Printer::start();
    let exec = args.exec.as_deref().map(|cmd| Exec::new(cmd, Duration::from_secs(args.exec_timeout)));
    let mut metrics = Metrics::new(watcher.subscribe());
    let registry = metrics.registry_mut();
    let help = "Events not printed: standard output did not keep up";
    registry.register("civo_egress_events_dropped", help, printer.dropped.clone());
    if let Some(exec) = &exec {
        let help = "--exec commands that failed, timed out, could not start or were not handed an event";
        registry.register("civo_egress_exec_failures", help, exec.failures.clone());
    }
    // A refresh may be in flight for up to its deadline.
    let ready_within = watcher.interval() * 3 + Duration::from_secs(args.timeout);
    let app = router(Served { metrics, state: watcher.subscribe(), ready_within });
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
    });
    note!("watching; metrics on http://{}/metrics", args.listen);
    let tell = |event: &Event| {
        printer.print(line(event, args.format));
        log(event);
        if let Some(exec) = &exec {
            exec.spawn(event.to_json());
        }
    };
    // The first refresh here: a mistake of the user's (a cluster name that
    // matches none, a malformed snapshot) stops the watch at once (exit 2)
    // rather than failing at every interval; the API failing does not.
    let first = tokio::select! {
        events = watcher.refresh() => Some(events),
        _ = terminate.recv() => None,
        _ = interrupt.recv() => None,
    };
    let mut stopping = first.is_none();
    for event in first.iter().flatten() {
        tell(event);
    }
    let mistake = watcher.last_error().map(watch_failure).filter(|f| matches!(f, Failure::Usage(_)));
    stopping |= mistake.is_some();
    let (events, mut received) = mpsc::channel::<Event>(256);
    let watching = (!stopping).then(|| tokio::spawn(watcher.run(events)));
    while !stopping {
        tokio::select! {
            event = received.recv() => match event {
                Some(event) => tell(&event),
                None => stopping = true,
            },
            _ = interrupt.recv() => stopping = true,
            _ = terminate.recv() => stopping = true,
        }
    }
    if let Some(watching) = watching {
        watching.abort();
    }
    if let Some(exec) = &exec {
        exec.kill_all();
    }
    let _ = stop.send(true);
    // Open connections get a moment; the exit never waits longer than that.
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    printer.finish(Duration::from_millis(500));
    match mistake {
        Some(failure) => Err(failure),
        None => {
            note!("stopped");
            Ok(ExitCode::SUCCESS)
        }
    }
}
