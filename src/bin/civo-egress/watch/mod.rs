//! `watch`: the egress under watch, as events on stdout and metrics over
//! HTTP (`/metrics`, `/healthz`, `/readyz`).

mod exec;
mod http;
mod out;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use civo_egress::resolve::{DnsEchoSource, DnsEchoStyle, EgressSource, HttpEchoSource, Vantage};
use civo_egress::watch::{Event, EventKind, Metrics, Origin, WatchState, Watcher};
use tokio::sync::mpsc;

use self::exec::Exec;
use self::http::{Served, router};
use self::out::Out;

use crate::failure::{Failure, INTERRUPTED, runtime, usage, watch_failure, watch_state};
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

/// SIGTERM and SIGINT, as one stream.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, Failure> {
        use tokio::signal::unix::{SignalKind, signal};
        let handle = |kind| signal(kind).map_err(|e| Failure::Runtime(format!("cannot handle signals: {e}")));
        Ok(Self { terminate: handle(SignalKind::terminate())?, interrupt: handle(SignalKind::interrupt())? })
    }

    /// The next SIGTERM or SIGINT.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

/// `--once`: one refresh, its events (each handed to `--exec`, waited
/// for), then the state as a last line. Stopped by SIGTERM or SIGINT, it
/// kills its hooks and exits 130: an interrupted check is no clear one.
async fn once(watcher: Watcher, args: &WatchArgs) -> Result<ExitCode, Failure> {
    let mut signals = Signals::new()?;
    let (out, writers) = Out::start();
    let exec = args.exec.as_deref().map(|cmd| Exec::new(cmd, Duration::from_secs(args.exec_timeout), false, out));
    let checked = tokio::select! {
        checked = check_once(watcher, args, exec.as_ref()) => Some(checked),
        () = signals.recv() => None,
    };
    if let Some(exec) = &exec {
        exec.kill_all();
    }
    drop(exec);
    writers.finish(Duration::from_millis(500));
    checked.unwrap_or(Ok(ExitCode::from(INTERRUPTED)))
}

async fn check_once(mut watcher: Watcher, args: &WatchArgs, exec: Option<&Exec>) -> Result<ExitCode, Failure> {
    let events = watcher.refresh().await;
    let mut runs = Vec::new();
    for event in &events {
        // No log line: a failure is the one error line below.
        say!("{}", line(event, args.format));
        runs.extend(exec.and_then(|exec| exec.spawn(event.to_json())));
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

/// Runs until SIGTERM or SIGINT: the endpoints served from the start
/// (`/readyz` 503 until a refresh succeeds), the watcher in a task, each
/// event printed and handed to `--exec`.
async fn serve(mut watcher: Watcher, args: &WatchArgs) -> Result<ExitCode, Failure> {
    let mut signals = Signals::new()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    let (out, writers) = Out::start();
    let timeout = Duration::from_secs(args.exec_timeout);
    let exec = args.exec.as_deref().map(|cmd| Exec::new(cmd, timeout, true, out.clone()));
    let mut metrics = Metrics::new(watcher.subscribe());
    let registry = metrics.registry_mut();
    let help = "Lines of the events or the log not written: standard output or error did not keep up";
    registry.register("civo_egress_lines_dropped", help, out.dropped.clone());
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
    out.log(format!("watching; metrics on http://{}/metrics", args.listen));
    let tell = |event: &Event| {
        out.print(line(event, args.format));
        match event.kind() {
            EventKind::RefreshFailed { error } => out.log(format!("refresh failed: {error}")),
            EventKind::RefreshRecovered { failures } => {
                out.log(format!("refresh succeeded after {failures} failure(s)"));
            }
            _ => {}
        }
        if let Some(exec) = &exec {
            exec.spawn(event.to_json());
        }
    };
    // The first refresh here: a mistake of the user's (a cluster name that
    // matches none, a malformed snapshot) stops the watch at once (exit 2)
    // rather than failing at every interval; the API failing does not.
    let first = tokio::select! {
        events = watcher.refresh() => Some(events),
        () = signals.recv() => None,
    };
    for event in first.iter().flatten() {
        tell(event);
    }
    let mut outcome = match watcher.last_error().map(watch_failure) {
        Some(failure @ Failure::Usage(_)) => Err(failure),
        _ => Ok(ExitCode::SUCCESS),
    };
    if first.is_some() && outcome.is_ok() {
        let (events, mut received) = mpsc::channel::<Event>(256);
        let mut watching = tokio::spawn(watcher.run(events));
        loop {
            tokio::select! {
                event = received.recv() => match event {
                    Some(event) => tell(&event),
                    // The watcher ended by itself: it cannot, unless it failed.
                    None => {
                        let why = match (&mut watching).await {
                            Err(e) if e.is_panic() => "the watcher failed (a bug: please report it)".to_owned(),
                            _ => "the watcher stopped".to_owned(),
                        };
                        outcome = Err(Failure::Runtime(why));
                        break;
                    }
                },
                () = signals.recv() => break,
            }
        }
        watching.abort();
    }
    if let Some(exec) = &exec {
        exec.kill_all();
    }
    let _ = stop.send(true);
    // Open connections get a moment; the exit never waits longer than that.
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    if outcome.is_ok() {
        out.log("stopped".to_owned());
    }
    // Every sender gone, the writers end once their queues are written.
    drop(exec);
    drop(out);
    writers.finish(Duration::from_millis(500));
    outcome
}
